import type { LeakageGroup, ScannedImage, SplitName } from '@shared/domain'
import { SPLIT_NAMES } from '@shared/domain'

/** Groups of two or more images with the same content hash, each group sorted by path; groups ordered by first path. */
export function groupIdentical(images: readonly ScannedImage[]): ScannedImage[][] {
  const byHash = new Map<string, ScannedImage[]>()
  for (const img of images) {
    const list = byHash.get(img.hash)
    if (list) list.push(img)
    else byHash.set(img.hash, [img])
  }
  const groups = [...byHash.values()].filter((g) => g.length > 1)
  for (const g of groups) g.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
  groups.sort((a, b) => ((a[0]?.path ?? '') < (b[0]?.path ?? '') ? -1 : 1))
  return groups
}

/** Identical files (same sha256) that were assigned to different splits. Images without an assignment are ignored. */
export function findLeakage(
  images: readonly ScannedImage[],
  assignment: ReadonlyMap<string, SplitName>
): LeakageGroup[] {
  const out: LeakageGroup[] = []
  for (const group of groupIdentical(images.filter((i) => assignment.has(i.path)))) {
    const splits = new Set(group.map((g) => assignment.get(g.path)))
    if (splits.size < 2) continue
    out.push({
      hash: group[0]?.hash ?? '',
      paths: group.map((g) => g.path),
      splits: SPLIT_NAMES.filter((s) => splits.has(s))
    })
  }
  return out
}
