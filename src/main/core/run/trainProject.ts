// One training run end to end: scan -> split -> backend -> base weights -> train -> evaluate -> store.
// Used by the CLI `train` command and by the app's training worker alike.
import { resolve } from 'node:path'
import type { SplitName, SplitStrategy } from '@shared/domain'
import { SPLIT_NAMES } from '@shared/domain'
import { scanProject } from '../project/scan'
import { assignSplits } from '../project/split'
import { openProjectState } from '../store/projectState'
import { readScanRecords } from '../store/scanRecords'
import type { ProjectStore } from '../store/projectStore'
import type { JsonValue } from '../store/rows'
import { ImageCache } from '../pipeline/imageCache'
import { isIdentity } from '../pipeline/augment'
import { initBackend, type BackendInfo } from '../tf/backend'
import { buildBase, loadBase, parseBaseId, formatBaseId, type BaseNetwork } from '../models'
import { trainRun } from '../training/trainer'
import { extractFeatures } from '../training/features'
import { featureCacheKeyOf } from '../training/headPhase'
import type { BaseLike, ImageSet, TrainIO, TrainParams, TrainResult } from '../training/types'
import { evaluateSet, type PredictFn } from '../eval/evaluate'
import { toNewEpoch, toNewPredictions } from '../eval/storeRows'
import { foldBatchNorm } from '../tf/foldBatchNorm'
import { exportModel } from '../export/exportModel'
import { createFeaturePool, createModelPredictor, type FeaturePool } from './featurePool'
import { join } from 'node:path'
import type { SplitMetrics } from '../eval/types'
import type { Analyses } from '../eval/analyses'
import type { RunEvent, RunEventListener } from './events'
import { imageSetFor, type SplitImages } from './imageSets'
import type { TrainOptions } from './options'

export interface RunOutcome {
  runId: number
  dbPath: string
  status: 'completed' | 'cancelled'
  backend: BackendInfo
  classes: string[]
  seconds: Record<string, number>
  metrics: Partial<Record<SplitName, SplitMetrics>>
  /** Kept for export/predict by the caller; dispose with result.dispose(). */
  result: TrainResult
  base: BaseNetwork
}

const DEFAULT_STRATEGY: SplitStrategy = { kind: 'ratios', ratios: [0.8, 0.1, 0.1], seed: 42 }

function resolvedBaseId(opts: TrainOptions): string {
  const parsed = parseBaseId(opts.baseId)
  return opts.size === undefined ? formatBaseId(parsed) : formatBaseId({ ...parsed, size: opts.size })
}

async function prepareBase(opts: TrainOptions, emit: RunEventListener): Promise<BaseNetwork> {
  const id = resolvedBaseId(opts)
  const w = opts.weights
  if (w.kind === 'random') {
    emit({ type: 'stage', stage: 'weights', detail: `${id} with random weights (no pretraining)` })
    return buildBase(id)
  }
  if (w.kind === 'file') {
    emit({ type: 'stage', stage: 'weights', detail: `${id} with weights from ${w.path}` })
    return loadBase(id, { path: w.path })
  }
  emit({
    type: 'stage',
    stage: 'weights',
    detail: `${id} with the official Keras ImageNet weights (downloaded once, then cached)`
  })
  return loadBase(id, {
    download: true,
    baseUrl: w.baseUrl,
    cacheDir: w.cacheDir,
    onProgress: (p) =>
      emit({ type: 'download-progress', bytes: p.bytes, total: p.total ?? null, bytesPerSecond: p.bytesPerSecond })
  })
}

function trainParams(opts: TrainOptions, classes: string[]): TrainParams {
  const {
    baseId: _b,
    weights: _w,
    size: _s,
    resizeMode: _r,
    split: _sp,
    backend: _be,
    topN: _t,
    unsureThreshold: _u,
    rescan: _re,
    ...engine
  } = opts
  return { ...engine, classes, classWeights: opts.classWeights ?? null }
}

/** The store's image id of each relative path (predictions are stored against image rows). */
function imageIdsByPath(store: ProjectStore, projectId: number): (path: string) => number {
  const ids = new Map(store.listImages(projectId).map((r) => [r.relPath, r.id]))
  return (path) => {
    const id = ids.get(path)
    if (id === undefined) throw new Error(`internal: no stored image for ${path}`)
    return id
  }
}

/** Where the trained model of a completed run is kept (TF.js layers format + tunelab.json). */
export function runModelDir(modelsDir: string, runId: number): string {
  return join(modelsDir, `run-${runId}`)
}

/** The base with BatchNorm folded into the convolutions: same outputs, about twice as fast forward. */
function foldedBase(base: BaseNetwork): BaseLike {
  return { spec: base.spec, model: foldBatchNorm(base.model), preprocess: (x) => base.preprocess(x), input: (px, n) => base.input(px, n) }
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

/**
 * Trains on the project at `root`. Every epoch is in SQLite when it ends; a cancelled run keeps its finished
 * epochs and is stored as 'cancelled'; an error stores the run as 'failed' with the message, then rethrows.
 */
export async function trainProject(
  rootDir: string,
  opts: TrainOptions,
  onEvent: RunEventListener = () => undefined,
  signal?: AbortSignal
): Promise<RunOutcome> {
  const root = resolve(rootDir)
  const seconds: Record<string, number> = {}
  const t0 = performance.now()
  let mark = t0
  const lap = (name: string): void => {
    const now = performance.now()
    seconds[name] = (seconds[name] ?? 0) + (now - mark) / 1000
    mark = now
  }
  const emit = (e: RunEvent): void => onEvent(e)

  emit({ type: 'stage', stage: 'scan', detail: root })
  // Files unchanged since the last stored scan are not read again (readScanRecords creates nothing).
  const scan = await scanProject(root, {
    previous: opts.rescan === true ? undefined : readScanRecords(root),
    onProgress: (done, total) => emit({ type: 'scan-progress', done, total })
  })
  lap('scan')

  const state = openProjectState(root)
  const { store } = state
  let runId: number | null = null
  let pool: FeaturePool | null = null
  try {
    const projectId = store.upsertProject(root, scan.layout)
    store.saveScan(projectId, scan)

    const stored = store.getSplit(projectId)
    const strategy = opts.split === 'reuse' ? (stored?.strategy ?? DEFAULT_STRATEGY) : opts.split
    if (strategy.kind === 'folder' && scan.layout !== 'presplit')
      throw new Error('split: the folder split needs train/validation/test subfolders, and this folder is flat')
    const assignment = assignSplits(scan.images, strategy)
    const same =
      stored !== null &&
      JSON.stringify(stored.strategy) === JSON.stringify(strategy) &&
      stored.assignment.size === assignment.size &&
      [...assignment].every(([p, s]) => stored.assignment.get(p) === s)
    const split = same && stored ? stored : store.saveSplit(projectId, strategy, assignment)
    emit({
      type: 'stage',
      stage: 'split',
      detail: same ? `reusing stored split #${split.id}` : `new split #${split.id}: ${JSON.stringify(strategy)}`
    })
    lap('split')

    const classes = scan.classes.map((c) => c.name)
    emit({ type: 'stage', stage: 'backend', detail: opts.backend ?? 'auto' })
    const backend = await initBackend({ prefer: opts.backend ?? 'auto' })
    emit({ type: 'backend', info: backend })
    lap('backend')

    const base = await prepareBase(opts, emit)
    lap('weights')
    const size = base.spec.size
    const cache = new ImageCache(state.cacheDir)
    const sets = Object.fromEntries(
      SPLIT_NAMES.map((s) => [s, imageSetFor(root, scan.images, assignment, s, classes, cache, size, opts.resizeMode)])
    ) as Record<SplitName, SplitImages>
    const counts = Object.fromEntries(SPLIT_NAMES.map((s) => [s, sets[s].images.length])) as Record<SplitName, number>
    if (counts.train === 0) throw new Error('split: the train split is empty')
    for (const [i, c] of classes.entries()) {
      if (!sets.train.set.labels.includes(i)) throw new Error(`split: class '${c}' has no image in the train split`)
    }

    const config = { ...opts, baseId: base.spec.id, classes, splitId: split.id, strategy } as unknown as JsonValue
    const run = store.createRun({
      projectId: projectId,
      config,
      classes,
      splitId: split.id,
      baseId: base.spec.id,
      weightsSource: base.weightsSource.path ?? base.weightsSource.kind,
      weightsChecksum: base.weightsSource.sha256 ?? null,
      backend: backend.name,
      backendNotes: backend as unknown as JsonValue,
      seed: opts.seed
    })
    runId = run.id
    store.markRunStarted(run.id, { backend: backend.name, notes: backend as unknown as JsonValue })
    emit({ type: 'run-created', runId: run.id, dbPath: state.dbPath, classes, counts })

    emit({ type: 'stage', stage: 'train', detail: isIdentity(opts.augment) ? 'augmentation off' : 'augmentation on' })
    const params = trainParams(opts, classes)
    let phaseMark = performance.now()
    let phase: 'head' | 'fine-tune' | null = null
    const frozenBase = foldedBase(base)
    pool = createFeaturePool(base, frozenBase, backend, (message) => emit({ type: 'info', message }))
    const io: TrainIO = {
      base,
      frozenBase,
      featureForward: pool.forward,
      train: sets.train.set,
      validation: counts.validation > 0 ? sets.validation.set : undefined,
      featureCache: { dir: state.cacheDir, resizeMode: opts.resizeMode, weightsChecksum: base.weightsSource.sha256 },
      onEvent: (e) => {
        if (e.type === 'phase-start') {
          const now = performance.now()
          if (phase) seconds[phase === 'head' ? 'phase1' : 'phase2'] = (now - phaseMark) / 1000
          phase = e.phase
          phaseMark = now
        }
        emit(e)
      },
      onEpochEnd: (e) => {
        store.appendEpoch(run.id, toNewEpoch(e))
        store.heartbeat(run.id)
      }
    }
    const result = await trainRun(params, io, signal)
    if (phase) seconds[phase === 'head' ? 'phase1' : 'phase2'] = (performance.now() - phaseMark) / 1000
    mark = performance.now()

    if (result.status === 'cancelled') {
      store.finishRun(run.id, 'cancelled', { timings: seconds as unknown as JsonValue })
      seconds.total = (performance.now() - t0) / 1000
      return {
        runId: run.id,
        dbPath: state.dbPath,
        status: 'cancelled',
        backend,
        classes,
        seconds,
        metrics: {},
        result,
        base
      }
    }

    const metrics: Partial<Record<SplitName, SplitMetrics>> = {}
    const analyses: Partial<Record<SplitName, Analyses>> = {}
    // After fine-tuning the cached features are stale: the whole model runs again, on all cores.
    const fineTuned =
      result.baseChanged && counts.validation + counts.test > 0
        ? await createModelPredictor(result, base, backend, result.predict, (message) =>
            emit({ type: 'info', message })
          )
        : null
    try {
      for (const s of ['validation', 'test'] as const) {
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
        store.savePredictions(run.id, toNewPredictions(ev.rows, s, classes, idOf))
        store.saveAnalysis(run.id, `analyses:${s}`, ev.analyses as unknown as JsonValue)
        store.saveAnalysis(run.id, `metrics:${s}`, ev.metrics as unknown as JsonValue)
        metrics[s] = ev.metrics
        analyses[s] = ev.analyses
        emit({ type: 'evaluation', split: s, metrics: ev.metrics })
      }
    } finally {
      await fineTuned?.close()
    }
    lap('evaluate')
    const summary = Object.fromEntries(
      Object.entries(metrics).map(([s, m]) => [s, { accuracy: m.accuracy, loss: m.loss, count: m.count }])
    )
    emit({ type: 'stage', stage: 'save', detail: runModelDir(state.modelsDir, run.id) })
    await exportModel(
      {
        model: result.model,
        classes,
        base: { id: base.spec.id, size },
        resizeMode: opts.resizeMode,
        preprocessing: base.spec.preprocessing,
        outputUnits: result.outputUnits,
        runId: String(run.id),
        metrics: summary
      },
      runModelDir(state.modelsDir, run.id),
      { overwrite: true }
    )
    lap('save')
    seconds.total = (performance.now() - t0) / 1000
    store.finishRun(run.id, 'completed', {
      metrics: summary as unknown as JsonValue,
      timings: seconds as unknown as JsonValue
    })
    return {
      runId: run.id,
      dbPath: state.dbPath,
      status: 'completed',
      backend,
      classes,
      seconds,
      metrics,
      result,
      base
    }
  } catch (err) {
    if (runId !== null) {
      const cancelled = err instanceof Error && err.name === 'AbortError'
      store.finishRun(runId, cancelled ? 'cancelled' : 'failed', {
        error: cancelled ? null : String((err as Error).message ?? err),
        timings: seconds as unknown as JsonValue
      })
    }
    throw err
  } finally {
    await pool?.close()
    store.close()
  }
}
