// Training form values and their validation. Field names follow the core's TrainOptions (src/main/core/run/options.ts).

export type OptimizerName = 'adam' | 'rmsprop' | 'sgd'

export type WeightsKind = 'official' | 'random' | 'file'

export interface TrainingFormValue {
  baseId: string
  /** Official Keras weights (cached / downloaded), random initialisation, or a local .h5 / TF.js folder. */
  weights: WeightsKind
  weightsPath: string
  epochs: number
  batchSize: number
  lr: number
  optimizer: OptimizerName
  /** Hidden Dense(units, relu) before dropout; 0 = none. */
  dense: number
  dropout: number
  seed: number
  fineTune: boolean
  fineTuneAt: number
  fineTuneEpochs: number
  fineTuneLr: number
  headLrMultiplier: number
  fineTuneOptimizer: OptimizerName
  earlyStop: boolean
  earlyStopPatience: number
  /** Also predict the training images, so the galleries can show mislabelled ones. */
  evaluateTrain: boolean
}

/** Recipe A (TF tutorial) with a small, fast base by default. */
export function defaultTrainingForm(baseId = 'mobilenet_v2_1.0_160', fineTuneAt = 100): TrainingFormValue {
  return {
    baseId,
    weights: 'official',
    weightsPath: '',
    epochs: 10,
    batchSize: 32,
    lr: 1e-4,
    optimizer: 'adam',
    dense: 0,
    dropout: 0.2,
    seed: 42,
    fineTune: false,
    fineTuneAt,
    fineTuneEpochs: 10,
    fineTuneLr: 1e-5,
    headLrMultiplier: 1,
    fineTuneOptimizer: 'adam',
    earlyStop: false,
    earlyStopPatience: 3,
    evaluateTrain: false
  }
}

export type TrainingFieldErrors = Partial<Record<keyof TrainingFormValue, string>>

function intIn(v: number, lo: number, hi: number): boolean {
  return Number.isInteger(v) && v >= lo && v <= hi
}

function rate(v: number): boolean {
  return Number.isFinite(v) && v > 0 && v <= 1
}

/** Field -> message for every invalid field; empty when the form can be submitted. `layers` = base layer count when known. */
export function validateTraining(v: TrainingFormValue, layers: number | null): TrainingFieldErrors {
  const e: TrainingFieldErrors = {}
  if (!v.baseId) e.baseId = 'Choose a base model.'
  if (v.weights === 'file' && v.weightsPath.trim() === '') e.weightsPath = 'Give the path of a Keras .h5 file or a TF.js model folder.'
  if (!intIn(v.epochs, 1, 1000)) e.epochs = 'Epochs must be a whole number from 1 to 1000.'
  if (!intIn(v.batchSize, 1, 4096)) e.batchSize = 'Batch size must be a whole number from 1 to 4096.'
  if (!rate(v.lr)) e.lr = 'Learning rate must be > 0 and ≤ 1.'
  if (!intIn(v.dense, 0, 65536)) e.dense = 'Dense units must be a whole number ≥ 0 (0 = no hidden layer).'
  if (!(Number.isFinite(v.dropout) && v.dropout >= 0 && v.dropout < 1)) e.dropout = 'Dropout must be ≥ 0 and < 1.'
  if (!intIn(v.seed, 0, 2 ** 31 - 1)) e.seed = 'Seed must be a whole number ≥ 0.'
  if (v.fineTune) {
    const maxLayer = layers === null ? 100000 : layers - 1
    if (!intIn(v.fineTuneAt, 1, maxLayer)) e.fineTuneAt = `Fine-tune from layer must be a whole number from 1 to ${maxLayer}.`
    if (!intIn(v.fineTuneEpochs, 1, 1000)) e.fineTuneEpochs = 'Fine-tune epochs must be a whole number from 1 to 1000.'
    if (!rate(v.fineTuneLr)) e.fineTuneLr = 'Fine-tune learning rate must be > 0 and ≤ 1.'
    if (!(Number.isFinite(v.headLrMultiplier) && v.headLrMultiplier > 0 && v.headLrMultiplier <= 1000)) e.headLrMultiplier = 'Head rate multiplier must be > 0 and ≤ 1000.'
  }
  if (v.earlyStop && !intIn(v.earlyStopPatience, 1, 1000)) e.earlyStopPatience = 'Patience must be a whole number from 1 to 1000.'
  return e
}

/** The options part of a training request, without the unused optional fields. */
export function trainingOptions(v: TrainingFormValue): {
  baseId: string
  weights: 'official' | 'random' | { path: string }
  epochs: number
  batchSize: number
  lr: number
  optimizer: OptimizerName
  dense?: number
  dropout: number
  seed: number
  fineTuneAt?: number
  fineTuneEpochs?: number
  fineTuneLr?: number
  headLrMultiplier?: number
  fineTuneOptimizer?: OptimizerName
  earlyStopPatience?: number
  evaluateTrain?: boolean
} {
  return {
    baseId: v.baseId,
    weights: v.weights === 'file' ? { path: v.weightsPath.trim() } : v.weights,
    epochs: v.epochs,
    batchSize: v.batchSize,
    lr: v.lr,
    optimizer: v.optimizer,
    ...(v.dense > 0 ? { dense: v.dense } : {}),
    dropout: v.dropout,
    seed: v.seed,
    ...(v.fineTune
      ? { fineTuneAt: v.fineTuneAt, fineTuneEpochs: v.fineTuneEpochs, fineTuneLr: v.fineTuneLr, headLrMultiplier: v.headLrMultiplier, fineTuneOptimizer: v.fineTuneOptimizer }
      : {}),
    ...(v.earlyStop ? { earlyStopPatience: v.earlyStopPatience } : {}),
    ...(v.evaluateTrain ? { evaluateTrain: true } : {})
  }
}

/** The form values of a stored run config (what trainingOptions sent); null when it is not an app run's config. */
export function formFromConfig(config: unknown, defaults: TrainingFormValue = defaultTrainingForm()): TrainingFormValue | null {
  if (typeof config !== 'object' || config === null) return null
  const c = config as Record<string, unknown>
  const num = (k: string, d: number): number => (typeof c[k] === 'number' ? (c[k] as number) : d)
  const opt = (k: string, d: OptimizerName): OptimizerName => (c[k] === 'adam' || c[k] === 'rmsprop' || c[k] === 'sgd' ? c[k] : d)
  if (typeof c['baseId'] !== 'string' || typeof c['epochs'] !== 'number') return null
  const w = c['weights']
  const path = typeof w === 'object' && w !== null && typeof (w as { path?: unknown }).path === 'string' ? (w as { path: string }).path : null
  return {
    ...defaults,
    baseId: c['baseId'],
    weights: path !== null ? 'file' : w === 'random' ? 'random' : 'official',
    weightsPath: path ?? '',
    epochs: c['epochs'],
    batchSize: num('batchSize', defaults.batchSize),
    lr: num('lr', defaults.lr),
    optimizer: opt('optimizer', defaults.optimizer),
    dense: num('dense', 0),
    dropout: num('dropout', defaults.dropout),
    seed: num('seed', defaults.seed),
    fineTune: typeof c['fineTuneEpochs'] === 'number' && c['fineTuneEpochs'] > 0,
    fineTuneAt: num('fineTuneAt', defaults.fineTuneAt),
    fineTuneEpochs: num('fineTuneEpochs', defaults.fineTuneEpochs),
    fineTuneLr: num('fineTuneLr', defaults.fineTuneLr),
    headLrMultiplier: num('headLrMultiplier', defaults.headLrMultiplier),
    fineTuneOptimizer: opt('fineTuneOptimizer', defaults.fineTuneOptimizer),
    earlyStop: typeof c['earlyStopPatience'] === 'number',
    earlyStopPatience: num('earlyStopPatience', defaults.earlyStopPatience),
    evaluateTrain: c['evaluateTrain'] === true
  }
}
