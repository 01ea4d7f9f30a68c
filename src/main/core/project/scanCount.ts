// Scan step 3, count: images per class and folder split, the checks that make a folder trainable (no empty
// class, at least two classes), and identical files (leakage across folder splits, duplicates within one).
import { join } from 'node:path'
import type { ClassCounts, LeakageGroup, ScannedImage, SplitName, UnreadableFile } from '@shared/domain'
import { SPLIT_NAMES } from '@shared/domain'
import { oneClassError, ProjectError } from './errors'
import { groupIdentical } from './leakage'
import type { Walk } from './scanWalk'

export interface DuplicateGroup {
  hash: string
  paths: string[]
}

/** Images per class and folder split; throws a ProjectError for an empty class or a single class. */
export function countClasses(
  absRoot: string,
  walk: Pick<Walk, 'layout' | 'splitDirs' | 'classFolders'>,
  images: readonly ScannedImage[],
  unreadable: readonly UnreadableFile[]
): { folderSplits: SplitName[]; classes: ClassCounts[] } {
  const { layout, splitDirs, classFolders } = walk
  const folderSplits = SPLIT_NAMES.filter((s) => splitDirs.has(s))
  const classes: ClassCounts[] = []
  for (const name of [...classFolders.keys()].sort()) {
    const counts: ClassCounts['counts'] = {}
    if (layout === 'flat') counts.all = 0
    for (const s of folderSplits) counts[s] = 0
    classes.push({ name, counts, total: 0 })
  }
  const byName = new Map(classes.map((c) => [c.name, c]))
  for (const img of images) {
    const c = byName.get(img.className)
    if (!c) continue
    const key = img.folderSplit ?? 'all'
    c.counts[key] = (c.counts[key] ?? 0) + 1
    c.total++
  }

  const empty = classes.filter((c) => c.total === 0)
  if (empty.length > 0) {
    const first = empty[0] as ClassCounts
    const folders = classFolders.get(first.name) ?? [first.name]
    const bad = unreadable.filter((u) => folders.some((f) => u.path.startsWith(`${f}/`)))
    const detail =
      bad.length > 0
        ? ` (${bad.length} unreadable: ${bad
            .slice(0, 3)
            .map((u) => `${u.path}: ${u.reason}`)
            .join('; ')}${bad.length > 3 ? '; ...' : ''})`
        : ''
    const others =
      empty.length > 1
        ? `; also empty: ${empty
            .slice(1)
            .map((c) => `"${c.name}"`)
            .join(', ')}`
        : ''
    throw new ProjectError(
      'EMPTY_CLASS',
      `class "${first.name}" has no readable images in ${folders.join(', ')}${detail}${others}`,
      join(absRoot, folders[0] ?? first.name)
    )
  }
  if (classes.length === 1) {
    const only = classes[0] as ClassCounts
    throw oneClassError(only.name, absRoot)
  }

  return { folderSplits, classes }
}

/** Groups of identical files: across folder splits they are leakage, otherwise duplicates. */
export function identicalFiles(
  layout: Walk['layout'],
  images: readonly ScannedImage[]
): { leakage: LeakageGroup[]; duplicates: DuplicateGroup[] } {
  const leakage: LeakageGroup[] = []
  const duplicates: DuplicateGroup[] = []
  for (const group of groupIdentical(images)) {
    const splits = [...new Set(group.map((g) => g.folderSplit))]
    if (layout === 'presplit' && splits.length > 1) {
      leakage.push({
        hash: group[0]?.hash ?? '',
        paths: group.map((g) => g.path),
        splits: SPLIT_NAMES.filter((s) => splits.includes(s))
      })
    } else {
      duplicates.push({ hash: group[0]?.hash ?? '', paths: group.map((g) => g.path) })
    }
  }

  return { leakage, duplicates }
}
