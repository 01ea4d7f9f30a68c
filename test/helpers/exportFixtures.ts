// Small real classifiers for export tests, heads trained with trainRun on synthetic image files decoded
// from disk. Random-weight code-built bases (MobileNetV2 with Keras-default init) give features ~1e-11
// whatever the input, so tests that must see input-dependent outputs use a small seeded conv base
// built from standard Keras layers; the MobileNetV2 topology itself is exported in its own test.
import * as tf from '@tensorflow/tfjs'
import { join } from 'node:path'
import type { ResizeMode } from '@shared/domain'
import { NO_AUGMENTATION } from '@shared/domain'
import { TF_MODE_PREPROCESSING, applyPreprocessing, buildBase, type PreprocessingSpec } from '@core/models'
import { decodeResized } from '@core/pipeline/decode'
import { trainProject } from '@core/run/trainProject'
import { initBackend } from '@core/tf/backend'
import { trainRun } from '@core/training/trainer'
import type { ImageSet, TrainResult } from '@core/training/types'
import { makeProject, type MakeProjectOptions, type SyntheticProject } from './synthetic'

export const MOBILENET_ID = 'mobilenet_v2_0.35_96'
export const SIZE = 48

export interface TestBase {
  spec: { id: string; size: number; preprocessing: PreprocessingSpec }
  model: tf.LayersModel
  preprocess(x: tf.Tensor4D): tf.Tensor4D
}

/** Conv/BN/ReLU6 -> padded stride-2 depthwise -> 1x1 conv, seeded glorot weights and non-trivial BN statistics. */
export function smallConvBase(size = SIZE, seed = 11): TestBase {
  const init = (k: number): ReturnType<typeof tf.initializers.glorotUniform> =>
    tf.initializers.glorotUniform({ seed: seed + k })
  const bn = (name: string, k: number): tf.layers.Layer =>
    tf.layers.batchNormalization({
      name,
      movingMeanInitializer: tf.initializers.randomUniform({ minval: -0.2, maxval: 0.2, seed: seed + k }),
      movingVarianceInitializer: tf.initializers.randomUniform({ minval: 0.5, maxval: 1.5, seed: seed + k + 1 })
    })
  const input = tf.input({ shape: [size, size, 3], name: 'input_1' })
  let x = tf.layers
    .conv2d({
      filters: 12,
      kernelSize: 3,
      strides: 2,
      padding: 'same',
      useBias: false,
      kernelInitializer: init(1),
      name: 'Conv1'
    })
    .apply(input) as tf.SymbolicTensor
  x = bn('bn_Conv1', 10).apply(x) as tf.SymbolicTensor
  x = tf.layers.reLU({ maxValue: 6, name: 'Conv1_relu' }).apply(x) as tf.SymbolicTensor
  x = tf.layers
    .zeroPadding2d({
      padding: [
        [0, 1],
        [0, 1]
      ],
      name: 'pad'
    })
    .apply(x) as tf.SymbolicTensor
  x = tf.layers
    .depthwiseConv2d({
      kernelSize: 3,
      strides: 2,
      padding: 'valid',
      useBias: false,
      depthwiseInitializer: init(2),
      name: 'dw'
    })
    .apply(x) as tf.SymbolicTensor
  x = bn('dw_BN', 20).apply(x) as tf.SymbolicTensor
  x = tf.layers.reLU({ maxValue: 6, name: 'dw_relu' }).apply(x) as tf.SymbolicTensor
  x = tf.layers
    .conv2d({ filters: 16, kernelSize: 1, kernelInitializer: init(3), name: 'Conv_1' })
    .apply(x) as tf.SymbolicTensor
  x = tf.layers.reLU({ name: 'out_relu' }).apply(x) as tf.SymbolicTensor
  const model = tf.model({ inputs: input, outputs: x, name: 'small_base' })
  model.trainable = false
  const preprocessing = TF_MODE_PREPROCESSING
  return {
    spec: { id: `small_conv_${size}`, size, preprocessing },
    model,
    preprocess: (t) => applyPreprocessing(t, preprocessing)
  }
}

export async function useWasmBackend(): Promise<void> {
  await initBackend({ prefer: 'wasm' })
}

export interface TrainedFixture {
  base: TestBase
  project: SyntheticProject
  absPaths: string[]
  result: TrainResult
  resizeMode: ResizeMode
}

export async function decodeFiles(paths: readonly string[], size: number, mode: ResizeMode): Promise<Uint8Array> {
  const per = size * size * 3
  const out = new Uint8Array(paths.length * per)
  const decoded = await Promise.all(paths.map((p) => decodeResized(p, size, mode)))
  decoded.forEach((d, i) => out.set(d, i * per))
  return out
}

/** Trains a head for `classes` on files written under root (image side 64, so resizing matters). */
export async function trainFixture(
  root: string,
  classes: string[],
  resizeMode: ResizeMode,
  seed: number,
  base: TestBase = smallConvBase()
): Promise<TrainedFixture> {
  const project = await makeProject(root, { classes, perClass: 6, size: 64, formats: ['jpg', 'png'], seed })
  const absPaths = project.files.map((f) => join(root, f.path))
  const labels = project.files.map((f) => f.classIndex)
  const size = base.spec.size
  const train: ImageSet = {
    keys: absPaths,
    labels,
    load: (indices) =>
      decodeFiles(
        indices.map((i) => absPaths[i] as string),
        size,
        resizeMode
      )
  }
  const result = await trainRun(
    { classes, epochs: 3, batchSize: 8, lr: 0.01, optimizer: 'adam', dropout: 0, seed, augment: NO_AUGMENTATION },
    { base, train }
  )
  return { base, project, absPaths, result, resizeMode }
}

/** A code-built MobileNetV2 0.35 @96 with random weights (real topology for the export format checks). */
export function mobileNetBase(): TestBase {
  const b = buildBase(MOBILENET_ID)
  return { spec: b.spec, model: b.model, preprocess: b.preprocess }
}

/**
 * One epoch of a random-weight MobileNetV2 0.35 @96 over a presplit project (its folder split, no augmentation):
 * a stored run to export. Returns the run id.
 */
export async function trainOneEpochRun(project: string, o: { resizeMode: ResizeMode; seed: number }): Promise<number> {
  const outcome = await trainProject(project, {
    baseId: MOBILENET_ID,
    weights: { kind: 'random' },
    resizeMode: o.resizeMode,
    split: { kind: 'folder', testFromVal: 0, seed: 1 },
    augment: NO_AUGMENTATION,
    epochs: 1,
    batchSize: 8,
    lr: 1e-3,
    optimizer: 'adam',
    dropout: 0.2,
    seed: o.seed
  })
  outcome.result.dispose()
  return outcome.runId
}

/**
 * A small presplit project of two classes (8 train, 3 val, 3 test images each) with one trained run to export, on
 * the wasm backend. Returns the run id.
 */
export async function exportableProject(
  project: string,
  o: { classes: string[]; size: number; formats?: MakeProjectOptions['formats']; resizeMode: ResizeMode; seed: number }
): Promise<number> {
  await useWasmBackend()
  await makeProject(project, {
    layout: 'presplit',
    classes: o.classes,
    perClass: { train: 8, val: 3, test: 3 },
    size: o.size,
    ...(o.formats ? { formats: o.formats } : {})
  })
  return trainOneEpochRun(project, { resizeMode: o.resizeMode, seed: o.seed })
}
