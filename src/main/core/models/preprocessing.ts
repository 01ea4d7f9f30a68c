import * as tf from '@tensorflow/tfjs'
import { loadDnnl } from '../native/dnnl'
import { tensorCopiesValues } from '../tf/tensorCopiesValues'

/**
 * Serialisable description of a base's input preprocessing, so training,
 * evaluation, export and prediction all reproduce it exactly:
 * `y = x * scale + offset` on RGB float pixels in 0..255.
 */
export interface ScalePreprocessing {
  kind: 'scale'
  scale: number
  offset: number
}

export type PreprocessingSpec = ScalePreprocessing

/** Keras 'tf' mode (MobileNet v1/v2, ResNetV2): x / 127.5 - 1, giving [-1, 1]. */
export const TF_MODE_PREPROCESSING: ScalePreprocessing = Object.freeze({ kind: 'scale', scale: 1 / 127.5, offset: -1 })

/** Applies a preprocessing spec to a batch of RGB pixels in 0..255 (any float tensor). */
export function applyPreprocessing<T extends tf.Tensor>(x: T, spec: PreprocessingSpec): T {
  switch (spec.kind) {
    case 'scale':
      return tf.tidy(() => tf.add(tf.mul(tf.cast(x, 'float32'), spec.scale), spec.offset)) as T
  }
}

/** Same as applyPreprocessing on plain numbers (for exporters and non-tf code paths). */
export function preprocessPixel(value: number, spec: PreprocessingSpec): number {
  return value * spec.scale + spec.offset
}

/**
 * RGB uint8 pixels [count, size, size, 3] -> the preprocessed float32 input tensor. Same values as
 * applyPreprocessing(tensor4d(pixels, 'int32')): with the native addon, one C++ pass computes x * scale + offset
 * in float32 (each step rounded like the wasm kernels) instead of int32 conversion, cast, multiply and add.
 */
export function pixelsToInput(pixels: Uint8Array, count: number, size: number, spec: PreprocessingSpec): tf.Tensor4D {
  const shape: [number, number, number, number] = [count, size, size, 3]
  const addon = loadDnnl().addon
  if (!addon) return tf.tidy(() => applyPreprocessing(tf.tensor4d(pixels, shape, 'int32'), spec))
  const n = count * size * size * 3
  const out = floatScratch(n)
  addon.pixelsToFloat(pixels.subarray(0, n), out, Math.fround(spec.scale), Math.fround(spec.offset))
  return tf.tensor4d(out, shape, 'float32')
}

/** Batch inputs up to this many floats reuse one array (128 MiB: batch 64 at 299 px fits). */
const SCRATCH_MAX_FLOATS = 32 * 1024 * 1024
let scratch: Float32Array | null = null

/**
 * An array for one batch's float input. Where tf.tensor copies its values one array serves every batch: a fresh
 * ~19 MB array per batch of 32 at 224 px cost the feature workers more time in allocation, page faults and
 * garbage collection than the conversion itself.
 */
function floatScratch(n: number): Float32Array {
  if (!tensorCopiesValues() || n > SCRATCH_MAX_FLOATS) return new Float32Array(n)
  if (!scratch || scratch.length < n) scratch = new Float32Array(n)
  return scratch.subarray(0, n)
}
