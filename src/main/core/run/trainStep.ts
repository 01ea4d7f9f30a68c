// Run step 4, train: the engine's parameters and inputs from the run's options, each finished epoch written to
// SQLite as it ends, and the seconds of each phase.
import type { BaseNetwork } from '../models'
import type { ProjectStore } from '../store/projectStore'
import type { BackendInfo } from '../tf/backend'
import { isIdentity } from '../pipeline/augmentSpec'
import { trainRun } from '../training/trainer'
import type { BaseLike, FeatureCacheOptions, TrainIO, TrainParams, TrainResult } from '../training/types'
import { toNewEpoch } from '../eval/storeRows'
import type { RunEvent, RunEventListener } from './events'
import type { FeaturePool } from '../parallel/featurePool'
import type { TrainOptions } from './options'
import type { SplitSets } from './prepareData'
import type { StageTimer } from './timings'
import { appendRunChoices } from './storedConfig'
import { keptPhaseChoice } from './runDefaults'

/** The training engine's parameters: the run options without what only preparation and evaluation read. */
export function trainParams(opts: TrainOptions, classes: string[]): TrainParams {
  const {
    recipe: _recipe,
    received: _received,
    baseId: _b,
    weights: _w,
    size: _s,
    resizeMode: _r,
    split: _sp,
    backend: _be,
    topN: _t,
    unsureThreshold: _u,
    rescan: _re,
    evaluateTrain: _et,
    ...engine
  } = opts
  return { ...engine, classes, classWeights: opts.classWeights ?? null }
}

/** Where and under which key the frozen base's features are cached (the learning-rate finder uses the same). */
export function featureCacheOptions(cacheDir: string, opts: TrainOptions, base: BaseNetwork): FeatureCacheOptions {
  return { dir: cacheDir, resizeMode: opts.resizeMode, weightsChecksum: base.weightsSource.sha256 }
}

/** What the train and evaluate steps share: the run, its options and data, the networks and the event sink. */
export interface RunStepContext {
  store: ProjectStore
  runId: number
  opts: TrainOptions
  classes: string[]
  data: SplitSets
  base: BaseNetwork
  frozenBase: BaseLike
  backend: BackendInfo
  emit: RunEventListener
}

export interface TrainStepInput extends RunStepContext {
  cacheDir: string
  timer: StageTimer
}

export interface Trained {
  result: TrainResult
  /** What evaluation reuses: the same feature cache and forward pool. */
  io: TrainIO
}

/** Trains with a feature pool the caller closes (evaluation still needs it). */
export async function trainStep(input: TrainStepInput, pool: FeaturePool, signal?: AbortSignal): Promise<Trained> {
  const { store, runId, opts, classes, data, base, frozenBase, timer, emit } = input
  const { sets, counts } = data
  emit({ type: 'stage', stage: 'train', detail: isIdentity(opts.augment) ? 'augmentation off' : 'augmentation on' })
  let phaseMark = performance.now()
  let phase: 'head' | 'fine-tune' | null = null
  const phaseName = (p: 'head' | 'fine-tune'): string => (p === 'head' ? 'phase1' : 'phase2')
  const io: TrainIO = {
    base,
    frozenBase,
    featureForward: pool.forward,
    featureCutForward: pool.cutForward,
    train: sets.train.set,
    validation: counts.validation > 0 ? sets.validation.set : undefined,
    featureCache: featureCacheOptions(input.cacheDir, opts, base),
    onEvent: (e: RunEvent) => {
      if (e.type === 'phase-start') {
        // Phase 2 and the evaluation after it run the changed base elsewhere: the feature workers' memory
        // (a wasm heap each, ~160 MiB for MobileNetV2 0.35 @224) is given back; they restart if features are needed.
        if (e.phase === 'fine-tune') void pool.close()
        const now = performance.now()
        if (phase) timer.seconds[phaseName(phase)] = (now - phaseMark) / 1000
        phase = e.phase
        phaseMark = now
      }
      emit(e)
    },
    onEpochEnd: (e) => {
      store.appendEpoch(runId, toNewEpoch(e))
      store.heartbeat(runId)
    }
  }
  const result = await trainRun(trainParams(opts, classes), io, signal)
  if (result.keptPhase) appendRunChoices(store, runId, [keptPhaseChoice(result.keptPhase)])
  if (phase) timer.record(phaseName(phase), phaseMark)
  else timer.restart()
  return { result, io }
}
