// The learning-rate finder on a project folder: the same preparation as a training run (scan, split, base,
// feature cache), phase 1's cached training features, then the range test. Nothing is trained for keeps and no
// run is stored; the scan and split are stored as a training run would store them.
import { resolve } from 'node:path'
import type { SplitStrategy } from '@shared/domain'
import { openProjectState } from '../store/projectState'
import { ImageCache } from '../pipeline/imageCache'
import { isIdentity } from '../pipeline/augmentSpec'
import { initBackend, type BackendInfo } from '../tf/backend'
import { phaseOneFeatures } from '../training/headPhase'
import { planAuto } from '../training/auto'
import { lrFind, type LrFindOptions, type LrFindProgress, type LrFindResult } from '../training/lrFind'
import { createFeaturePool, type FeaturePool } from '../parallel/featurePool'
import type { RunEvent } from './events'
import type { TrainOptions } from './options'
import { scanStep, splitSets, splitStep } from './prepareData'
import { foldedBase, prepareBase } from './prepareBase'
import { featureCacheOptions } from './trainStep'

export type LrFindEvent = RunEvent | ({ type: 'lr-find-progress' } & LrFindProgress)

export interface LrFindOutcome {
  result: LrFindResult
  classes: string[]
  baseId: string
  backend: BackendInfo
  strategy: SplitStrategy
  trainImages: number
  /** Training images whose features came from the disk cache. */
  featuresFromDisk: number
  seconds: { prepare: number; features: number; rangeTest: number; total: number }
}

export type LrFindRange = Pick<LrFindOptions, 'startLr' | 'endLr' | 'steps'>

/** Runs the range test for the head `opts` describes (dense, dropout, optimizer, batch size, seed, class weights). */
export async function lrFindProject(
  rootDir: string,
  opts: TrainOptions,
  range: LrFindRange = {},
  onEvent: (e: LrFindEvent) => void = () => undefined,
  signal?: AbortSignal
): Promise<LrFindOutcome> {
  const t0 = performance.now()
  const root = resolve(rootDir)
  const scan = await scanStep(root, opts, onEvent)
  const state = openProjectState(root)
  let pool: FeaturePool | null = null
  try {
    // The same steps as a training run up to its first epoch (trainProject), without creating a run.
    const data = splitStep(state.store, root, scan, opts, onEvent)
    onEvent({ type: 'stage', stage: 'backend', detail: opts.backend ?? 'auto' })
    const backend = await initBackend({ prefer: opts.backend ?? 'auto' })
    onEvent({ type: 'backend', info: backend })
    const base = await prepareBase(opts, onEvent)
    const { sets, counts } = splitSets(root, data, new ImageCache(state.cacheDir), base.spec.size, opts)
    // The head the run would train: with the auto recipe, the batch size and class weights auto picks for this data.
    const head = planAuto(opts, {
      trainLabels: sets.train.set.labels,
      classes: data.classes,
      validationCount: counts.validation,
      pretrained: opts.weights.kind !== 'random'
    }).options
    const frozenBase = foldedBase(base)
    pool = createFeaturePool(base, frozenBase, backend, (message) => onEvent({ type: 'info', message }))
    const t1 = performance.now()
    if (!isIdentity(opts.augment)) {
      onEvent({
        type: 'info',
        message: 'augmentation is ignored by the range test: it runs on the cached features of the unaugmented images'
      })
    }
    const train = sets.train.set
    const io = {
      base,
      frozenBase,
      featureForward: pool.forward,
      featureCache: featureCacheOptions(state.cacheDir, opts, base)
    }
    const features = await phaseOneFeatures(io, train, {
      batchSize: head.batchSize,
      signal,
      onProgress: (p) => onEvent({ type: 'features', split: 'train', ...p })
    })
    const t2 = performance.now()
    const result = await lrFind(
      features,
      train.labels,
      {
        numClasses: data.classes.length,
        dense: head.dense,
        dropout: head.dropout,
        l2: head.l2,
        seed: head.seed,
        optimizer: head.optimizer,
        momentum: head.momentum,
        classWeights: head.classWeights ?? null,
        batchSize: head.batchSize
      },
      { ...range, signal, onProgress: (p) => onEvent({ type: 'lr-find-progress', ...p }) }
    )
    const t3 = performance.now()
    return {
      result,
      classes: data.classes,
      baseId: base.spec.id,
      backend,
      strategy: data.strategy,
      trainImages: train.keys.length,
      featuresFromDisk: features.fromDisk,
      seconds: {
        prepare: (t1 - t0) / 1000,
        features: (t2 - t1) / 1000,
        rangeTest: (t3 - t2) / 1000,
        total: (t3 - t0) / 1000
      }
    }
  } finally {
    await pool?.close()
    state.store.close()
  }
}
