// Evaluate a trained classifier on an image set: per-image rows, metrics and analyses.
import type { ImageSet } from '../training/types'
import type { Analyses } from './analyses'
import { Interpretation } from './interpretation'
import type { ImagePrediction, SplitMetrics } from './types'

export type PredictFn = (pixels: Uint8Array, count: number) => Promise<Float32Array>

export interface SplitEvaluation {
  rows: ImagePrediction[]
  metrics: SplitMetrics
  analyses: Analyses
  interpretation: Interpretation
}

/**
 * Runs `predict` (e.g. TrainResult.predict) over the set in batches. `imageIds` defaults to set.keys.
 * Cancellation is checked between batches (throws an AbortError).
 */
export async function evaluateSet(
  predict: PredictFn,
  set: ImageSet,
  classes: readonly string[],
  opts: {
    batchSize?: number
    imageIds?: readonly string[]
    topN?: number
    unsureThreshold?: number
    signal?: AbortSignal
  } = {}
): Promise<SplitEvaluation> {
  const n = set.keys.length
  const k = classes.length
  const bs = opts.batchSize ?? 32
  const probs = new Float32Array(n * k)
  for (let s = 0; s < n; s += bs) {
    if (opts.signal?.aborted) {
      const e = new Error('evaluation cancelled')
      e.name = 'AbortError'
      throw e
    }
    const idx = Array.from({ length: Math.min(bs, n - s) }, (_, j) => s + j)
    const p = await predict(await set.load(idx), idx.length)
    if (p.length !== idx.length * k)
      throw new Error(`evaluate: predict returned ${p.length} values for ${idx.length} images x ${k} classes`)
    probs.set(p, s * k)
  }
  const interpretation = Interpretation.fromProbabilities(probs, set.labels, opts.imageIds ?? set.keys, classes)
  return {
    rows: [...interpretation.rows],
    metrics: interpretation.metrics(),
    analyses: interpretation.analyses({ topN: opts.topN, unsureThreshold: opts.unsureThreshold }),
    interpretation
  }
}
