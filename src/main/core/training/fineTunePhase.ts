// Phase 2: layers >= N of the base train together with the head, BN in inference mode (gamma/beta
// trainable, moving statistics untouched), so each conv + BN (+ ReLU6) above the cut trains as one fused op on the
// base's own variables (foldForTraining). The frozen lower part runs outside the gradient tape;
// without augmentation its activations at the cut are computed once when they fit in memory.
import * as tf from '@tensorflow/tfjs'
import { augmentLoaded, labelTensor, LossAccumulator, weightTensor, type RunContext } from './context'
import { runPhase, type PhaseLoopResult } from './epochLoop'
import { abortError, baseInput } from './features'
import { foldBatchNorm, foldForTraining } from '../tf/foldBatchNorm'
import { spatialMeanWithGradient } from '../tf/spatialMean'
import { createOptimizer } from './optimizers'
import { nextSeed } from './random'
import { splitModelAt, type SplitModel } from './splitModel'
import { trainStep, type VarGroup } from './step'
import type { FineTunePath, ImageSet } from './types'
import { createActivationStore, DEFAULT_ACTIVATION_MEMORY_BYTES, type ActivationStore } from './activationCache'

const DEFAULT_ACTIVATION_CACHE_BYTES = 1.5 * 1024 ** 3

/** Per-image activations at the cut, one row-major store per boundary tensor. */
interface ActivationCache {
  perImage: number[]
  shapes: number[][]
  store: ActivationStore
}

function boundaryDims(split: SplitModel): { perImage: number[]; shapes: number[][] } {
  const shapes = split.boundaryShapes.map((s) => s.slice(1) as number[])
  return { shapes, perImage: shapes.map((s) => s.reduce((a, b) => a * b, 1)) }
}

/** Lower-part activations for a batch of pixels (no tape). */
function lowerForward(ctx: RunContext, split: SplitModel, pixels: Uint8Array, count: number): tf.Tensor[] {
  return tf.tidy(() => {
    const x = baseInput(ctx.io.base, pixels, count, ctx.io.base.spec.size)
    if (!split.lower) return [x]
    const out = split.lower.apply(x, { training: false })
    return Array.isArray(out) ? (out as tf.Tensor[]) : [out as tf.Tensor]
  })
}

async function cacheActivations(
  ctx: RunContext,
  split: SplitModel,
  set: ImageSet,
  which: 'train' | 'validation',
  inMemory: boolean
): Promise<ActivationCache> {
  const { perImage, shapes } = boundaryDims(split)
  const n = set.keys.length
  const store = createActivationStore(n, perImage, inMemory ? Infinity : 0, ctx.io.featureCache?.dir)
  try {
    const bs = ctx.params.batchSize
    for (let s = 0; s < n; s += bs) {
      if (ctx.signal?.aborted) throw abortError()
      const idx = Array.from({ length: Math.min(bs, n - s) }, (_, k) => s + k)
      const outs = lowerForward(ctx, split, await set.load(idx), idx.length)
      for (let k = 0; k < outs.length; k++) store.write(k, s, (await (outs[k] as tf.Tensor).data()) as Float32Array)
      tf.dispose(outs)
      ctx.emit({ type: 'activations', split: which, done: s + idx.length, total: n })
    }
  } catch (err) {
    store.dispose()
    throw err
  }
  return { perImage, shapes, store }
}

function cachedInputs(cache: ActivationCache, idx: readonly number[]): tf.Tensor[] {
  return cache.perImage.map((p, k) => {
    const out = new Float32Array(idx.length * p)
    cache.store.read(k, idx, out)
    return tf.tensor(out, [idx.length, ...(cache.shapes[k] as number[])])
  })
}

/** Makes exactly layers >= at trainable; returns a function that restores the previous layer and variable flags. */
function setTrainableFrom(model: tf.LayersModel, at: number): () => void {
  // model.trainable = false only flips the variables' flags, so both levels are saved.
  const before = model.layers.map((l) => ({
    layer: l.trainable,
    vars: l.weights.map((w) => [w, w.trainable] as const)
  }))
  model.layers.forEach((l, i) => (l.trainable = i >= at))
  return () =>
    model.layers.forEach((l, i) => {
      const b = before[i]
      if (!b) return
      l.trainable = b.layer
      for (const [w, t] of b.vars) w.trainable = t
    })
}

export async function runFineTunePhase(
  ctx: RunContext,
  firstEpoch: number
): Promise<PhaseLoopResult & { fineTuneAt: number }> {
  const { io, params, head } = ctx
  const base = io.base
  const at = params.fineTuneAt ?? base.spec.defaultFineTuneAt
  if (at === undefined) throw new Error(`fineTuneAt: not given and base '${base.spec.id}' has no defaultFineTuneAt`)
  const split = splitModelAt(base.model, at)
  // The lower part is frozen and runs in inference mode only: BatchNorm folded into its convolutions gives the
  // same activations at about twice the speed.
  const foldedLower = split.lower ? foldBatchNorm(split.lower) : null
  split.lower = foldedLower
  const fusedUpper = foldForTraining(split.upper)
  const upper = fusedUpper ?? split.upper
  const restoreTrainable = setTrainableFrom(base.model, at)
  const baseVars = base.model.layers.slice(at).flatMap((l) => l.trainableWeights.map((w) => w.read() as tf.Variable))
  const headVars = head.variables()
  const lr = params.fineTuneLr ?? params.lr / 10
  const mult = params.headLrMultiplier ?? 1
  const optName = params.fineTuneOptimizer ?? params.optimizer
  const optimizers: tf.Optimizer[] = []
  const groups: VarGroup[] = []
  if (mult === 1) {
    optimizers.push(createOptimizer(optName, lr, params.momentum))
    groups.push({ optimizer: optimizers[0] as tf.Optimizer, vars: [...baseVars, ...headVars] })
  } else {
    if (!(mult > 0)) throw new Error(`headLrMultiplier: must be positive, got ${mult}`)
    optimizers.push(createOptimizer(optName, lr, params.momentum), createOptimizer(optName, lr * mult, params.momentum))
    groups.push(
      { optimizer: optimizers[0] as tf.Optimizer, vars: baseVars },
      { optimizer: optimizers[1] as tf.Optimizer, vars: headVars }
    )
  }

  const { perImage } = boundaryDims(split)
  const bytesPerImage = perImage.reduce((a, b) => a + b, 0) * 4
  const limit = io.activationCacheBytes ?? DEFAULT_ACTIVATION_CACHE_BYTES
  const nTrain = io.train.keys.length
  const nVal = io.validation?.keys.length ?? 0
  const cacheTrain = !ctx.augmenting && (nTrain + nVal) * bytesPerImage <= limit
  const cacheVal = nVal * bytesPerImage + (cacheTrain ? nTrain * bytesPerImage : 0) <= limit
  const path: FineTunePath = ctx.augmenting
    ? 'augmented-forward'
    : cacheTrain
      ? 'cached-activations'
      : 'recomputed-activations'
  // Beyond this the cached activations live in temporary files (read a batch at a time), not in memory.
  const inMemory = (nTrain + nVal) * bytesPerImage <= (io.activationMemoryBytes ?? DEFAULT_ACTIVATION_MEMORY_BYTES)
  const mib = (b: number): string => `${(b / 1024 ** 2).toFixed(1)} MiB`
  ctx.emit({
    type: 'phase-start',
    phase: 'fine-tune',
    path,
    epochs: params.fineTuneEpochs ?? 0,
    fineTuneAt: at,
    detail:
      `layers ${at}..${base.model.layers.length - 1} train (${baseVars.length} base variables), ${perImage.length} tensor(s) cross the cut, ` +
      (path === 'cached-activations'
        ? `activations at the cut cached once (${mib((nTrain + nVal) * bytesPerImage)}, ${inMemory ? 'in memory' : 'in temporary files'})`
        : path === 'recomputed-activations'
          ? `activations at the cut would need ${mib((nTrain + nVal) * bytesPerImage)} > limit ${mib(limit)}: recomputed every batch`
          : 'augmentation on: the frozen lower part runs on every augmented batch')
  })

  let trainCache: ActivationCache | null = null
  let valCache: ActivationCache | null = null
  try {
    trainCache = cacheTrain ? await cacheActivations(ctx, split, io.train, 'train', inMemory) : null
    valCache =
      io.validation && cacheVal ? await cacheActivations(ctx, split, io.validation, 'validation', inMemory) : null

    // epoch = null: no augmentation (validation).
    const inputsFor = async (
      set: ImageSet,
      cache: ActivationCache | null,
      idx: number[],
      epoch: number | null
    ): Promise<tf.Tensor[]> => {
      if (cache) return cachedInputs(cache, idx)
      let pixels = await set.load(idx)
      if (epoch !== null && ctx.augmenting) pixels = augmentLoaded(ctx, set, pixels, idx, epoch)
      return lowerForward(ctx, split, pixels, idx.length)
    }
    const logitsOf = (inputs: tf.Tensor[], dropoutSeed?: number): tf.Tensor2D =>
      tf.tidy(() => {
        const fm = upper.apply(inputs.length === 1 ? (inputs[0] as tf.Tensor) : inputs, {
          training: false
        }) as tf.Tensor4D
        return head.forward(spatialMeanWithGradient(fm), dropoutSeed)
      })

    const result = await runPhase({
      phase: 'fine-tune',
      firstEpoch,
      epochs: params.fineTuneEpochs ?? 0,
      trainCount: nTrain,
      batchSize: params.batchSize,
      random: ctx.random.shuffle,
      lr,
      patience: params.fineTunePatience ?? params.earlyStopPatience,
      vars: [...baseVars, ...headVars],
      emit: ctx.emit,
      onEpochEnd: io.onEpochEnd,
      signal: ctx.signal,
      prefetch: trainCache ? undefined : (next) => io.train.hint?.(next),
      step: async (idx, epoch) => {
        const inputs = await inputsFor(io.train, trainCache, idx, epoch)
        const y = labelTensor(io.train.labels, idx)
        const w = weightTensor(ctx, io.train.labels, idx)
        const seed = nextSeed(ctx.random.dropout)
        try {
          return await trainStep(
            groups,
            () => logitsOf(inputs, seed),
            y,
            w,
            () => head.penalty()
          )
        } finally {
          tf.dispose([...inputs, y, ...(w ? [w] : [])])
        }
      },
      validate: async () => {
        const val = io.validation
        if (!val) return null
        const acc = new LossAccumulator()
        const n = val.keys.length
        for (let s = 0; s < n; s += params.batchSize) {
          const idx = Array.from({ length: Math.min(params.batchSize, n - s) }, (_, k) => s + k)
          const inputs = await inputsFor(val, valCache, idx, null)
          const y = labelTensor(val.labels, idx)
          const logits = logitsOf(inputs)
          await acc.add(logits, y)
          tf.dispose([...inputs, y, logits])
        }
        return acc.result()
      }
    })
    return { ...result, fineTuneAt: at }
  } finally {
    for (const o of optimizers) o.dispose()
    trainCache?.store.dispose()
    valCache?.store.dispose()
    foldedLower?.dispose()
    fusedUpper?.dispose()
    restoreTrainable()
  }
}
