// Learning-rate range test (fastai's lr_find) on pooled base features: a fresh head trains on mini-batches while
// the rate rises exponentially from startLr to endLr; the smoothed loss against the rate is the curve, and the
// suggestion is fastai's default, `valley` (steepest descent and minimum/10 are reported beside it).
// The head it trains is thrown away: nothing of the range test leaks into a run.
import * as tf from '@tensorflow/tfjs'
import { gatherRows } from './context'
import { eventYielder } from '../util/eventYield'
import { abortError } from './features'
import { ClassifierHead } from './head'
import { balancedClassWeights } from './loss'
import { createOptimizer, setLearningRate } from './optimizers'
import { nextSeed, permutation, runRandom } from './random'
import { trainStep } from './step'
import { minimumOverTen, steepest, suggestionWindow, valley, type CurvePoint } from './lrSuggest'
import type { OptimizerName } from './types'

/** The head the range test trains: the same one the run would train (TrainParams' head fields). */
export interface LrFindHead {
  numClasses: number
  dense?: number
  dropout: number
  l2?: number
  seed: number
  optimizer: OptimizerName
  momentum?: number
  classWeights?: 'balanced' | null
  batchSize: number
}

export interface LrFindOptions {
  /** Default 1e-7. */
  startLr?: number
  /** Default 10. */
  endLr?: number
  /** Mini-batches (one rate each); default 200. */
  steps?: number
  /** Stop once the smoothed loss exceeds this multiple of its best so far (fastai: 4); default 4. */
  divergeFactor?: number
  signal?: AbortSignal
  onProgress?(p: LrFindProgress): void
}

export interface LrFindProgress {
  step: number
  steps: number
  lr: number
  smoothedLoss: number
}

export interface LrFindPoint extends CurvePoint {
  /** The mini-batch's own loss (`loss` is the debiased exponential moving average, fastai's beta 0.98). */
  rawLoss: number
}

export interface LrSuggestion extends CurvePoint {
  method: 'valley'
}

export interface LrFindResult {
  points: LrFindPoint[]
  /** 'diverged': stopped early when the smoothed loss passed divergeFactor x its best (or became NaN). */
  stoppedBy: 'end' | 'diverged'
  suggestion: LrSuggestion
  steepest: CurvePoint | null
  minimum: CurvePoint | null
  startLr: number
  endLr: number
  steps: number
  seconds: number
}

export interface FeatureRows {
  /** Row-major [count, dim] pooled features. */
  data: Float32Array
  dim: number
  count: number
}

const SMOOTHING = 0.98

function validate(
  features: FeatureRows,
  labels: readonly number[],
  head: LrFindHead,
  o: Required<Pick<LrFindOptions, 'startLr' | 'endLr' | 'steps' | 'divergeFactor'>>
): void {
  if (!Number.isInteger(features.dim) || features.dim < 1)
    throw new Error(`lr-find: feature dimension must be a positive integer, got ${features.dim}`)
  if (features.count < 1) throw new Error('lr-find: the training set is empty')
  if (features.data.length !== features.count * features.dim) {
    throw new Error(
      `lr-find: expected ${features.count}x${features.dim} = ${features.count * features.dim} feature values, got ${features.data.length}`
    )
  }
  if (labels.length !== features.count)
    throw new Error(`lr-find: ${features.count} feature rows but ${labels.length} labels`)
  const bad = labels.findIndex((y) => !Number.isInteger(y) || y < 0 || y >= head.numClasses)
  if (bad >= 0)
    throw new Error(`lr-find: label ${labels[bad]} of row ${bad} is not a class index in [0, ${head.numClasses - 1}]`)
  if (!(o.startLr > 0 && Number.isFinite(o.startLr)))
    throw new Error(`lr-find: startLr must be a positive number, got ${o.startLr}`)
  if (!(o.endLr > o.startLr && Number.isFinite(o.endLr)))
    throw new Error(`lr-find: endLr must be above startLr (${o.startLr}), got ${o.endLr}`)
  if (!Number.isInteger(o.steps) || o.steps < 20 || o.steps > 10_000)
    throw new Error(`lr-find: steps must be an integer in [20, 10000], got ${o.steps}`)
  if (!(o.divergeFactor > 1)) throw new Error(`lr-find: divergeFactor must be above 1, got ${o.divergeFactor}`)
  if (!Number.isInteger(head.batchSize) || head.batchSize < 1)
    throw new Error(`lr-find: batchSize must be a positive integer, got ${head.batchSize}`)
}

/** The rate of step i of n: start * (end/start)^(i/n), as fastai's exponential schedule. */
export function rangeRate(startLr: number, endLr: number, i: number, n: number): number {
  return startLr * (endLr / startLr) ** (i / n)
}

/**
 * Runs the range test on a training set's pooled features. Mini-batches are drawn from seeded reshuffles of the
 * set (a small set is gone through several times). Throws an AbortError when `signal` aborts.
 */
export async function lrFind(
  features: FeatureRows,
  labels: readonly number[],
  head: LrFindHead,
  opts: LrFindOptions = {}
): Promise<LrFindResult> {
  const o = {
    startLr: opts.startLr ?? 1e-7,
    endLr: opts.endLr ?? 10,
    steps: opts.steps ?? 200,
    divergeFactor: opts.divergeFactor ?? 4
  }
  validate(features, labels, head, o)
  const t0 = performance.now()
  const classifier = new ClassifierHead({
    featureDim: features.dim,
    numClasses: head.numClasses,
    dense: head.dense,
    dropout: head.dropout,
    l2: head.l2,
    seed: head.seed
  })
  const optimizer = createOptimizer(head.optimizer, o.startLr, head.momentum)
  const groups = [{ optimizer, vars: classifier.variables() }]
  const random = runRandom(head.seed)
  const classWeight = head.classWeights === 'balanced' ? balancedClassWeights(labels, head.numClasses) : null
  const batch = Math.min(head.batchSize, features.count)
  const points: LrFindPoint[] = []
  let stoppedBy: LrFindResult['stoppedBy'] = 'end'
  let order: number[] = []
  let cursor = 0
  let avg = 0
  let best = Infinity
  const letEventsIn = eventYielder()
  try {
    for (let i = 0; i < o.steps; i++) {
      if (opts.signal?.aborted) throw abortError('lr-find cancelled')
      if (cursor + batch > order.length) {
        order = permutation(features.count, random.shuffle)
        cursor = 0
      }
      const idx = order.slice(cursor, cursor + batch)
      cursor += batch
      const lr = rangeRate(o.startLr, o.endLr, i, o.steps)
      setLearningRate(optimizer, lr)
      const x = tf.tensor2d(gatherRows(features.data, features.dim, idx), [idx.length, features.dim])
      const y = tf.tensor1d(
        idx.map((k) => labels[k] as number),
        'int32'
      )
      const w = classWeight
        ? tf.tensor1d(
            idx.map((k) => classWeight[labels[k] as number] as number),
            'float32'
          )
        : null
      const seed = nextSeed(random.dropout)
      let loss: number
      try {
        loss = (
          await trainStep(
            groups,
            () => classifier.forward(x, seed),
            y,
            w,
            () => classifier.penalty()
          )
        ).loss
      } finally {
        tf.dispose([x, y, ...(w ? [w] : [])])
      }
      avg = SMOOTHING * avg + (1 - SMOOTHING) * loss
      const smoothed = avg / (1 - SMOOTHING ** (i + 1))
      points.push({ lr, loss: smoothed, rawLoss: loss })
      opts.onProgress?.({ step: i + 1, steps: o.steps, lr, smoothedLoss: smoothed })
      if (!Number.isFinite(smoothed) || smoothed > o.divergeFactor * best) {
        stoppedBy = 'diverged'
        break
      }
      if (smoothed < best) best = smoothed
      await letEventsIn() // a cancel request (a message, a signal handler) is an event
    }
  } finally {
    optimizer.dispose()
    classifier.dispose()
  }
  const curve = suggestionWindow(points.filter((p) => Number.isFinite(p.loss)))
  const v = valley(curve)
  if (!v) throw new Error('lr-find: the loss was not finite at any rate; check the features')
  return {
    points,
    stoppedBy,
    suggestion: { lr: v.lr, loss: v.loss, method: 'valley' },
    steepest: steepest(curve),
    minimum: minimumOverTen(curve),
    startLr: o.startLr,
    endLr: o.endLr,
    steps: o.steps,
    seconds: (performance.now() - t0) / 1000
  }
}
