// What training, evaluation and the counts see once the overrides are applied: an excluded image leaves every
// split, a relabelled one keeps its path (so its split) with its new class.
import type { ClassCounts, ScannedImage } from '@shared/domain'
import type { LabelCounts, LabelOverride } from './types'

export interface EffectiveImages {
  images: ScannedImage[]
  /** The overrides that changed something in `images` (what a run records as used). */
  used: LabelOverride[]
  counts: LabelCounts
}

/** Applies overrides (matched by path, see LabelOverrideStore.resolve) to scanned images. */
export function withOverrides(images: readonly ScannedImage[], overrides: Iterable<LabelOverride>): EffectiveImages {
  const byPath = new Map<string, LabelOverride>()
  for (const o of overrides) byPath.set(o.relPath, o)
  const out: ScannedImage[] = []
  const used: LabelOverride[] = []
  const counts: LabelCounts = { relabelled: 0, excluded: 0 }
  for (const img of images) {
    const o = byPath.get(img.path)
    if (!o || o.contentHash !== img.hash) {
      out.push(img)
    } else if (o.excluded) {
      used.push(o)
      counts.excluded++
    } else if (o.newClass !== null && o.newClass !== img.className) {
      used.push(o)
      counts.relabelled++
      out.push({ ...img, className: o.newClass })
    } else {
      out.push(img)
    }
  }
  return { images: out, used, counts }
}

/** Class counts (per folder split, as the scan gives them) of the images after overrides; every class is kept. */
export function classCountsAfter(classes: readonly ClassCounts[], images: readonly ScannedImage[]): ClassCounts[] {
  const out = classes.map((c) => ({
    name: c.name,
    counts: Object.fromEntries(Object.keys(c.counts).map((k) => [k, 0])) as ClassCounts['counts'],
    total: 0
  }))
  const byName = new Map(out.map((c) => [c.name, c]))
  for (const img of images) {
    const c = byName.get(img.className)
    if (!c) continue
    const key = img.folderSplit ?? 'all'
    c.counts[key] = (c.counts[key] ?? 0) + 1
    c.total++
  }
  return out
}
