// Training form values and their validation. The settings, their limits and the recipes come from the one run-config
// schema (src/shared/runConfig.ts, src/shared/recipes.ts); the form only adds what a form needs (on/off switches,
// an empty field meaning "auto decides").
import {
  describeLimit,
  limitError,
  type LimitedSetting,
  type OptimizerName,
  type RecipeName,
  type RunConfig,
  type StoredRunConfig
} from '@shared/runConfig'
import { RECIPES } from '@shared/recipes'

export type { OptimizerName, RecipeName }

export type WeightsKind = 'official' | 'random' | 'file'

export const OPTIMIZER_LABELS: Record<OptimizerName, string> = { adam: 'Adam', rmsprop: 'RMSprop', sgd: 'SGD' }

/** A base model the form offers, with what the form shows of it. */
export interface BaseChoice {
  id: string
  label: string
  size: number
  params: number | null
  layers: number | null
  defaultFineTuneAt: number | null
  cached: boolean
}

/** A number the recipe `auto` may decide: null = left to auto (only valid with that recipe). */
export type AutoNumber = number | null

export interface TrainingFormValue {
  recipe: RecipeName
  baseId: string
  /** Official Keras weights (cached / downloaded), random initialisation, or a local .h5 / TF.js folder. */
  weights: WeightsKind
  weightsPath: string
  epochs: AutoNumber
  batchSize: AutoNumber
  lr: AutoNumber
  optimizer: OptimizerName
  /** Hidden Dense(units, relu) before dropout; 0 = none. */
  dense: number
  dropout: number
  /** L2 penalty on the head's kernels; 0 = none. */
  l2: number
  seed: number
  /** null = auto decides whether phase 2 runs. */
  fineTune: boolean | null
  fineTuneAt: number
  fineTuneEpochs: AutoNumber
  fineTuneLr: AutoNumber
  headLrMultiplier: number
  fineTuneOptimizer: OptimizerName
  /** null = auto's early stopping. */
  earlyStop: boolean | null
  earlyStopPatience: AutoNumber
  /** Also predict the training images, so the galleries can show mislabelled ones. */
  evaluateTrain: boolean
}

export const DEFAULT_SEED = 42

/** The form as `recipe` fills it; for `auto`, what it decides from the data is left empty. */
export function recipeForm(
  recipe: RecipeName,
  baseId: string,
  fineTuneAt = 100,
  seed = DEFAULT_SEED
): TrainingFormValue {
  const r = RECIPES[recipe]
  const s = r.settings
  const auto = (k: keyof RunConfig): boolean => r.decidedAtRunTime.includes(k)
  const fineTuneEpochs = s.fineTuneEpochs ?? 10
  return {
    recipe,
    baseId,
    weights: 'official',
    weightsPath: '',
    epochs: auto('epochs') ? null : s.epochs,
    batchSize: auto('batchSize') ? null : s.batchSize,
    lr: auto('lr') ? null : s.lr,
    optimizer: s.optimizer,
    dense: s.dense ?? 0,
    dropout: s.dropout,
    l2: s.l2 ?? 0,
    seed,
    fineTune: auto('fineTuneEpochs') ? null : (s.fineTuneEpochs ?? 0) > 0,
    fineTuneAt: s.fineTuneAt ?? fineTuneAt,
    fineTuneEpochs: auto('fineTuneEpochs') ? null : fineTuneEpochs,
    fineTuneLr: auto('fineTuneLr') ? null : s.lr / s.fineTuneLrDivisor,
    headLrMultiplier: s.headLrMultiplier ?? 1,
    fineTuneOptimizer: s.optimizer,
    earlyStop: auto('earlyStopPatience') ? null : s.earlyStopPatience !== undefined,
    earlyStopPatience: auto('earlyStopPatience') ? null : (s.earlyStopPatience ?? 3),
    evaluateTrain: false
  }
}

/** The new default: the `auto` recipe with a small, fast base. */
export function defaultTrainingForm(baseId = 'mobilenet_v2_1.0_160', fineTuneAt = 100): TrainingFormValue {
  return recipeForm('auto', baseId, fineTuneAt)
}

export type TrainingFieldErrors = Partial<Record<keyof TrainingFormValue, string>>

/** A number field's value: an empty or unparsable field is null. */
export function isSet(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v)
}

const LABELS: Partial<Record<keyof TrainingFormValue, string>> = {
  epochs: 'Epochs',
  batchSize: 'Batch size',
  lr: 'Learning rate',
  dense: 'Dense units',
  dropout: 'Dropout',
  l2: 'L2',
  seed: 'Seed',
  fineTuneAt: 'Fine-tune from layer',
  fineTuneEpochs: 'Fine-tune epochs',
  fineTuneLr: 'Fine-tune learning rate',
  headLrMultiplier: 'Head rate multiplier',
  earlyStopPatience: 'Patience'
}

/** Field -> message for every invalid field; empty when the form can be submitted. `layers` = base layer count when known. */
export function validateTraining(v: TrainingFormValue, layers: number | null): TrainingFieldErrors {
  const e: TrainingFieldErrors = {}
  const auto = v.recipe === 'auto'
  const check = (
    field: keyof TrainingFormValue,
    setting: LimitedSetting,
    value: unknown,
    optional = false,
    max?: number
  ): void => {
    if (!isSet(value)) {
      if (!(optional && auto)) e[field] = `${LABELS[field]} is needed (only the auto recipe can leave it empty).`
      return
    }
    if (limitError(setting, value) || (max !== undefined && value > max)) {
      e[field] =
        `${LABELS[field]} must be ${max !== undefined ? `a whole number from 1 to ${max}` : describeLimit(setting)}.`
    }
  }
  if (!v.baseId) e.baseId = 'Choose a base model.'
  if (v.weights === 'file' && v.weightsPath.trim() === '')
    e.weightsPath = 'Give the path of a Keras .h5 file or a TF.js model folder.'
  check('epochs', 'epochs', v.epochs, true)
  check('batchSize', 'batchSize', v.batchSize, true)
  check('lr', 'lr', v.lr, true)
  check('dense', 'dense', v.dense)
  check('dropout', 'dropout', v.dropout)
  check('l2', 'l2', v.l2)
  check('seed', 'seed', v.seed)
  if (v.fineTune === true) {
    check('fineTuneAt', 'fineTuneAt', v.fineTuneAt, false, layers === null ? undefined : layers - 1)
    check('fineTuneEpochs', 'fineTuneEpochs', v.fineTuneEpochs, true)
    check('fineTuneLr', 'lr', v.fineTuneLr, true)
    check('headLrMultiplier', 'headLrMultiplier', v.headLrMultiplier)
  }
  if (v.earlyStop === true) check('earlyStopPatience', 'earlyStopPatience', v.earlyStopPatience, true)
  if (v.fineTune === null && !auto) e.fineTune = 'Choose whether to fine-tune.'
  return e
}

/** The request the form describes: the recipe plus every setting filled in (empty = left to the recipe). */
export function trainingOptions(v: TrainingFormValue): RunConfig {
  const opt = <K extends keyof RunConfig>(k: K, value: unknown): Partial<RunConfig> =>
    isSet(value) ? ({ [k]: value } as Partial<RunConfig>) : {}
  return {
    recipe: v.recipe,
    baseId: v.baseId,
    weights: v.weights === 'file' ? { path: v.weightsPath.trim() } : v.weights,
    ...opt('epochs', v.epochs),
    ...opt('batchSize', v.batchSize),
    ...opt('lr', v.lr),
    optimizer: v.optimizer,
    ...(v.dense > 0 ? { dense: v.dense } : {}),
    dropout: v.dropout,
    l2: v.l2,
    seed: v.seed,
    ...(v.fineTune === true
      ? {
          fineTuneAt: v.fineTuneAt,
          ...opt('fineTuneEpochs', v.fineTuneEpochs),
          ...opt('fineTuneLr', v.fineTuneLr),
          headLrMultiplier: v.headLrMultiplier,
          fineTuneOptimizer: v.fineTuneOptimizer
        }
      : v.fineTune === false
        ? { fineTuneEpochs: 0 }
        : {}),
    ...(v.earlyStop === true ? opt('earlyStopPatience', v.earlyStopPatience) : {}),
    ...(v.evaluateTrain ? { evaluateTrain: true } : {})
  }
}

/** The form a stored run was started with (its received request over its recipe's form). */
export function formFromConfig(
  stored: StoredRunConfig | null,
  defaults: TrainingFormValue = defaultTrainingForm()
): TrainingFormValue | null {
  if (!stored) return null
  const c = stored.received
  const recipe = c.recipe ?? stored.recipe
  const f = recipeForm(recipe, c.baseId, defaults.fineTuneAt, defaults.seed)
  const path = typeof c.weights === 'object' ? c.weights.path : null
  const fineTune = c.fineTuneEpochs !== undefined ? c.fineTuneEpochs > 0 : f.fineTune
  return {
    ...f,
    weights: typeof c.weights === 'object' ? 'file' : c.weights,
    weightsPath: path ?? '',
    epochs: c.epochs ?? f.epochs,
    batchSize: c.batchSize ?? f.batchSize,
    lr: c.lr ?? f.lr,
    optimizer: c.optimizer ?? f.optimizer,
    dense: c.dense ?? f.dense,
    dropout: c.dropout ?? f.dropout,
    l2: c.l2 ?? f.l2,
    seed: c.seed ?? f.seed,
    fineTune,
    fineTuneAt: c.fineTuneAt ?? f.fineTuneAt,
    fineTuneEpochs: c.fineTuneEpochs !== undefined && c.fineTuneEpochs > 0 ? c.fineTuneEpochs : f.fineTuneEpochs,
    fineTuneLr: c.fineTuneLr ?? f.fineTuneLr,
    headLrMultiplier: c.headLrMultiplier ?? f.headLrMultiplier,
    fineTuneOptimizer: c.fineTuneOptimizer ?? f.fineTuneOptimizer,
    earlyStop: c.earlyStopPatience !== undefined ? true : f.earlyStop,
    earlyStopPatience: c.earlyStopPatience ?? f.earlyStopPatience,
    evaluateTrain: c.evaluateTrain === true
  }
}

/** Phase 1 + phase 2 epochs a stored run planned (what it ran with); null when unknown. */
export function plannedEpochs(stored: StoredRunConfig | null): number | null {
  if (!stored) return null
  return stored.resolved.epochs + (stored.resolved.fineTuneEpochs ?? 0)
}
