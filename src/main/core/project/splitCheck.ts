// A split a run can train on: every class has at least one training image. Checked before a split is stored, so
// a command that would fail on it stores nothing (and later runs do not reuse it).
import type { ScannedImage, SplitName } from '@shared/domain'
import { ProjectError } from './errors'

export function checkTrainSplit(images: readonly ScannedImage[], assignment: ReadonlyMap<string, SplitName>): void {
  const inTrain = new Set<string>()
  const classes = new Set<string>()
  for (const im of images) {
    classes.add(im.className)
    if (assignment.get(im.path) === 'train') inTrain.add(im.className)
  }
  if (inTrain.size === 0) throw new ProjectError('BAD_SPLIT', 'split: the train split is empty (nothing stored)')
  const missing = [...classes].filter((c) => !inTrain.has(c)).sort()
  if (missing.length > 0) {
    const names = missing.map((c) => `'${c}'`).join(', ')
    throw new ProjectError(
      'BAD_SPLIT',
      `split: class ${names} has no image in the train split (nothing stored): give train a larger ratio or add images`
    )
  }
}
