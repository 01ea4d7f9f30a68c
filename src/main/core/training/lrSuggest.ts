// Learning-rate suggestions from a range test's (rate, smoothed loss) curve, as fastai's lr_find computes them.
// Pure functions over plain arrays: the finder, the CLI, the UI and the bench share them.

export interface CurvePoint {
  lr: number
  loss: number
}

export type SuggestionMethod = 'valley' | 'steepest' | 'minimum'

/**
 * The part of the curve the suggestions look at: fastai drops the first tenth (the smoothed loss is still warming
 * up) and the last five points (where the loss shoots up before the finder stops).
 */
export function suggestionWindow<T extends CurvePoint>(points: readonly T[]): T[] {
  const skipStart = Math.floor(points.length / 10)
  const end = points.length - 5
  return end - skipStart >= 3 ? points.slice(skipStart, end) : points.slice()
}

/**
 * fastai's `valley`: the longest stretch over which the loss keeps falling (longest decreasing subsequence of the
 * losses), and the point floor(len/3) + floor(len/6) into it: about half way down, well before the bottom where
 * the loss is about to turn up.
 */
export function valley(points: readonly CurvePoint[]): CurvePoint | null {
  const n = points.length
  if (n === 0) return null
  const lds = new Array<number>(n).fill(1)
  let maxStart = 0
  let maxEnd = 0
  for (let i = 1; i < n; i++) {
    for (let j = 0; j < i; j++) {
      const li = (points[i] as CurvePoint).loss
      const lj = (points[j] as CurvePoint).loss
      if (li < lj && (lds[i] as number) < (lds[j] as number) + 1) lds[i] = (lds[j] as number) + 1
      if ((lds[maxEnd] as number) < (lds[i] as number)) {
        maxEnd = i
        maxStart = maxEnd - (lds[maxEnd] as number)
      }
    }
  }
  const sections = (maxEnd - maxStart) / 3
  const idx = Math.min(n - 1, Math.max(0, maxStart + Math.floor(sections) + Math.floor(sections / 2)))
  return points[idx] ?? null
}

/** fastai's `steep`: the rate where the loss falls fastest per unit of log(rate). */
export function steepest(points: readonly CurvePoint[]): CurvePoint | null {
  let best: CurvePoint | null = null
  let bestSlope = Infinity
  for (let i = 1; i < points.length; i++) {
    const a = points[i - 1] as CurvePoint
    const b = points[i] as CurvePoint
    const slope = (b.loss - a.loss) / (Math.log(b.lr) - Math.log(a.lr))
    if (Number.isFinite(slope) && slope < bestSlope) {
      bestSlope = slope
      best = b
    }
  }
  return best
}

/** fastai's `minimum`: a tenth of the rate at the lowest loss (the lowest point is already too fast). */
export function minimumOverTen(points: readonly CurvePoint[]): CurvePoint | null {
  let best: CurvePoint | null = null
  for (const p of points) if (Number.isFinite(p.loss) && (!best || p.loss < best.loss)) best = p
  return best ? { lr: best.lr / 10, loss: best.loss } : null
}
