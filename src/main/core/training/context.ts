// State shared by the two phases of one run.
import * as tf from '@tensorflow/tfjs'
import type { CutPlan } from './cutActivations'
import type { ClassifierHead } from './head'
import type { RunRandom } from './random'
import type { ImageSet, TrainEvent, TrainIO, TrainParams } from './types'
import { pipelineAugmentBatch } from './augmentBatch'
import { perSampleLoss, predictedClass } from './loss'

export interface RunContext {
  params: TrainParams
  io: TrainIO
  head: ClassifierHead
  random: RunRandom
  /** Per-class training weight (all 1 without class weights). */
  classWeight: number[] | null
  augmenting: boolean
  /** Phase 2's cached activations at the cut, planned before phase 1 fills them; null without fine-tuning. */
  cut: CutPlan | null
  emit(e: TrainEvent): void
  signal?: AbortSignal
}

export function labelTensor(labels: readonly number[], idx: readonly number[]): tf.Tensor1D {
  return tf.tensor1d(
    idx.map((i) => labels[i] as number),
    'int32'
  )
}

export function weightTensor(ctx: RunContext, labels: readonly number[], idx: readonly number[]): tf.Tensor1D | null {
  const cw = ctx.classWeight
  return cw
    ? tf.tensor1d(
        idx.map((i) => cw[labels[i] as number] as number),
        'float32'
      )
    : null
}

/** Running sums for an unweighted validation loss/accuracy. */
export class LossAccumulator {
  private loss = 0
  private correct = 0
  private n = 0

  async add(logits: tf.Tensor2D, labels: tf.Tensor1D): Promise<void> {
    const [l, c] = tf.tidy(() => [
      perSampleLoss(logits, labels).sum(),
      predictedClass(logits).equal(labels.toInt()).sum()
    ])
    this.loss += (await (l as tf.Tensor).data())[0] ?? 0
    this.correct += (await (c as tf.Tensor).data())[0] ?? 0
    this.n += labels.shape[0]
    tf.dispose([l as tf.Tensor, c as tf.Tensor])
  }

  result(): { loss: number; accuracy: number } {
    return { loss: this.loss / Math.max(this.n, 1), accuracy: this.correct / Math.max(this.n, 1) }
  }
}

/** Copies rows idx of a row-major [n, dim] matrix into a new array. */
export function gatherRows(data: Float32Array, dim: number, idx: readonly number[]): Float32Array {
  const out = new Float32Array(idx.length * dim)
  idx.forEach((i, k) => out.set(data.subarray(i * dim, (i + 1) * dim), k * dim))
  return out
}

/** Applies io.augmentBatch (default: the pipeline's per-image augmentation) to a loaded batch. */
export function augmentLoaded(
  ctx: RunContext,
  set: ImageSet,
  pixels: Uint8Array,
  idx: readonly number[],
  epoch: number
): Uint8Array {
  const fn = ctx.io.augmentBatch ?? pipelineAugmentBatch
  const keys = idx.map((i) => set.keys[i] as string)
  return fn(pixels, idx.length, ctx.io.base.spec.size, ctx.params.augment, {
    epoch,
    keys,
    seed: ctx.params.seed,
    rng: ctx.random.augment
  })
}

export function isAugmenting(p: TrainParams): boolean {
  const a = p.augment
  return (
    a.horizontalFlip ||
    a.verticalFlip ||
    a.rotation > 0 ||
    a.widthShift > 0 ||
    a.heightShift > 0 ||
    a.zoom > 0 ||
    a.brightness > 0 ||
    a.contrast > 0
  )
}
