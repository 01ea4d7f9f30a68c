// Run step 5, evaluate: predictions on the validation and test splits, stored per image with their metrics and
// analyses. Without fine-tuning only the head runs, on the features phase 1 already cached.
import type { SplitName } from '@shared/domain'
import { SPLIT_NAMES } from '@shared/domain'
import type { ProjectStore } from '../store/projectStore'
import type { JsonValue } from '../store/rows'
import { extractFeatures } from '../training/features'
import { featureCacheKeyOf } from '../training/headPhase'
import type { BaseLike, ImageSet, TrainIO, TrainResult } from '../training/types'
import { evaluateSet, type PredictFn } from '../eval/evaluate'
import { analysesPayload, toNewPredictions } from '../eval/storeRows'
import type { SplitMetrics } from '../eval/types'
import type * as tf from '@tensorflow/tfjs'
import { createModelPredictor, type ModelPredictor } from '../parallel/featurePool'
import { foldBatchNorm } from '../tf/foldBatchNorm'
import { predictProbabilities } from '../training/trainer'
import type { RunStepContext } from './trainStep'

/** The store's image id of each relative path (predictions are stored against image rows). */
function imageIdsByPath(store: ProjectStore, projectId: number): (path: string) => number {
  const ids = new Map(store.listImages(projectId).map((r) => [r.relPath, r.id]))
  return (path) => {
    const id = ids.get(path)
    if (id === undefined) throw new Error(`internal: no stored image for ${path}`)
    return id
  }
}

/**
 * While the base is unchanged (no fine-tuning), evaluation needs only the head on the frozen base's features,
 * which phase 1 has already computed and cached: predictions are then answered from them, in the set's order.
 */
async function featurePredictor(
  io: TrainIO,
  frozenBase: BaseLike,
  result: TrainResult,
  set: ImageSet,
  batchSize: number,
  signal?: AbortSignal
): Promise<{ predict: PredictFn; set: ImageSet }> {
  const key = featureCacheKeyOf(io)
  const features = await extractFeatures(frozenBase, set, {
    batchSize,
    cache: io.featureCache && key ? { ...io.featureCache, key } : undefined,
    signal,
    forward: io.featureForward
  })
  const probs = await result.headProbabilities(features.data, set.keys.length)
  const k = probs.length / Math.max(1, set.keys.length)
  let offset = 0
  // evaluateSet asks for consecutive batches in order; the pixels are not needed.
  const predict = async (_pixels: Uint8Array, count: number): Promise<Float32Array> => {
    const out = probs.slice(offset * k, (offset + count) * k)
    offset += count
    return out
  }
  return { predict, set: { ...set, load: async () => new Uint8Array(0) } }
}

/** The classifier with BatchNorm folded into its convolutions, on this thread (same outputs, ~2x faster). */
function foldedPredictor(model: tf.LayersModel, base: BaseLike, batchSize: number): ModelPredictor {
  const folded = foldBatchNorm(model)
  return {
    predict: (pixels, count) => predictProbabilities(base, folded, pixels, count, base.spec.size, batchSize),
    close: async () => {
      folded.dispose()
    }
  }
}

export interface EvaluateStepInput extends RunStepContext {
  projectId: number
  io: TrainIO
  result: TrainResult
}

export async function evaluateStep(
  input: EvaluateStepInput,
  signal?: AbortSignal
): Promise<Partial<Record<SplitName, SplitMetrics>>> {
  const { store, runId, projectId, opts, classes, base, frozenBase, backend, io, result, emit } = input
  const { sets, counts } = input.data
  const metrics: Partial<Record<SplitName, SplitMetrics>> = {}
  // After fine-tuning the cached features are stale: the whole model runs again (BatchNorm folded).
  const images = counts.validation + counts.test + (opts.evaluateTrain ? counts.train : 0)
  const fineTuned =
    result.baseChanged && images > 0
      ? await createModelPredictor(
          result,
          base,
          backend,
          () => foldedPredictor(result.model, frozenBase, opts.batchSize),
          (message) => emit({ type: 'info', message }),
          images
        )
      : null
  try {
    for (const s of opts.evaluateTrain ? SPLIT_NAMES : (['validation', 'test'] as const)) {
      if (counts[s] === 0) continue
      emit({ type: 'stage', stage: 'evaluate', detail: `${s}: ${counts[s]} images` })
      const via = fineTuned
        ? { predict: fineTuned.predict, set: sets[s].set }
        : await featurePredictor(io, frozenBase, result, sets[s].set, opts.batchSize, signal)
      const ev = await evaluateSet(via.predict, via.set, classes, {
        batchSize: opts.batchSize,
        topN: opts.topN,
        unsureThreshold: opts.unsureThreshold,
        signal,
        imageIds: sets[s].images.map((im) => im.path)
      })
      const idOf = imageIdsByPath(store, projectId)
      store.savePredictions(runId, toNewPredictions(ev.rows, s, classes, idOf))
      // Galleries as image ids: the rows themselves are in the predictions table.
      store.saveAnalysis(runId, `analyses:${s}`, analysesPayload(ev.analyses, s, idOf))
      store.saveAnalysis(runId, `metrics:${s}`, ev.metrics as unknown as JsonValue)
      metrics[s] = ev.metrics
      emit({ type: 'evaluation', split: s, metrics: ev.metrics })
    }
  } finally {
    await fineTuned?.close()
  }
  return metrics
}
