// Phase 1: frozen base (inference-mode BN), only the head trains.
// Without augmentation the base runs once per image (features cached in memory and optionally on disk).
import * as tf from '@tensorflow/tfjs'
import { augmentLoaded, gatherRows, labelTensor, LossAccumulator, weightTensor, type RunContext } from './context'
import { runPhase, type PhaseLoopResult } from './epochLoop'
import {
  extractFeatures,
  featureCacheKey,
  poolFeatures,
  weightsChecksum,
  type CutForward,
  type ExtractOptions,
  type FeatureMatrix,
  type FeatureProgress
} from './features'
import { cutForwardOnThisThread, harvestInto } from './cutActivations'
import { createOptimizer } from './optimizers'
import { nextSeed } from './random'
import { trainStep } from './step'
import type { ImageSet, TrainIO } from './types'

async function featuresOf(
  ctx: RunContext,
  set: ImageSet,
  split: 'train' | 'validation',
  key: string | null,
  harvest: CutForward | null
): Promise<FeatureMatrix> {
  const write = harvest ? harvestInto((split === 'train' ? ctx.cut?.train : ctx.cut?.validation) ?? null) : null
  return phaseOneFeatures(ctx.io, set, {
    batchSize: ctx.params.batchSize,
    key,
    signal: ctx.signal,
    onProgress: (p) => ctx.emit({ type: 'features', split, ...p }),
    cut: harvest && write ? { forward: harvest, write } : undefined
  })
}

/** The forward that also yields phase 2's cut activations (started on first use), when phase 2 will cache them. */
function harvester(ctx: RunContext): { forward: CutForward; dispose(): void } | null {
  const plan = ctx.cut
  if (!plan || (!plan.train && !plan.validation)) return null
  const { io } = ctx
  if (io.featureCutForward) return { forward: io.featureCutForward(plan.at), dispose: () => undefined }
  let local: ReturnType<typeof cutForwardOnThisThread> | null = null
  return {
    forward: (pixels, count) => (local ??= cutForwardOnThisThread(io.base, plan.at)).forward(pixels, count),
    dispose: () => local?.dispose()
  }
}

/**
 * Pooled frozen-base features of a set exactly as phase 1 gets them: the same frozen base, forward (worker pool)
 * and disk cache. `key` is the cache key when already known (featureCacheKeyOf may hash all weights).
 */
export async function phaseOneFeatures(
  io: Pick<TrainIO, 'base' | 'frozenBase' | 'featureForward' | 'featureCache'>,
  set: ImageSet,
  opts: {
    batchSize: number
    key?: string | null
    signal?: AbortSignal
    onProgress?(p: FeatureProgress): void
    cut?: ExtractOptions['cut']
  }
): Promise<FeatureMatrix & { fromDisk: number }> {
  const key = opts.key === undefined ? featureCacheKeyOf(io) : opts.key
  const cache = io.featureCache && key ? { ...io.featureCache, key } : undefined
  return extractFeatures(io.frozenBase ?? io.base, set, {
    batchSize: opts.batchSize,
    forward: io.featureForward,
    cache,
    signal: opts.signal,
    onProgress: opts.onProgress,
    cut: opts.cut
  })
}

/** Disk-cache key of the frozen base's features for this run's base, weights, size and resize mode. */
export function featureCacheKeyOf(io: Pick<TrainIO, 'base' | 'featureCache'>): string | null {
  const fc = io.featureCache
  if (!fc) return null
  const base = io.base
  return featureCacheKey({
    baseId: base.spec.id,
    weightsChecksum: fc.weightsChecksum ?? weightsChecksum(base.model),
    size: base.spec.size,
    resizeMode: fc.resizeMode
  })
}

function cacheKey(ctx: RunContext): string | null {
  return featureCacheKeyOf(ctx.io)
}

export async function runHeadPhase(ctx: RunContext): Promise<PhaseLoopResult> {
  const { io, params, head } = ctx
  if (params.epochs === 0) return { records: [], cancelled: false, stoppedEarly: false, restoredEpoch: null }
  const key = cacheKey(ctx)
  const path = ctx.augmenting ? 'augmented-forward' : 'cached-features'
  ctx.emit({
    type: 'phase-start',
    phase: 'head',
    path,
    epochs: params.epochs,
    detail: ctx.augmenting
      ? 'augmentation on: the frozen base runs on every augmented batch'
      : `augmentation off: base features computed once${key ? ' (disk cache ' + key + ')' : ''}, the head trains on pooled features`
  })
  const harvest = harvester(ctx)
  let trainFeatures: FeatureMatrix | null
  let valFeatures: FeatureMatrix | null
  try {
    trainFeatures = ctx.augmenting ? null : await featuresOf(ctx, io.train, 'train', key, harvest?.forward ?? null)
    valFeatures = io.validation
      ? await featuresOf(ctx, io.validation, 'validation', key, harvest?.forward ?? null)
      : null
  } finally {
    harvest?.dispose()
  }

  const optimizer = createOptimizer(params.optimizer, params.lr, params.momentum)
  const groups = [{ optimizer, vars: head.variables() }]
  const train = io.train
  try {
    return await runPhase({
      phase: 'head',
      firstEpoch: 1,
      epochs: params.epochs,
      trainCount: train.keys.length,
      batchSize: params.batchSize,
      random: ctx.random.shuffle,
      lr: params.lr,
      patience: params.earlyStopPatience,
      vars: groups[0]?.vars ?? [],
      emit: ctx.emit,
      onEpochEnd: io.onEpochEnd,
      signal: ctx.signal,
      prefetch: trainFeatures ? undefined : (next) => train.hint?.(next),
      step: async (idx, epoch) => {
        let x: tf.Tensor2D
        if (trainFeatures) {
          x = tf.tensor2d(gatherRows(trainFeatures.data, trainFeatures.dim, idx), [idx.length, trainFeatures.dim])
        } else {
          const pixels = await train.load(idx)
          x = poolFeatures(io.frozenBase ?? io.base, augmentLoaded(ctx, train, pixels, idx, epoch), idx.length)
        }
        const y = labelTensor(train.labels, idx)
        const w = weightTensor(ctx, train.labels, idx)
        const seed = nextSeed(ctx.random.dropout)
        try {
          return await trainStep(
            groups,
            () => head.forward(x, seed),
            y,
            w,
            () => head.penalty()
          )
        } finally {
          tf.dispose([x, y, ...(w ? [w] : [])])
        }
      },
      validate: async () => {
        if (!valFeatures || !io.validation) return null
        const acc = new LossAccumulator()
        const n = valFeatures.count
        for (let s = 0; s < n; s += params.batchSize) {
          const idx = Array.from({ length: Math.min(params.batchSize, n - s) }, (_, k) => s + k)
          const x = tf.tensor2d(gatherRows(valFeatures.data, valFeatures.dim, idx), [idx.length, valFeatures.dim])
          const y = labelTensor(io.validation.labels, idx)
          const logits = head.forward(x)
          await acc.add(logits, y)
          tf.dispose([x, y, logits])
        }
        return acc.result()
      }
    })
  } finally {
    optimizer.dispose()
  }
}
