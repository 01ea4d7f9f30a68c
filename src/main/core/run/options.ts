// Options of a training run as the orchestrator takes them: the engine's parameters plus data, base and backend
// choices, and the request they were resolved from (src/shared/runConfig.ts; resolution in run/fromConfig.ts).
import type { ResizeMode, SplitStrategy } from '@shared/domain'
import { NO_AUGMENTATION } from '@shared/domain'
import type { RecipeName, RunConfig } from '@shared/runConfig'
import type { TrainParams } from '../training/types'
import type { BackendPreference } from '../tf/backend'

export type WeightsChoice =
  | { kind: 'file'; path: string }
  | { kind: 'download'; baseUrl?: string; cacheDir?: string }
  | { kind: 'random' }

/** Everything a run needs: the engine's parameters (classes come from the scan) plus data, base and backend choices. */
export interface TrainOptions extends Omit<TrainParams, 'classes'> {
  /** The recipe whose settings filled what the request left out (run/fromConfig.ts); omitted = options given in full. */
  recipe?: RecipeName
  /** The request as received (stored with the run; `auto` decides only what it leaves out); omitted = these options. */
  received?: RunConfig
  /** '<family>_<alpha>_<size>', e.g. mobilenet_v2_1.0_160. */
  baseId: string
  weights: WeightsChoice
  /** Overrides the size in baseId. */
  size?: number
  resizeMode: ResizeMode
  /** 'reuse': the project's stored split if there is one, else the folder's split (pre-split) or 80/10/10 seed 42. */
  split: SplitStrategy | 'reuse'
  backend?: BackendPreference
  /** Images per gallery in the stored analyses. */
  topN?: number
  /** Confidence under which a prediction is held back as unsure. */
  unsureThreshold?: number
  /** Read and validate every image again instead of trusting unchanged files' stored scan records. */
  rescan?: boolean
  /** Also predict the training images (their galleries show likely mislabelled ones); cheap while the base is frozen. */
  evaluateTrain?: boolean
}

/** The run settings outside any recipe. */
export const RUN_DEFAULTS = {
  baseId: 'mobilenet_v2_1.0_160',
  resizeMode: 'squash' as ResizeMode,
  augment: NO_AUGMENTATION,
  seed: 42,
  topN: 12,
  unsureThreshold: 0.75
}

/** Options built in code (tests, benches): the tf-tutorial recipe's settings, no request and no auto choices. */
export const DEFAULT_TRAIN_OPTIONS: TrainOptions = {
  baseId: RUN_DEFAULTS.baseId,
  weights: { kind: 'download' },
  resizeMode: RUN_DEFAULTS.resizeMode,
  split: 'reuse',
  augment: NO_AUGMENTATION,
  epochs: 10,
  batchSize: 32,
  lr: 1e-4,
  optimizer: 'adam',
  dropout: 0.2,
  seed: RUN_DEFAULTS.seed,
  topN: RUN_DEFAULTS.topN,
  unsureThreshold: RUN_DEFAULTS.unsureThreshold
}
