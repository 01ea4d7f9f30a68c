// The `auto` recipe's data-dependent choices, made once the split is known and before training starts.
// Training is sized in optimizer steps, not epochs: phase 1 runs on cached features (nearly free), so the head
// trains to convergence under early stopping on validation loss with the best weights restored; phase 2 fine-tunes
// the top of the base at a much lower rate only while validation improves, and the better phase is kept.
// Only what the request left out is decided here; every choice is returned with its reason.
import type { RunChoice, RunConfig } from '@shared/runConfig'
import type { TrainOptions } from '../run/options'

export interface AutoData {
  /** Class index of every training image. */
  trainLabels: readonly number[]
  classes: readonly string[]
  validationCount: number
  /** False for random weights: there is nothing pretrained to fine-tune gently. */
  pretrained: boolean
  /** The backend in use: fine-tuning is only worth its cost on a native one. */
  backend?: string
}

/** Backends on which auto fine-tunes; on wasm/cpu a phase-2 epoch costs several whole feature passes. */
const FINE_TUNE_BACKENDS: ReadonlySet<string> = new Set(['tensorflow-gpu', 'tensorflow'])

/** Phase 1 stops after this many optimizer steps at most (early stopping usually ends it well before). */
export const HEAD_MAX_STEPS = 3000
/** Phase 1 stops when validation loss has not improved for about this many steps. */
export const HEAD_PATIENCE_STEPS = 400
/** Phase 2 budget in optimizer steps; it also stops at the first epoch that does not improve validation loss. */
export const FINE_TUNE_MAX_STEPS = 200
/** Balanced class weights when the largest class has more than this many times the images of the smallest. */
export const IMBALANCE_RATIO = 3

const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v))

export function classCounts(labels: readonly number[], classes: number): number[] {
  const counts = new Array<number>(classes).fill(0)
  for (const y of labels) counts[y] = (counts[y] ?? 0) + 1
  return counts
}

/** The options `auto` runs with and why; options of other recipes come back unchanged with no choices. */
export function planAuto(opts: TrainOptions, data: AutoData): { options: TrainOptions; choices: RunChoice[] } {
  if (opts.recipe !== 'auto') return { options: opts, choices: [] }
  const given = (k: keyof RunConfig): boolean => opts.received?.[k] !== undefined
  const choices: RunChoice[] = []
  const o: TrainOptions = { ...opts }
  const n = data.trainLabels.length
  const choose = (setting: string, value: string, why: string): void => {
    choices.push({ setting, value, why })
  }

  if (!given('batchSize')) {
    o.batchSize = n < 500 ? 16 : 32
    choose(
      'batch size',
      String(o.batchSize),
      n < 500 ? `${n} training images: smaller batches give more updates per epoch` : `${n} training images`
    )
  }
  const stepsPerEpoch = Math.max(1, Math.ceil(n / o.batchSize))
  const hasVal = data.validationCount > 0

  if (!given('epochs')) {
    o.epochs = hasVal
      ? clamp(Math.ceil(HEAD_MAX_STEPS / stepsPerEpoch), 5, 1000)
      : clamp(Math.ceil(500 / stepsPerEpoch), 5, 1000)
    choose(
      'phase 1 epochs (at most)',
      String(o.epochs),
      hasVal
        ? `up to ${o.epochs * stepsPerEpoch} optimizer steps (${stepsPerEpoch} per epoch); early stopping ends it when validation loss stops improving`
        : `no validation set to stop on: a fixed budget of about 500 optimizer steps (${stepsPerEpoch} per epoch)`
    )
  }
  if (!given('earlyStopPatience') && hasVal) {
    const wanted = Math.ceil(HEAD_PATIENCE_STEPS / stepsPerEpoch)
    o.earlyStopPatience = clamp(wanted, 3, 50)
    const steps = o.earlyStopPatience * stepsPerEpoch
    // The reason states the steps this patience really waits (a tiny project at 1-2 steps per epoch hits the cap).
    choose(
      'early stopping patience',
      `${o.earlyStopPatience} epochs`,
      `waits ${o.earlyStopPatience} epochs (${steps} optimizer steps at ${stepsPerEpoch} per epoch) for a lower validation loss` +
        (wanted > 50 ? `; auto aims for about ${HEAD_PATIENCE_STEPS} steps but never waits more than 50 epochs` : '') +
        (wanted < 3 ? `; auto aims for about ${HEAD_PATIENCE_STEPS} steps but always waits at least 3 epochs` : '') +
        "; the best epoch's weights are kept"
    )
  }

  if (!given('classWeights')) {
    const counts = classCounts(data.trainLabels, data.classes.length)
    const most = Math.max(...counts)
    const least = Math.max(1, Math.min(...counts))
    const ratio = most / least
    o.classWeights = ratio > IMBALANCE_RATIO ? 'balanced' : null
    choose(
      'class weights',
      o.classWeights ?? 'none',
      `largest class ${most} images, smallest ${Math.min(...counts)}: ratio ${ratio.toFixed(1)} ${ratio > IMBALANCE_RATIO ? '>' : '≤'} ${IMBALANCE_RATIO}`
    )
  }

  if (!given('fineTuneEpochs')) {
    if (!hasVal) {
      o.fineTuneEpochs = 0
      choose('fine-tuning', 'off', 'no validation set to tell whether fine-tuning helps')
    } else if (!data.pretrained) {
      o.fineTuneEpochs = 0
      choose('fine-tuning', 'off', 'random weights: nothing pretrained to fine-tune gently')
    } else if (data.backend !== undefined && !FINE_TUNE_BACKENDS.has(data.backend)) {
      o.fineTuneEpochs = 0
      choose(
        'fine-tuning',
        'off',
        `on ${data.backend} a fine-tuning epoch costs several passes of the frozen layers, and in TuneLab's own measurement ` +
          '(hymenoptera_data, not this project; no augmentation) fine-tuning from the default layer did not beat the head ' +
          '(validation loss 0.2452 -> 0.2465 at lr 1e-5, 0.2599 at 1e-4, 0.2454 at 3e-4); ask for it with the fine-tune settings'
      )
    } else {
      o.fineTuneEpochs = clamp(Math.ceil(FINE_TUNE_MAX_STEPS / stepsPerEpoch), 1, 20)
      if (!given('fineTuneLr')) o.fineTuneLr = o.lr / 100
      o.keepBetterPhase = true
      o.fineTunePatience = 1
      choose(
        'fine-tuning',
        `up to ${o.fineTuneEpochs} epochs at ${o.fineTuneLr?.toExponential(0)}`,
        `top of the base (from its default layer) at lr/100, stopped at the first epoch without a lower validation loss; the phase with the lower validation loss is kept`
      )
    }
  }
  if (!given('augment'))
    choose(
      'augmentation',
      'off',
      'features are computed once and cached: training on them is many times faster than augmenting every batch'
    )
  return { options: o, choices }
}
