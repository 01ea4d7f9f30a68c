// Options of a training run as the CLI and the app give them, with the defaults of the TF tutorial (recipe A).
import type { ResizeMode, SplitStrategy } from '@shared/domain'
import { NO_AUGMENTATION } from '@shared/domain'
import type { TrainParams } from '../training/types'
import type { BackendPreference } from '../tf/backend'

export type WeightsChoice =
  | { kind: 'file'; path: string }
  | { kind: 'download'; baseUrl?: string; cacheDir?: string }
  | { kind: 'random' }

/** Everything a run needs: the engine's parameters (classes come from the scan) plus data, base and backend choices. */
export interface TrainOptions extends Omit<TrainParams, 'classes'> {
  /** '<family>_<alpha>_<size>', e.g. mobilenet_v2_1.0_160. */
  baseId: string
  weights: WeightsChoice
  /** Overrides the size in baseId. */
  size?: number
  resizeMode: ResizeMode
  /** 'reuse': the project's stored split if there is one, else ratios 0.8/0.1/0.1 seed 42. */
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

export const DEFAULT_TRAIN_OPTIONS: TrainOptions = {
  baseId: 'mobilenet_v2_1.0_160',
  weights: { kind: 'download' },
  resizeMode: 'squash',
  split: 'reuse',
  augment: NO_AUGMENTATION,
  epochs: 10,
  batchSize: 32,
  lr: 1e-4,
  optimizer: 'adam',
  dropout: 0.2,
  seed: 42,
  topN: 12,
  unsureThreshold: 0.75
}
