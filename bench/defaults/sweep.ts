// Best of a sweep (learning rate x epochs x dense head yes/no) on a project's cached features and stored split.
// One phase-1 run per (rate, head) to the largest epoch count of the grid gives the validation accuracy after every
// epoch: with a fixed seed and a constant rate, training for E epochs is exactly the first E epochs of a longer
// run. The best (rate, head, epochs) by validation accuracy is then trained again for its epochs, for its test
// accuracy.
import { resolve } from 'node:path'
import { NO_AUGMENTATION, type ResizeMode, type SplitName } from '../../src/shared/domain'
import { openProjectState } from '../../src/main/core/store/projectState'
import { ImageCache } from '../../src/main/core/pipeline/imageCache'
import { initBackend } from '../../src/main/core/tf/backend'
import { DEFAULT_TRAIN_OPTIONS, type TrainOptions } from '../../src/main/core/run/options'
import { scanStep, splitSets, splitStep } from '../../src/main/core/run/prepareData'
import { foldedBase, prepareBase } from '../../src/main/core/run/prepareBase'
import { createFeaturePool } from '../../src/main/core/parallel/featurePool'
import { featureCacheOptions } from '../../src/main/core/run/trainStep'
import { phaseOneFeatures } from '../../src/main/core/training/headPhase'
import { trainRun } from '../../src/main/core/training/trainer'
import type { TrainIO, TrainParams } from '../../src/main/core/training/types'

export interface SweepGrid {
  lrs: number[]
  epochs: number[]
  dense: number[]
  /** Epoch counts whose optimizer steps exceed this are left out of the grid for the data set. */
  maxSteps: number
}

export interface SweepBest {
  val: number
  test: number | null
  config: {
    lr: number
    epochs: number
    dense: number
    batchSize: number
    optimizer: string
    dropout: number
    resizeMode: ResizeMode
  }
  /** Configurations tried, and the seconds the sweep took. */
  tried: number
  seconds: number
}

function accuracy(probs: Float32Array, labels: readonly number[]): number {
  const k = probs.length / Math.max(1, labels.length)
  let right = 0
  labels.forEach((y, i) => {
    let best = 0
    for (let c = 1; c < k; c++) if ((probs[i * k + c] ?? 0) > (probs[i * k + best] ?? 0)) best = c
    if (best === y) right++
  })
  return right / Math.max(1, labels.length)
}

export async function sweep(
  root: string,
  base: { baseId: string; weightsPath: string; resizeMode?: ResizeMode },
  grid: SweepGrid,
  log: (s: string) => void
): Promise<SweepBest> {
  const t0 = performance.now()
  const opts: TrainOptions = {
    ...DEFAULT_TRAIN_OPTIONS,
    baseId: base.baseId,
    weights: { kind: 'file', path: base.weightsPath },
    split: 'reuse',
    augment: NO_AUGMENTATION,
    resizeMode: base.resizeMode ?? DEFAULT_TRAIN_OPTIONS.resizeMode
  }
  const dir = resolve(root)
  const noop = (): void => undefined
  const scan = await scanStep(dir, opts, noop)
  const state = openProjectState(dir)
  try {
    const data = splitStep(state.store, dir, scan, opts, noop)
    const backend = await initBackend({ prefer: 'auto' })
    const network = await prepareBase(opts, noop)
    const { sets, counts } = splitSets(dir, data, new ImageCache(state.cacheDir), network.spec.size, opts)
    const frozenBase = foldedBase(network)
    const pool = createFeaturePool(network, frozenBase, backend, noop)
    try {
      const io = {
        base: network,
        frozenBase,
        featureForward: pool.forward,
        featureCache: featureCacheOptions(state.cacheDir, opts, network)
      }
      const features = async (s: SplitName): Promise<{ data: Float32Array; labels: readonly number[] } | null> => {
        if (counts[s] === 0) return null
        const f = await phaseOneFeatures(io, sets[s].set, { batchSize: 32 })
        if (f.fromDisk < f.count) log(`    sweep: ${f.count - f.fromDisk} ${s} features were not cached yet`)
        return { data: f.data, labels: sets[s].set.labels }
      }
      const test = await features('test')
      await features('train')
      await features('validation')
      if (counts.validation === 0) throw new Error(`${root}: the sweep needs a validation split`)
      const stepsPerEpoch = Math.ceil(counts.train / 32)
      const epochGrid = grid.epochs.filter((e) => e * stepsPerEpoch <= grid.maxSteps)
      if (epochGrid.length === 0) epochGrid.push(Math.max(1, Math.floor(grid.maxSteps / stepsPerEpoch)))
      const maxEpochs = Math.max(...epochGrid)
      const params = (lr: number, dense: number, epochs: number): TrainParams => ({
        classes: data.classes,
        epochs,
        batchSize: 32,
        lr,
        optimizer: 'adam',
        dense: dense || undefined,
        dropout: 0.2,
        seed: 42,
        augment: NO_AUGMENTATION,
        classWeights: null
      })
      const trainIO = (onEpoch?: (epoch: number, valAccuracy: number | null) => void): TrainIO => ({
        ...io,
        train: sets.train.set,
        validation: sets.validation.set,
        onEpochEnd: (e) => onEpoch?.(e.epoch, e.valAccuracy)
      })
      let best: { val: number; lr: number; dense: number; epochs: number } | null = null
      for (const dense of grid.dense) {
        for (const lr of grid.lrs) {
          const atEpoch = new Map<number, number>()
          const r = await trainRun(
            params(lr, dense, maxEpochs),
            trainIO((e, v) => v !== null && atEpoch.set(e, v))
          )
          r.dispose()
          for (const e of epochGrid) {
            const v = atEpoch.get(e) ?? -1
            if (!best || v > best.val) best = { val: v, lr, dense, epochs: e }
          }
          log(
            `    sweep lr ${lr} dense ${dense}: val ${epochGrid.map((e) => `${e}ep ${(atEpoch.get(e) ?? NaN).toFixed(3)}`).join(', ')}`
          )
        }
      }
      if (!best) throw new Error('sweep: empty grid')
      const again = await trainRun(params(best.lr, best.dense, best.epochs), trainIO())
      const testAcc = test ? accuracy(await again.headProbabilities(test.data, test.labels.length), test.labels) : null
      again.dispose()
      return {
        val: best.val,
        test: testAcc,
        config: {
          lr: best.lr,
          epochs: best.epochs,
          dense: best.dense,
          batchSize: 32,
          optimizer: 'adam',
          dropout: 0.2,
          resizeMode: opts.resizeMode
        },
        tried: grid.lrs.length * grid.dense.length * epochGrid.length,
        seconds: (performance.now() - t0) / 1000
      }
    } finally {
      await pool.close()
    }
  } finally {
    state.store.close()
  }
}
