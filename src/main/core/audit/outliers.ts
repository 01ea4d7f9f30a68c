// Outliers: images far from every class. For each image and class, the mean cosine similarity to its k nearest
// images of that class (itself excluded); the score is 1 minus the best of those, so junk that resembles no
// class (placeholder pictures, blank frames) scores high whatever its label.
import { forEachSimilarityBlock, type SimilarityConsumer } from './similarity'

export interface Outlier {
  index: number
  /** 1 - (best over classes of the mean similarity to the k nearest images of that class), in [0, 2]. */
  score: number
  /** The class it is nearest to. */
  nearestClass: number
}

export interface OutlierOptions {
  /** Neighbours per class. Default 5. */
  k?: number
  signal?: AbortSignal
}

/** Scores every row from similarity blocks. `labels[j]` is the class of row j (negative: no class, not a neighbour). */
export function outlierCollector(labels: readonly number[], numClasses: number, k = 5): SimilarityConsumer<Outlier[]> {
  const n = labels.length
  const out: Outlier[] = []
  return {
    add(start, rows, sims) {
      for (let r = 0; r < rows; r++) {
        const i = start + r
        // Per class, the k largest similarities so far (kept sorted descending; k is small).
        const best = Array.from({ length: numClasses }, () => [] as number[])
        for (let j = 0; j < n; j++) {
          const y = labels[j] as number
          if (j === i || y < 0) continue
          const s = sims[r * n + j] as number
          const top = best[y] as number[]
          if (top.length === k && s <= (top[k - 1] as number)) continue
          let p = top.length === k ? k - 1 : top.length
          top[p] = s
          while (p > 0 && (top[p - 1] as number) < s) {
            top[p] = top[p - 1] as number
            top[p - 1] = s
            p--
          }
        }
        let nearest = 0
        let nearestSim = -Infinity
        best.forEach((top, c) => {
          if (!top.length) return
          const mean = top.reduce((a, b) => a + b, 0) / top.length
          if (mean > nearestSim) {
            nearestSim = mean
            nearest = c
          }
        })
        out.push({ index: i, score: Number.isFinite(nearestSim) ? 1 - nearestSim : 1, nearestClass: nearest })
      }
    },
    result: () => out.sort((a, b) => b.score - a.score || a.index - b.index)
  }
}

/** Every row scored, most outlying first. */
export async function scoreOutliers(
  features: Float32Array,
  dim: number,
  labels: readonly number[],
  numClasses: number,
  opts: OutlierOptions = {}
): Promise<Outlier[]> {
  const collector = outlierCollector(labels, numClasses, opts.k)
  await forEachSimilarityBlock(features, dim, collector.add, { signal: opts.signal })
  return collector.result()
}

/**
 * The outliers worth a look: scores that stand out from the project's own (modified z-score of Iglewicz and
 * Hoaglin, 0.6745 (x - median) / MAD > `z`). Every image has a score; ranking alone made a third of a tidy
 * project "outliers". Input most outlying first, as the collector gives it.
 */
export function standingOut(scored: readonly Outlier[], z = 3.5): Outlier[] {
  if (scored.length < 3) return [...scored]
  const sorted = scored.map((o) => o.score).sort((a, b) => a - b)
  const median = (xs: number[]): number => {
    const m = xs.length >> 1
    return xs.length % 2 ? (xs[m] as number) : ((xs[m - 1] as number) + (xs[m] as number)) / 2
  }
  const med = median(sorted)
  const mad = median(sorted.map((x) => Math.abs(x - med)).sort((a, b) => a - b))
  if (mad === 0) return scored.filter((o) => o.score > med)
  return scored.filter((o) => (0.6745 * (o.score - med)) / mad > z)
}
