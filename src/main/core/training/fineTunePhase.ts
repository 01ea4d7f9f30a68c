// Phase 2: layers >= N of the base train together with the head, BN in inference mode (gamma/beta
// trainable, moving statistics untouched), so each conv + BN (+ ReLU6) above the cut trains as one fused op on the
// base's own variables (foldForTraining). The frozen lower part runs outside the gradient tape;
// without augmentation its activations at the cut are computed once when they fit in memory.
import * as tf from '@tensorflow/tfjs'
import { augmentLoaded, labelTensor, LossAccumulator, weightTensor, type RunContext } from './context'
import { runPhase, type PhaseLoopResult } from './epochLoop'
import { foldBatchNorm, foldForTraining } from '../tf/foldBatchNorm'
import { spatialMeanWithGradient } from '../tf/spatialMean'
import { createOptimizer } from './optimizers'
import { nextSeed } from './random'
import { splitModelAt } from './splitModel'
import { trainStep, type VarGroup } from './step'
import type { ImageSet } from './types'
import { fillMissing, lowerForward, planCut, readAheadInputs, type CutCache, type CutPlan } from './cutActivations'

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

  let plan: CutPlan | null = null
  const readers: ReturnType<typeof readAheadInputs>[] = []
  try {
    plan = ctx.cut?.at === at ? ctx.cut : planCut(ctx, at)
    const { path, bytes, limit, inMemory } = plan
    const trainCache = plan.train
    const valCache = plan.validation
    const mib = (b: number): string => `${(b / 1024 ** 2).toFixed(1)} MiB`
    const fromPhase1 = (c: CutCache | null): number => (c ? c.filled.reduce((a, f) => a + f, 0) : 0)
    const harvested = fromPhase1(trainCache) + fromPhase1(valCache)
    ctx.emit({
      type: 'phase-start',
      phase: 'fine-tune',
      path,
      epochs: params.fineTuneEpochs ?? 0,
      fineTuneAt: at,
      detail:
        `layers ${at}..${base.model.layers.length - 1} train (${baseVars.length} base variables), ${split.boundaryShapes.length} tensor(s) cross the cut, ` +
        (path === 'cached-activations'
          ? `activations at the cut cached once (${mib(bytes)}, ${inMemory ? 'in memory' : 'in temporary files'}` +
            `${harvested > 0 ? `; phase 1's feature pass computed those of ${harvested} images` : ''})`
          : path === 'recomputed-activations'
            ? `activations at the cut would need ${mib(bytes)} > limit ${mib(limit)}: recomputed every batch`
            : 'augmentation on: the frozen lower part runs on every augmented batch')
    })

    if (trainCache) await fillMissing(ctx, split, io.train, trainCache, 'train')
    if (io.validation && valCache) await fillMissing(ctx, split, io.validation, valCache, 'validation')

    // Without a cache: the lower part on the batch's pixels (augmented when training).
    const inputsFor = async (set: ImageSet, idx: number[], epoch: number | null): Promise<tf.Tensor[]> => {
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

    const [trainRows, valRows] = [trainCache, valCache].map((c) => (c ? readAheadInputs(c) : null))
    for (const r of [trainRows, valRows]) if (r) readers.push(r)
    const result = await runPhase({
      phase: 'fine-tune',
      firstEpoch,
      epochs: params.fineTuneEpochs ?? 0,
      trainCount: io.train.keys.length,
      batchSize: params.batchSize,
      random: ctx.random.shuffle,
      lr,
      patience: params.fineTunePatience ?? params.earlyStopPatience,
      vars: [...baseVars, ...headVars],
      emit: ctx.emit,
      onEpochEnd: io.onEpochEnd,
      signal: ctx.signal,
      prefetch: trainRows ? (next) => trainRows.ahead(next) : (next) => io.train.hint?.(next),
      step: async (idx, epoch) => {
        const inputs = trainRows ? await trainRows.inputs(idx) : await inputsFor(io.train, idx, epoch)
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
        const bs = params.batchSize
        const batchAt = (s: number): number[] => Array.from({ length: Math.min(bs, n - s) }, (_, k) => s + k)
        for (let s = 0; s < n; s += bs) {
          const idx = batchAt(s)
          const inputs = valRows ? await valRows.inputs(idx) : await inputsFor(val, idx, null)
          if (valRows && s + bs < n) valRows.ahead(batchAt(s + bs))
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
    // A cancelled or failed epoch can leave reads ahead in flight; the cut's stores close after them.
    await Promise.all(readers.map((r) => r.settle()))
    for (const o of optimizers) o.dispose()
    if (plan && plan !== ctx.cut) plan.dispose()
    foldedLower?.dispose()
    fusedUpper?.dispose()
    restoreTrainable()
  }
}
