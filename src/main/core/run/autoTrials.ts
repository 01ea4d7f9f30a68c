// The `auto` recipe's measured choices, made on cached features once the base is loaded and before the run row is
// written (so the stored settings are the ones that ran):
// - the head's learning rate from a range test on the training features (fastai's lr_find valley), clamped to a
//   range where Adam on a linear or small dense head is known to behave;
// - on small projects, where a second feature pass costs seconds, squash or pad resizing: whichever gives the lower
//   validation loss with the head trained as the run will train it (photos of varied shapes are distorted by
//   squashing; on hymenoptera_data pad lowered validation loss from 0.246 to 0.171).
// Features computed here go to the disk cache under their resize mode, so the run itself does not compute them again.
import type { ResizeMode } from '@shared/domain'
import type { RunChoice } from '@shared/runConfig'
import type { BaseNetwork } from '../models'
import type { ImageCache } from '../pipeline/imageCache'
import type { FeaturePool } from '../parallel/featurePool'
import { abortError } from '../training/features'
import { phaseOneFeatures } from '../training/headPhase'
import { lrFind } from '../training/lrFind'
import { trainRun } from '../training/trainer'
import type { BaseLike } from '../training/types'
import type { RunEventListener } from './events'
import type { TrainOptions } from './options'
import { splitSets, type PreparedData, type SplitSets } from './prepareData'
import { featureCacheOptions, trainParams } from './trainStep'

/** Above this many training + validation images, auto keeps the default resizing (a second pass costs minutes). */
export const RESIZE_TRIAL_MAX_IMAGES = 2000
/** The resize modes auto compares (centre-crop loses the edges of the photo, and did not beat both on any check). */
export const RESIZE_TRIAL_MODES: readonly ResizeMode[] = ['squash', 'pad']
/**
 * The range test's suggestion is clamped to this range: above 3e-3 early-stopped heads validated worse on every
 * check (hymenoptera_data, cats_and_dogs 10/100 per class), though the valley often lies at 4e-3..1e-2.
 */
export const AUTO_LR_MIN = 3e-4
export const AUTO_LR_MAX = 3e-3

export interface AutoTrialInput {
  root: string
  opts: TrainOptions
  data: PreparedData
  sets: SplitSets
  cache: ImageCache
  cacheDir: string
  base: BaseNetwork
  frozenBase: BaseLike
  pool: FeaturePool
  emit: RunEventListener
  signal?: AbortSignal
}

export interface AutoTrials {
  options: TrainOptions
  sets: SplitSets
  choices: RunChoice[]
}

interface Trial {
  mode: ResizeMode
  sets: SplitSets
  lr: number
  suggested: number | null
  valLoss: number | null
}

const fmt = (x: number): string => x.toExponential(1)

export async function runAutoTrials(input: AutoTrialInput): Promise<AutoTrials> {
  const { opts, sets, emit, signal } = input
  if (opts.recipe !== 'auto') return { options: opts, sets, choices: [] }
  const given = (k: 'lr' | 'resizeMode'): boolean => opts.received?.[k] !== undefined
  const { counts } = sets
  const small = counts.train + counts.validation <= RESIZE_TRIAL_MAX_IMAGES
  const modes = !given('resizeMode') && counts.validation > 0 && small ? RESIZE_TRIAL_MODES : [opts.resizeMode]
  if (modes.length === 1 && given('lr')) return { options: opts, sets, choices: [] }

  const trials: Trial[] = []
  for (const mode of modes) {
    const o = { ...opts, resizeMode: mode }
    const modeSets =
      mode === opts.resizeMode ? sets : splitSets(input.root, input.data, input.cache, input.base.spec.size, o)
    const io = {
      base: input.base,
      frozenBase: input.frozenBase,
      featureForward: input.pool.forward,
      featureCache: featureCacheOptions(input.cacheDir, o, input.base)
    }
    if (modes.length > 1) emit({ type: 'info', message: `auto: trying ${mode} resizing` })
    const train = modeSets.sets.train.set
    const features = await phaseOneFeatures(io, train, {
      batchSize: opts.batchSize,
      signal,
      onProgress: (p) => emit({ type: 'features', split: 'train', ...p })
    })
    let lr = opts.lr
    let suggested: number | null = null
    if (!given('lr')) {
      const found = await lrFind(
        features,
        train.labels,
        {
          numClasses: input.data.classes.length,
          dense: opts.dense,
          dropout: opts.dropout,
          l2: opts.l2,
          seed: opts.seed,
          optimizer: opts.optimizer,
          momentum: opts.momentum,
          classWeights: opts.classWeights ?? null,
          batchSize: opts.batchSize
        },
        { signal }
      )
      suggested = found.suggestion.lr
      // Two significant digits: the rate the form and the log show is the rate that runs.
      lr = Number(Math.min(AUTO_LR_MAX, Math.max(AUTO_LR_MIN, suggested)).toPrecision(2))
    }
    let valLoss: number | null = null
    if (modes.length > 1) {
      const validation = modeSets.sets.validation.set
      await phaseOneFeatures(io, validation, {
        batchSize: opts.batchSize,
        signal,
        onProgress: (p) => emit({ type: 'features', split: 'validation', ...p })
      })
      const head = { ...o, lr, fineTuneEpochs: 0, keepBetterPhase: false }
      const result = await trainRun(trainParams(head, input.data.classes), { ...io, train, validation }, signal)
      if (result.status === 'cancelled') throw abortError()
      valLoss = Math.min(...result.epochs.map((e) => e.valLoss ?? Infinity))
      result.dispose()
      emit({ type: 'info', message: `auto: ${mode} resizing: validation loss ${valLoss.toFixed(4)} at lr ${fmt(lr)}` })
    }
    trials.push({ mode, sets: modeSets, lr, suggested, valLoss })
  }

  const best = trials.reduce((a, b) => ((b.valLoss ?? Infinity) < (a.valLoss ?? Infinity) ? b : a))
  const choices: RunChoice[] = []
  if (best.suggested !== null) {
    const clamped = best.lr !== best.suggested ? `, clamped to [${fmt(AUTO_LR_MIN)}, ${fmt(AUTO_LR_MAX)}]` : ''
    choices.push({
      setting: 'learning rate',
      value: fmt(best.lr),
      why: `range test on the cached features of the ${counts.train} training images: valley at ${fmt(best.suggested)}${clamped}`
    })
  }
  if (trials.length > 1) {
    choices.push({
      setting: 'resizing',
      value: best.mode,
      why: `lower validation loss with the head trained on each: ${trials.map((t) => `${t.mode} ${t.valLoss?.toFixed(4)}`).join(', ')}`
    })
  }
  return { options: { ...opts, lr: best.lr, resizeMode: best.mode }, sets: best.sets, choices }
}
