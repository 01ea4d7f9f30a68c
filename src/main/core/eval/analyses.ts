// Practical Deep Learning ch. 3 analyses over per-image rows (pure functions).
import type { ImagePrediction } from './types'

export interface ClassAnalysis {
  classIndex: number
  name: string
  /** True class c, predicted c, sorted by probs[c] descending. */
  mostConfidentCorrect: ImagePrediction[]
  /** True class c, sorted by the margin between the top-2 probabilities ascending (nearest the decision boundary). */
  leastConfident: ImagePrediction[]
  /** True class c, predicted wrong, sorted by the probability of the (wrong) predicted class descending. */
  confidentlyWrong: ImagePrediction[]
}

export interface ThresholdPoint {
  threshold: number
  /** Fraction of predictions with confidence >= threshold. */
  coverage: number
  covered: number
  /** Accuracy on the covered predictions; null when none is covered. */
  accuracy: number | null
}

export interface Analyses {
  perClass: ClassAnalysis[]
  sweep: ThresholdPoint[]
  unsure: { threshold: number; count: number; imageIds: string[] }
}

/** Difference between the largest and second-largest probability. */
export function margin(row: ImagePrediction): number {
  let a = -Infinity
  let b = -Infinity
  for (const p of row.probs) {
    if (p > a) {
      b = a
      a = p
    } else if (p > b) b = p
  }
  return b === -Infinity ? a : a - b
}

// Stable tie-break by image id so results do not depend on input order.
const byId = (x: ImagePrediction, y: ImagePrediction): number =>
  x.imageId < y.imageId ? -1 : x.imageId > y.imageId ? 1 : 0

export function perClassAnalysis(
  rows: readonly ImagePrediction[],
  classes: readonly string[],
  topN: number
): ClassAnalysis[] {
  return classes.map((name, c) => {
    const ofClass = rows.filter((r) => r.trueClass === c)
    const right = ofClass.filter((r) => r.predictedClass === c)
    const wrong = ofClass.filter((r) => r.predictedClass !== c)
    return {
      classIndex: c,
      name,
      mostConfidentCorrect: right
        .sort((x, y) => (y.probs[c] as number) - (x.probs[c] as number) || byId(x, y))
        .slice(0, topN),
      leastConfident: [...ofClass].sort((x, y) => margin(x) - margin(y) || byId(x, y)).slice(0, topN),
      confidentlyWrong: wrong.sort((x, y) => y.confidence - x.confidence || byId(x, y)).slice(0, topN)
    }
  })
}

/** Default sweep thresholds: 0.50, 0.55, ..., 0.95, 0.99, plus 1/k for k > 2 classes. */
export function defaultThresholds(numClasses: number): number[] {
  const t = Array.from({ length: 10 }, (_, i) => Math.round((0.5 + i * 0.05) * 100) / 100)
  t.push(0.99)
  if (numClasses > 2) t.unshift(1 / numClasses)
  return t
}

export function thresholdSweep(rows: readonly ImagePrediction[], thresholds: readonly number[]): ThresholdPoint[] {
  const count = thresholds.length > 32 ? countBySorting(rows) : countByScanning(rows)
  return thresholds.map((threshold) => {
    const { covered, correct } = count(threshold)
    return {
      threshold,
      coverage: rows.length > 0 ? covered / rows.length : 0,
      covered,
      accuracy: covered > 0 ? correct / covered : null
    }
  })
}

type CountAtLeast = (threshold: number) => { covered: number; correct: number }

/** One pass over the rows per threshold: fastest for the dozen default thresholds (nothing to sort). */
function countByScanning(rows: readonly ImagePrediction[]): CountAtLeast {
  return (threshold) => {
    let covered = 0
    let correct = 0
    for (const r of rows) {
      if (r.confidence < threshold) continue
      covered++
      if (r.predictedClass === r.trueClass) correct++
    }
    return { covered, correct }
  }
}

/** Sorted confidences (all rows, correct rows) and a binary search per threshold: for up to 1,000 thresholds. */
function countBySorting(rows: readonly ImagePrediction[]): CountAtLeast {
  const all = Float64Array.from(rows, (r) => r.confidence).sort()
  const right = Float64Array.from(
    rows.filter((r) => r.predictedClass === r.trueClass),
    (r) => r.confidence
  ).sort()
  return (threshold) => ({
    covered: all.length - countBelow(all, threshold),
    correct: right.length - countBelow(right, threshold)
  })
}

/** How many of `ascending` are below `threshold`. */
function countBelow(ascending: Float64Array, threshold: number): number {
  let lo = 0
  let hi = ascending.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if ((ascending[mid] as number) < threshold) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** Predictions held back as "unsure": confidence below the threshold. */
export function unsure(
  rows: readonly ImagePrediction[],
  threshold: number
): { threshold: number; count: number; imageIds: string[] } {
  const ids = rows.filter((r) => r.confidence < threshold).map((r) => r.imageId)
  return { threshold, count: ids.length, imageIds: ids }
}

export function analyse(
  rows: readonly ImagePrediction[],
  classes: readonly string[],
  opts: { topN?: number; unsureThreshold?: number; thresholds?: number[] } = {}
): Analyses {
  const t = opts.unsureThreshold ?? 0.75
  if (!(t > 0 && t <= 1)) throw new Error(`unsureThreshold: must be in (0, 1], got ${t}`)
  return {
    perClass: perClassAnalysis(rows, classes, opts.topN ?? 10),
    sweep: thresholdSweep(rows, opts.thresholds ?? defaultThresholds(classes.length)),
    unsure: unsure(rows, t)
  }
}
