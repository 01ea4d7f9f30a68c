// Entry point of the training engine: phase 1 (head on a frozen base), optional phase 2 (fine-tuning).
import * as tf from '@tensorflow/tfjs'
import { isAugmenting, type RunContext } from './context'
import { baseInput, featureDim } from './features'
import { runFineTunePhase } from './fineTunePhase'
import { ClassifierHead } from './head'
import { runHeadPhase } from './headPhase'
import { fineTuneLayer, planCut } from './cutActivations'
import { balancedClassWeights } from './loss'
import { runRandom } from './random'
import { bestEpoch, keepBetter, snapshotForPhase2 } from './keepBetterPhase'
import type { BaseLike, EpochRecord, ImageSet, TrainIO, TrainParams, TrainPhase, TrainResult } from './types'
import { inferenceForward } from '../tf/spatialMean'

function validateSet(name: string, set: ImageSet, numClasses: number): void {
  if (set.keys.length !== set.labels.length)
    throw new Error(`${name}: ${set.keys.length} keys but ${set.labels.length} labels`)
  const bad = set.labels.findIndex((y) => !Number.isInteger(y) || y < 0 || y >= numClasses)
  if (bad >= 0)
    throw new Error(
      `${name}: label ${set.labels[bad]} of image ${set.keys[bad]} is not a class index in [0, ${numClasses - 1}]`
    )
}

export function validateParams(p: TrainParams, io: TrainIO): void {
  if (p.classes.length < 2) throw new Error(`classes: need at least 2, got ${p.classes.length}`)
  if (new Set(p.classes).size !== p.classes.length)
    throw new Error(`classes: duplicate names in ${JSON.stringify(p.classes)}`)
  const intAtLeast = (name: string, v: number | undefined, min: number): void => {
    if (v !== undefined && (!Number.isInteger(v) || v < min))
      throw new Error(`${name}: must be an integer >= ${min}, got ${v}`)
  }
  intAtLeast('epochs', p.epochs, 0)
  intAtLeast('batchSize', p.batchSize, 1)
  intAtLeast('fineTuneEpochs', p.fineTuneEpochs, 0)
  intAtLeast('earlyStopPatience', p.earlyStopPatience, 0)
  intAtLeast('seed', p.seed, 0)
  if (!(p.lr > 0) || !Number.isFinite(p.lr)) throw new Error(`lr: must be a positive number, got ${p.lr}`)
  if (p.l2 !== undefined && !(p.l2 >= 0 && Number.isFinite(p.l2)))
    throw new Error(`l2: must be a number >= 0, got ${p.l2}`)
  if (p.fineTuneLr !== undefined && !(p.fineTuneLr > 0))
    throw new Error(`fineTuneLr: must be positive, got ${p.fineTuneLr}`)
  if (p.headLrMultiplier !== undefined && !(p.headLrMultiplier > 0))
    throw new Error(`headLrMultiplier: must be positive, got ${p.headLrMultiplier}`)
  if (io.train.keys.length === 0) throw new Error('train: the training set is empty')
  validateSet('train', io.train, p.classes.length)
  if (io.validation) validateSet('validation', io.validation, p.classes.length)
  const shape = io.base.model.inputs[0]?.shape
  if (shape?.[1] !== io.base.spec.size || shape?.[2] !== io.base.spec.size) {
    throw new Error(
      `base '${io.base.spec.id}': model input ${JSON.stringify(shape)} does not match spec.size ${io.base.spec.size}`
    )
  }
}

/**
 * Trains a head on `io.base` (phase 1) and optionally fine-tunes the base from layer N (phase 2).
 * Cancellation (signal) is checked between batches: the run ends 'cancelled' with its finished epochs.
 */
export async function trainRun(params: TrainParams, io: TrainIO, signal?: AbortSignal): Promise<TrainResult> {
  validateParams(params, io)
  const numClasses = params.classes.length
  const head = new ClassifierHead({
    featureDim: featureDim(io.base),
    numClasses,
    dense: params.dense,
    dropout: params.dropout,
    l2: params.l2,
    seed: params.seed
  })
  const ctx: RunContext = {
    params,
    io,
    head,
    random: runRandom(params.seed),
    classWeight: params.classWeights === 'balanced' ? balancedClassWeights(io.train.labels, numClasses) : null,
    augmenting: isAugmenting(params),
    cut: null,
    emit: (e) => io.onEvent?.(e),
    signal
  }
  if (ctx.classWeight)
    ctx.emit({
      type: 'info',
      message: `class weights (balanced): ${ctx.classWeight.map((w, i) => `${params.classes[i]}=${w.toFixed(3)}`).join(', ')}`
    })
  if (!io.validation && params.earlyStopPatience !== undefined)
    ctx.emit({ type: 'info', message: 'earlyStopPatience ignored: no validation set' })

  const epochs: EpochRecord[] = []
  let cancelled = false
  let stoppedEarly = false
  let restoredEpoch: number | null = null
  let keptPhase: TrainPhase | null = null
  try {
    const at = (params.fineTuneEpochs ?? 0) > 0 ? fineTuneLayer(ctx) : undefined
    ctx.cut = at === undefined ? null : planCut(ctx, at)
    const p1 = await runHeadPhase(ctx)
    epochs.push(...p1.records)
    cancelled = p1.cancelled
    stoppedEarly = p1.stoppedEarly
    restoredEpoch = p1.restoredEpoch
    if (!cancelled && (params.fineTuneEpochs ?? 0) > 0) {
      const phase1 = params.keepBetterPhase ? snapshotForPhase2(ctx) : null
      try {
        const p2 = await runFineTunePhase(ctx, epochs.length + 1)
        epochs.push(...p2.records)
        cancelled = p2.cancelled
        stoppedEarly = stoppedEarly || p2.stoppedEarly
        restoredEpoch = p2.restoredEpoch
        if (phase1 && !cancelled) {
          keptPhase = keepBetter(ctx, phase1, p1.records, p2.records)
          if (keptPhase === 'head') restoredEpoch = bestEpoch(p1.records)
        }
      } finally {
        phase1?.checkpoint.clear()
      }
    }
  } catch (err) {
    if (!(err instanceof Error && err.name === 'AbortError')) {
      head.dispose()
      throw err
    }
    cancelled = true
  } finally {
    ctx.cut?.dispose()
  }
  return finish(ctx, { epochs, cancelled, stoppedEarly, restoredEpoch, keptPhase })
}

function finish(
  ctx: RunContext,
  r: {
    epochs: EpochRecord[]
    cancelled: boolean
    stoppedEarly: boolean
    restoredEpoch: number | null
    keptPhase: TrainPhase | null
  }
): TrainResult {
  const { head, io } = ctx
  const baseChanged = r.keptPhase !== 'head' && r.epochs.some((e) => e.phase === 'fine-tune')
  const model = head.buildFullModel(io.base.model)
  const size = io.base.spec.size
  return {
    status: r.cancelled ? 'cancelled' : 'completed',
    epochs: r.epochs,
    restoredEpoch: r.restoredEpoch,
    stoppedEarly: r.stoppedEarly,
    keptPhase: r.keptPhase,
    model,
    outputUnits: head.outputUnits,
    predict: (pixels, count) => predictProbabilities(io.base, model, pixels, count, size, ctx.params.batchSize),
    baseChanged,
    headProbabilities: async (features, count) => {
      const dim = features.length / Math.max(1, count)
      if (!Number.isInteger(dim) || count === 0) return new Float32Array(0)
      const probs = tf.tidy(() => {
        const logits = head.forward(tf.tensor2d(features, [count, dim]))
        const p = head.outputUnits === 1 ? tf.sigmoid(logits) : tf.softmax(logits)
        return p.shape[1] === 1 ? tf.concat([tf.sub(1, p), p], 1) : p
      })
      const out = (await probs.data()) as Float32Array
      probs.dispose()
      return out
    },
    dispose: () => head.dispose()
  }
}

/** Class probabilities [count, k] (binary: [1-p, p]) for RGB uint8 images, via the full model. */
export async function predictProbabilities(
  base: Pick<BaseLike, 'preprocess' | 'input'>,
  model: tf.LayersModel,
  pixels: Uint8Array,
  count: number,
  size: number,
  batchSize = 32
): Promise<Float32Array> {
  const per = size * size * 3
  if (pixels.length !== count * per)
    throw new Error(`predict: expected ${count}x${size}x${size}x3 = ${count * per} bytes, got ${pixels.length}`)
  const parts: Float32Array[] = []
  for (let s = 0; s < count; s += batchSize) {
    const n = Math.min(batchSize, count - s)
    const probs = tf.tidy(() => {
      const x = baseInput(base, pixels.subarray(s * per, (s + n) * per), n, size)
      const p = inferenceForward(model, x) as tf.Tensor2D
      return p.shape[1] === 1 ? tf.concat([tf.sub(1, p), p], 1) : p
    })
    parts.push((await probs.data()) as Float32Array)
    probs.dispose()
  }
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0))
  let o = 0
  for (const p of parts) {
    out.set(p, o)
    o += p.length
  }
  return out
}
