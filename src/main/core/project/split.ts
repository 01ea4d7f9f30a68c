// Assigning images to train / validation / test: stratified per class, seeded, independent of listing order.
//
// Rounding (ratios): per class of n images, validation gets round(n * rv) and test round(n * rt)
// (capped so they never exceed n), train gets the rest. If that leaves train empty while the train
// ratio is > 0 and n >= 2, one image is moved back to train from the larger of validation/test.
// Identical files (same hash) of one class are kept together in one split, so duplicates do not leak.
import type { ScannedImage, SplitName, SplitStrategy } from '@shared/domain'
import { SPLIT_NAMES } from '@shared/domain'
import { createRng, deriveSeed } from '../util/rng'
import { ProjectError } from './errors'
import { findLeakage } from './leakage'

export { findLeakage }

const RATIO_TOLERANCE = 1e-6

function byPath(a: ScannedImage, b: ScannedImage): number {
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0
}

export function validateRatios(ratios: readonly number[]): [number, number, number] {
  if (ratios.length !== 3)
    throw new ProjectError('BAD_RATIOS', `split ratios need 3 numbers (train, validation, test), got ${ratios.length}`)
  for (const [i, r] of ratios.entries()) {
    if (!Number.isFinite(r) || r < 0)
      throw new ProjectError('BAD_RATIOS', `${SPLIT_NAMES[i]} ratio must be a non-negative number, got ${r}`)
  }
  const [a, b, c] = ratios as [number, number, number]
  const sum = a + b + c
  if (Math.abs(sum - 1) > RATIO_TOLERANCE) {
    const hint = Math.abs(sum - 100) < 1e-4 ? ` (percentages? use ${a / 100},${b / 100},${c / 100})` : ''
    throw new ProjectError('BAD_RATIOS', `split ratios must sum to 1, got ${a}+${b}+${c} = ${+sum.toFixed(9)}${hint}`)
  }
  return [a, b, c]
}

/** Parses "0.8,0.1,0.1" (also '/', ':' or spaces as separators) into validated train/validation/test ratios. */
export function parseRatios(text: string): [number, number, number] {
  const parts = text
    .trim()
    .split(/\s*[,/:]\s*|\s+/)
    .filter((p) => p !== '')
  if (parts.length !== 3)
    throw new ProjectError(
      'BAD_RATIOS',
      `split ratios need 3 numbers "train,validation,test" such as 0.8,0.1,0.1; got "${text}"`
    )
  const nums = parts.map((p) => {
    const v = Number(p)
    if (!/^[+]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(p) || !Number.isFinite(v))
      throw new ProjectError('BAD_RATIOS', `"${p}" in split ratios "${text}" is not a number`)
    return v
  })
  return validateRatios(nums)
}

function groupByClass(images: readonly ScannedImage[]): Map<string, ScannedImage[]> {
  const out = new Map<string, ScannedImage[]>()
  for (const img of [...images].sort(byPath)) {
    const list = out.get(img.className)
    if (list) list.push(img)
    else out.set(img.className, [img])
  }
  return out
}

/** Per-class target counts, following the rounding rule above. */
export function splitCounts(n: number, ratios: readonly [number, number, number]): Record<SplitName, number> {
  let validation = Math.min(n, Math.round(n * ratios[1]))
  let test = Math.min(n - validation, Math.round(n * ratios[2]))
  if (ratios[0] > 0 && n >= 2 && n - validation - test < 1) {
    if (validation >= test) validation--
    else test--
  }
  return { train: n - validation - test, validation, test }
}

function assignByRatios(
  images: readonly ScannedImage[],
  ratios: [number, number, number],
  seed: number,
  out: Map<string, SplitName>
): void {
  for (const [cls, list] of groupByClass(images)) {
    // Units of identical files (same hash), ordered by their first path, then shuffled.
    const units = new Map<string, ScannedImage[]>()
    for (const img of list) {
      const u = units.get(img.hash)
      if (u) u.push(img)
      else units.set(img.hash, [img])
    }
    const order = createRng(deriveSeed(seed, `ratios:${cls}`)).shuffle([...units.values()])
    const target = splitCounts(list.length, ratios)
    let position = 0
    for (const unit of order) {
      const split: SplitName =
        position < target.validation ? 'validation' : position < target.validation + target.test ? 'test' : 'train'
      for (const img of unit) out.set(img.path, split)
      position += unit.length
    }
  }
}

function assignByFolder(
  images: readonly ScannedImage[],
  testFromVal: number,
  seed: number,
  out: Map<string, SplitName>
): void {
  if (!Number.isFinite(testFromVal) || testFromVal < 0 || testFromVal > 1) {
    throw new ProjectError('BAD_SPLIT', `testFromVal must be a fraction in [0, 1], got ${testFromVal}`)
  }
  const unsplit = images.find((i) => i.folderSplit === null)
  if (unsplit)
    throw new ProjectError(
      'BAD_SPLIT',
      `cannot use the folder split: ${unsplit.path} is not inside a train/validation/test folder`,
      unsplit.path
    )
  const validation: ScannedImage[] = []
  for (const img of images) {
    out.set(img.path, img.folderSplit as SplitName)
    if (img.folderSplit === 'validation') validation.push(img)
  }
  if (testFromVal === 0) return
  for (const [cls, list] of groupByClass(validation)) {
    const moved = Math.round(list.length * testFromVal)
    const order = createRng(deriveSeed(seed, `testFromVal:${cls}`)).shuffle([...list])
    for (const img of order.slice(0, moved)) out.set(img.path, 'test')
  }
}

/** Split of every image, keyed by image.path. Same images + strategy + seed give the same map, whatever the input order. */
export function assignSplits(images: readonly ScannedImage[], strategy: SplitStrategy): Map<string, SplitName> {
  const out = new Map<string, SplitName>()
  if (!Number.isFinite(strategy.seed))
    throw new ProjectError('BAD_SPLIT', `split seed must be a number, got ${strategy.seed}`)
  if (strategy.kind === 'ratios') assignByRatios(images, validateRatios(strategy.ratios), strategy.seed, out)
  else if (strategy.kind === 'folder') assignByFolder(images, strategy.testFromVal, strategy.seed, out)
  else throw new ProjectError('BAD_SPLIT', `unknown split strategy ${JSON.stringify(strategy)}`)
  return out
}

/** The part of a stored split that keeps images where they were. */
export interface KeptSplit {
  strategy: SplitStrategy
  assignment: ReadonlyMap<string, SplitName>
  byContent: ReadonlyMap<string, SplitName>
}

/**
 * The split of `images` under `strategy`. A stored split of the same strategy keeps every image it has where it
 * was (found by path, else by content: a file "apply to folders" moved), so fixing labels or adding photos does not
 * reshuffle the test set; images it does not have get the strategy's own assignment. A folder split still follows
 * the folders: an image moved to another split folder goes where its folder says.
 */
export function assignKeeping(
  images: readonly ScannedImage[],
  strategy: SplitStrategy,
  stored: KeptSplit | null
): Map<string, SplitName> {
  const fresh = assignSplits(images, strategy)
  if (!stored || JSON.stringify(stored.strategy) !== JSON.stringify(strategy)) return fresh
  const out = new Map<string, SplitName>()
  for (const img of images) {
    const kept = stored.assignment.get(img.path) ?? stored.byContent.get(img.hash)
    const fits =
      kept !== undefined &&
      (strategy.kind !== 'folder' || (img.folderSplit === 'validation' ? kept !== 'train' : kept === img.folderSplit))
    out.set(img.path, fits ? kept : (fresh.get(img.path) as SplitName))
  }
  return out
}

/** Images per class and split (every class gets all three splits, zero when empty). Classes in name order. */
export function countBySplit(
  images: readonly ScannedImage[],
  assignment: ReadonlyMap<string, SplitName>
): Record<string, Record<SplitName, number>> {
  const out: Record<string, Record<SplitName, number>> = {}
  for (const cls of [...new Set(images.map((i) => i.className))].sort()) out[cls] = { train: 0, validation: 0, test: 0 }
  for (const img of images) {
    const split = assignment.get(img.path)
    const row = out[img.className]
    if (split && row) row[split]++
  }
  return out
}
