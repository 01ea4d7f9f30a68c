// Public types of the training engine. Plain data except where a tensor/model is named explicitly.
import type * as tf from '@tensorflow/tfjs'
import type { AugmentSpec, ResizeMode } from '@shared/domain'
import type { Rng } from '../util/rng'
import type { CutForward } from './features'

import type { OptimizerName } from '@shared/runConfig'
export type { OptimizerName }
export type TrainPhase = 'head' | 'fine-tune'

export interface TrainParams {
  classes: string[]
  /** Phase 1 (head only) epochs. */
  epochs: number
  batchSize: number
  lr: number
  optimizer: OptimizerName
  /** SGD momentum (0 = plain SGD). Also used by RMSprop if given. */
  momentum?: number
  /** Hidden Dense(units, relu) before the dropout; omitted or 0 = none. */
  dense?: number
  dropout: number
  /** L2 penalty on the head's kernels: loss + l2 * sum of their squared weights. Omitted or 0 = none. */
  l2?: number
  seed: number
  /** First base layer (Keras model.layers index, InputLayer = 0) trained in phase 2. Default spec.defaultFineTuneAt. */
  fineTuneAt?: number
  /** Phase 2 epochs; 0 or omitted = no phase 2. */
  fineTuneEpochs?: number
  /** Phase 2 rate for the base layers; default lr / 10. */
  fineTuneLr?: number
  /** Phase 2 head rate = fineTuneLr * headLrMultiplier (d2l uses 10). Default 1. */
  headLrMultiplier?: number
  /** Phase 2 optimizer; default the phase 1 optimizer. */
  fineTuneOptimizer?: OptimizerName
  /** Stop when val_loss has not improved for this many epochs (per phase); restore the best weights. */
  earlyStopPatience?: number
  /** Phase 2's patience when it differs from earlyStopPatience. */
  fineTunePatience?: number
  classWeights?: 'balanced' | null
  augment: AugmentSpec
  /** After phase 2, keep whichever phase reached the lower validation loss (restores phase 1's weights if it won). */
  keepBetterPhase?: boolean
}

/** What the engine needs from a pretrained base (a subset of the models module's BaseNetwork). */
export interface BaseLike {
  spec: { id: string; size: number; defaultFineTuneAt?: number }
  /** Input: preprocessed [null,S,S,3]; output: the no-top feature map [null,h,w,C]. */
  model: tf.LayersModel
  /** 0..255 pixels -> the base's input range. Must not dispose its input. */
  preprocess(x: tf.Tensor4D): tf.Tensor4D
  /** Optional fast path: RGB uint8 [count,S,S,3] straight to the preprocessed input (same values as preprocess). */
  input?(pixels: Uint8Array, count: number): tf.Tensor4D
}

/** One labelled image set (a split). Pixels are decoded/resized by the caller (e.g. ImageCache.loadBatch). */
export interface ImageSet {
  /** Content hash of each image (feature-cache key), same order as labels. */
  keys: readonly string[]
  /** Class index per image. */
  labels: readonly number[]
  /** RGB uint8 [indices.length, S, S, 3], row-major, in the order of `indices`. */
  load(indices: readonly number[]): Promise<Uint8Array>
  /** Optional: the batch the caller will load after the one it loads next, so it can be read ahead (see parallel/readAhead.ts). */
  hint?(next: readonly number[]): void
}

export interface AugmentContext {
  /** 1-based epoch number of the run. */
  epoch: number
  /** Content keys of the images in the batch, in batch order. */
  keys: readonly string[]
  /** The run's seed. */
  seed: number
  /** The run's augmentation stream (batch-order dependent; per-image streams can be derived from epoch + key instead). */
  rng: Rng
}

/** Augments a batch of RGB uint8 images [n,S,S,3] (in place or into a new array). */
export type AugmentBatch = (
  pixels: Uint8Array,
  count: number,
  size: number,
  spec: AugmentSpec,
  at: AugmentContext
) => Uint8Array

export interface FeatureCacheOptions {
  /** Root cache directory; features go to <dir>/features/<key>/. */
  dir: string
  resizeMode: ResizeMode
  /** Checksum of the base weights; computed from the weights when omitted. */
  weightsChecksum?: string
}

export type FeaturePath = 'cached-features' | 'augmented-forward'
export type FineTunePath = 'cached-activations' | 'recomputed-activations' | 'augmented-forward'

export interface EpochRecord {
  phase: TrainPhase
  /** 1-based, continues across phases. */
  epoch: number
  loss: number
  accuracy: number
  valLoss: number | null
  valAccuracy: number | null
  lr: number
  seconds: number
  imagesPerSec: number
}

export type TrainEvent =
  | { type: 'phase-start'; phase: 'head'; path: FeaturePath; epochs: number; detail: string }
  | { type: 'phase-start'; phase: 'fine-tune'; path: FineTunePath; epochs: number; fineTuneAt: number; detail: string }
  | { type: 'features'; split: 'train' | 'validation'; done: number; total: number; fromDisk: number }
  /** Phase 2: the frozen lower part's activations at the cut, computed once per image. */
  | { type: 'activations'; split: 'train' | 'validation'; done: number; total: number }
  | {
      type: 'batch'
      phase: TrainPhase
      epoch: number
      batch: number
      batches: number
      loss: number
      accuracy: number
      imagesPerSec: number
      etaSeconds: number
    }
  | ({ type: 'epoch' } & EpochRecord)
  | { type: 'early-stop'; phase: TrainPhase; epoch: number; bestEpoch: number; bestValLoss: number }
  | { type: 'restored-best'; phase: TrainPhase; bestEpoch: number }
  | { type: 'info'; message: string }

export interface TrainIO {
  base: BaseLike
  /**
   * An inference-only equivalent of `base` (e.g. BatchNorm folded into the convolutions), used wherever the base
   * is frozen and runs forward only: phase-1 features. Must give the same outputs as base.model.
   */
  frozenBase?: BaseLike
  /** Pooled features of the frozen base for RGB uint8 pixels (e.g. a worker pool); default: frozenBase on this thread. */
  featureForward?: (pixels: Uint8Array, count: number) => Promise<Float32Array>
  /** Pooled features plus the activations at fine-tuning layer `at` (e.g. a worker pool); default: this thread. */
  featureCutForward?: (at: number) => CutForward
  train: ImageSet
  validation?: ImageSet
  /** Used when params.augment is active; default: the pipeline's augmentRgb with augmentRng(seed, epoch, image key). */
  augmentBatch?: AugmentBatch
  /** Disk cache for pooled base features; omitted = compute in memory only. */
  featureCache?: FeatureCacheOptions
  /** Max bytes for caching the frozen lower part's activations in phase 2 (default 1.5 GiB). */
  activationCacheBytes?: number
  /** Of those, at most this many bytes in memory; more go to temporary files (default 256 MiB). */
  activationMemoryBytes?: number
  onEvent?(e: TrainEvent): void
  /** Awaited before the next epoch starts (e.g. write the epoch to SQLite). */
  onEpochEnd?(e: EpochRecord): void | Promise<void>
}

export type TrainStatus = 'completed' | 'cancelled'

export interface TrainResult {
  status: TrainStatus
  epochs: EpochRecord[]
  /** Epoch whose weights the model holds when early stopping restored them, else null. */
  restoredEpoch: number | null
  stoppedEarly: boolean
  /** base -> GAP -> head -> sigmoid/softmax. Input: preprocessed images. Shares weights with base.model. */
  model: tf.LayersModel
  /** 1 (sigmoid, binary) or the number of classes (softmax). */
  outputUnits: number
  /** Full class probabilities [n, k] for RGB uint8 [n,S,S,3] (binary: [1-p, p]). */
  predict(pixels: Uint8Array, count: number): Promise<Float32Array>
  /** With keepBetterPhase: the phase whose weights the model holds; else null. */
  keptPhase: TrainPhase | null
  /** True when phase 2 changed the base's weights (features of the frozen base no longer describe the model). */
  baseChanged: boolean
  /** Class probabilities [count, k] (binary: [1-p, p]) from pooled base features [count, C], through the head only. */
  headProbabilities(features: Float32Array, count: number): Promise<Float32Array>
  /** Disposes the head layers (not the base). */
  dispose(): void
}
