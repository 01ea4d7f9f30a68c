// Test fixtures: a tiny MobileNetV2-like residual base with Keras-style names, synthetic colour images.
import * as tf from '@tensorflow/tfjs'
import { createHash } from 'node:crypto'
import type { BaseLike, ImageSet } from '@core/training/types'

export async function useCpu(): Promise<void> {
  await tf.setBackend('cpu')
  await tf.ready()
}

function bn(name: string, seed: number): tf.layers.Layer {
  // Non-trivial moving statistics so inference mode and batch-statistics mode differ.
  return tf.layers.batchNormalization({
    name,
    epsilon: 1e-3,
    momentum: 0.999,
    movingMeanInitializer: tf.initializers.randomUniform({ minval: -0.2, maxval: 0.2, seed }),
    movingVarianceInitializer: tf.initializers.randomUniform({ minval: 0.5, maxval: 1.5, seed: seed + 1 }),
    gammaInitializer: tf.initializers.randomUniform({ minval: 0.8, maxval: 1.2, seed: seed + 2 })
  })
}

/**
 * Layers (index: name): 0 input_1, 1 Conv1, 2 bn_Conv1, 3 Conv1_relu, 4 block_1_expand, 5 block_1_expand_BN,
 * 6 block_1_expand_relu, 7 block_1_depthwise, 8 block_1_depthwise_BN, 9 block_1_depthwise_relu,
 * 10 block_1_project, 11 block_1_project_BN, 12 block_1_add, 13 Conv_1, 14 Conv_1_bn, 15 out_relu.
 * A cut at 4..12 has two tensors crossing it (the residual branch).
 */
export function tinyBase(size = 32, seed = 7, defaultFineTuneAt = 13): BaseLike {
  const k = (s: number): ReturnType<typeof tf.initializers.glorotUniform> =>
    tf.initializers.glorotUniform({ seed: seed + s })
  const input = tf.input({ shape: [size, size, 3], name: 'input_1' })
  let x = tf.layers
    .conv2d({
      filters: 8,
      kernelSize: 3,
      strides: 2,
      padding: 'same',
      useBias: false,
      kernelInitializer: k(1),
      name: 'Conv1'
    })
    .apply(input) as tf.SymbolicTensor
  x = bn('bn_Conv1', seed + 10).apply(x) as tf.SymbolicTensor
  const stem = tf.layers.reLU({ maxValue: 6, name: 'Conv1_relu' }).apply(x) as tf.SymbolicTensor
  let b = tf.layers
    .conv2d({ filters: 16, kernelSize: 1, useBias: false, kernelInitializer: k(2), name: 'block_1_expand' })
    .apply(stem) as tf.SymbolicTensor
  b = bn('block_1_expand_BN', seed + 20).apply(b) as tf.SymbolicTensor
  b = tf.layers.reLU({ maxValue: 6, name: 'block_1_expand_relu' }).apply(b) as tf.SymbolicTensor
  b = tf.layers
    .depthwiseConv2d({
      kernelSize: 3,
      padding: 'same',
      useBias: false,
      depthwiseInitializer: k(3),
      name: 'block_1_depthwise'
    })
    .apply(b) as tf.SymbolicTensor
  b = bn('block_1_depthwise_BN', seed + 30).apply(b) as tf.SymbolicTensor
  b = tf.layers.reLU({ maxValue: 6, name: 'block_1_depthwise_relu' }).apply(b) as tf.SymbolicTensor
  b = tf.layers
    .conv2d({ filters: 8, kernelSize: 1, useBias: false, kernelInitializer: k(4), name: 'block_1_project' })
    .apply(b) as tf.SymbolicTensor
  b = bn('block_1_project_BN', seed + 40).apply(b) as tf.SymbolicTensor
  x = tf.layers.add({ name: 'block_1_add' }).apply([stem, b]) as tf.SymbolicTensor
  x = tf.layers
    .conv2d({ filters: 16, kernelSize: 1, useBias: false, kernelInitializer: k(5), name: 'Conv_1' })
    .apply(x) as tf.SymbolicTensor
  x = bn('Conv_1_bn', seed + 50).apply(x) as tf.SymbolicTensor
  x = tf.layers.reLU({ maxValue: 6, name: 'out_relu' }).apply(x) as tf.SymbolicTensor
  const model = tf.model({ inputs: input, outputs: x, name: 'tiny_base' })
  model.trainable = false
  return {
    spec: { id: `tiny-${size}-${seed}`, size, defaultFineTuneAt },
    model,
    preprocess: (t) => tf.tidy(() => t.div(127.5).sub(1) as tf.Tensor4D)
  }
}

/** Wraps a base so every forward pass is counted (each base forward preprocesses exactly once). */
export function countingBase(base: BaseLike): BaseLike & { calls: { forward: number; images: number } } {
  const calls = { forward: 0, images: 0 }
  return {
    ...base,
    calls,
    preprocess: (t) => {
      calls.forward++
      calls.images += t.shape[0]
      return base.preprocess(t)
    }
  }
}

/** Deterministic PRNG for fixtures. */
export function fixtureRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = Math.imul(a ^ (a >>> 15), a | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const PALETTE: [number, number, number][] = [
  [200, 60, 50],
  [50, 80, 210],
  [60, 190, 70],
  [200, 200, 60]
]

/**
 * n images per class; class c has a dominant colour plus per-pixel noise and a random bright square.
 * `noise` (0..255) controls difficulty.
 */
export function colourImages(
  classes: number,
  perClass: number,
  size: number,
  seed: number,
  noise = 60
): { pixels: Uint8Array; labels: number[] } {
  const r = fixtureRandom(seed)
  const n = classes * perClass
  const per = size * size * 3
  const pixels = new Uint8Array(n * per)
  const labels: number[] = []
  for (let i = 0; i < n; i++) {
    const c = i % classes
    labels.push(c)
    const col = PALETTE[c % PALETTE.length] as [number, number, number]
    const sx = Math.floor(r() * (size - 8))
    const sy = Math.floor(r() * (size - 8))
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const inSquare = x >= sx && x < sx + 8 && y >= sy && y < sy + 8
        for (let ch = 0; ch < 3; ch++) {
          const v = (inSquare ? 255 : (col[ch] as number)) + (r() - 0.5) * 2 * noise
          pixels[i * per + (y * size + x) * 3 + ch] = Math.max(0, Math.min(255, Math.round(v)))
        }
      }
    }
  }
  return { pixels, labels }
}

/** An in-memory ImageSet over images produced by colourImages; counts load calls. */
export function memorySet(data: { pixels: Uint8Array; labels: number[] }, size: number): ImageSet & { loads: number } {
  const per = size * size * 3
  const n = data.labels.length
  const keys = Array.from({ length: n }, (_, i) =>
    createHash('sha256')
      .update(data.pixels.subarray(i * per, (i + 1) * per))
      .digest('hex')
  )
  const set = {
    keys,
    labels: data.labels,
    loads: 0,
    async load(indices: readonly number[]): Promise<Uint8Array> {
      set.loads++
      const out = new Uint8Array(indices.length * per)
      indices.forEach((i, k) => out.set(data.pixels.subarray(i * per, (i + 1) * per), k * per))
      return out
    }
  }
  return set
}

/** Values of the given layers' variables, by variable name. */
export function snapshot(
  model: tf.LayersModel,
  pick: (layerIndex: number, weightName: string) => boolean
): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>()
  model.layers.forEach((l, i) => {
    for (const w of l.weights) if (pick(i, w.name)) out.set(w.name, Float32Array.from(w.read().dataSync()))
  })
  return out
}

export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)))
  return m
}
