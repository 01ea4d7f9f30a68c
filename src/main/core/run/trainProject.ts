// One training run end to end, as named steps: prepare data (scan, split) -> backend and base -> create run ->
// train -> evaluate -> save. Used by the CLI `train` command and by the app's training worker alike.
import { resolve } from 'node:path'
import type { ScanResult, SplitName } from '@shared/domain'
import { openProjectState, type ProjectState } from '../store/projectState'
import type { JsonValue } from '../store/rows'
import { ImageCache } from '../pipeline/imageCache'
import { initBackend, type BackendInfo } from '../tf/backend'
import type { BaseNetwork } from '../models'
import type { TrainResult } from '../training/types'
import type { SplitMetrics } from '../eval/types'
import { createFeaturePool, type FeaturePool } from '../parallel/featurePool'
import type { RunEvent, RunEventListener } from './events'
import type { TrainOptions } from './options'
import { scanStep, splitSets, splitStep } from './prepareData'
import { foldedBase, prepareBase } from './prepareBase'
import { runScanWarm } from './runScanWarm'
import { createRunStep } from './createRun'
import { trainStep } from './trainStep'
import { evaluateStep } from './evaluateStep'
import { saveStep, summarize } from './saveStep'
import { StageTimer } from './timings'
import { checkTrainingFits } from '../training/limits'
import { planAuto } from '../training/auto'
import { runAutoTrials } from './autoTrials'

export { runModelDir } from '../store/runModelDir'

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
  /** The saved model of a completed run (runModelDir), null otherwise. */
  modelDir: string | null
}

/** Where the run's events and rows go: a run row begun by the caller (the app does, to know its id up front). */
export interface RunTarget {
  runId: number
}

/**
 * Trains on the project at `root`. Every epoch is in SQLite when it ends; a cancelled run keeps its finished
 * epochs and is stored as 'cancelled'; an error stores the run as 'failed' with the message, then rethrows.
 * Without a target the run row is created once the data and the base are ready (errors before that leave no run).
 */
export async function trainProject(
  rootDir: string,
  requested: TrainOptions,
  onEvent: RunEventListener = () => undefined,
  signal?: AbortSignal,
  target?: RunTarget
): Promise<RunOutcome> {
  const root = resolve(rootDir)
  let opts = requested
  const timer = new StageTimer()
  const emit = (e: RunEvent): void => onEvent(e)
  let runId: number | null = target?.runId ?? null
  let state: ProjectState | null = null
  let pool: FeaturePool | null = null
  try {
    // With the fewest classes a run can have: a head that cannot fit even then fails before the scan warms the
    // image cache (which would create the project's state folder for a run that never starts).
    checkTrainingFits({ ...opts, classes: 2 })
    const warming = runScanWarm(root, opts)
    let scan: ScanResult
    try {
      scan = await scanStep(root, opts, emit, warming.warm)
      timer.lap('scan')
      checkTrainingFits({ ...opts, classes: scan.classes.length })
    } catch (err) {
      warming.discard()
      throw err
    }

    state = openProjectState(root)
    const { store } = state
    const data = splitStep(store, root, scan, opts, emit)
    const { classes } = data
    timer.lap('split')

    emit({ type: 'stage', stage: 'backend', detail: opts.backend ?? 'auto' })
    const backend = await initBackend({ prefer: opts.backend ?? 'auto' })
    emit({ type: 'backend', info: backend })
    timer.lap('backend')

    const base = await prepareBase(opts, emit)
    timer.lap('weights')
    const imageCache = new ImageCache(state.cacheDir)
    let sets = splitSets(root, data, imageCache, base.spec.size, opts)

    const plan = planAuto(opts, {
      trainLabels: sets.sets.train.set.labels,
      classes,
      validationCount: sets.counts.validation,
      pretrained: opts.weights.kind !== 'random',
      backend: backend.name
    })
    opts = plan.options
    const frozenBase = foldedBase(base)
    pool = createFeaturePool(base, frozenBase, backend, (message) => emit({ type: 'info', message }))
    const cacheDir = state.cacheDir
    const measured = await runAutoTrials({
      root,
      opts,
      data,
      sets,
      cache: imageCache,
      cacheDir,
      base,
      frozenBase,
      pool,
      emit,
      signal
    })
    ;({ options: opts, sets } = measured)
    if (opts.recipe === 'auto') timer.lap('auto')
    const choices = [...plan.choices, ...measured.choices]
    for (const c of choices) emit({ type: 'info', message: `auto: ${c.setting} ${c.value} (${c.why})` })
    const run = createRunStep(store, state.dbPath, opts, data, sets, base, backend, emit, choices, target)
    runId = run.id

    const step = { store, runId: run.id, opts, classes, data: sets, base, frozenBase, backend, emit }
    const { result, io } = await trainStep({ ...step, cacheDir: state.cacheDir, timer }, pool, signal)
    const outcome = { runId: run.id, dbPath: state.dbPath, backend, classes, result, base }

    if (result.status === 'cancelled') {
      store.finishRun(run.id, 'cancelled', { timings: timer.seconds as unknown as JsonValue })
      return { ...outcome, status: 'cancelled', seconds: timer.total(), metrics: {}, modelDir: null }
    }

    const metrics = await evaluateStep({ ...step, projectId: data.projectId, io, result }, signal)
    timer.lap('evaluate')
    const summary = summarize(metrics)
    const modelDir = await saveStep(state.modelsDir, run.id, opts, classes, base, result, summary, emit)
    timer.lap('save')
    const seconds = timer.total()
    store.finishRun(run.id, 'completed', {
      metrics: summary as unknown as JsonValue,
      timings: seconds as unknown as JsonValue
    })
    return { ...outcome, status: 'completed', seconds, metrics, modelDir }
  } catch (err) {
    if (runId !== null) {
      // Cancel wins over failure: a run the user cancelled that then failed while stopping is 'cancelled'.
      const cancelled = (err instanceof Error && err.name === 'AbortError') || signal?.aborted === true
      state ??= openProjectState(root)
      state.store.finishRun(runId, cancelled ? 'cancelled' : 'failed', {
        error: cancelled ? null : String((err as Error).message ?? err),
        timings: timer.seconds as unknown as JsonValue
      })
    }
    throw err
  } finally {
    await pool?.close()
    state?.store.close()
  }
}
