import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { initBackend } from '@core/tf/backend'
import { randomTensor, relErr } from '@test/helpers/tf'

// The JS gradient kernels, without the oneDNN kernels in front of them (those: nativeConv.test.ts). Each test
// file runs in its own process, so this holds for this file only.
process.env['TUNELAB_NATIVE'] = '0'

type Pad = 'same' | 'valid'
type Shape4 = [number, number, number, number]

async function useBackend(name: 'cpu' | 'wasm'): Promise<void> {
  if (name === 'wasm') await initBackend({ prefer: 'wasm' })
  else await tf.setBackend('cpu')
  expect(tf.getBackend()).toBe(name)
}

/** Gradients wrt x and filter of sum(conv(x, f) * r), r random so dy is not uniform. */
function convGrads(
  kind: 'conv' | 'depthwise',
  xShape: Shape4,
  fShape: Shape4,
  stride: number,
  pad: Pad,
  seed: number
): Float32Array[] {
  return readAll(() => {
    const x = randomTensor(xShape, seed) as tf.Tensor4D
    const f = randomTensor(fShape, seed + 1) as tf.Tensor4D
    const conv = (a: tf.Tensor4D, b: tf.Tensor4D): tf.Tensor4D =>
      kind === 'conv' ? tf.conv2d(a, b, stride, pad) : tf.depthwiseConv2d(a, b, stride, pad)
    const outShape = conv(x, f).shape
    const r = randomTensor(outShape, seed + 2)
    const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(conv(a as tf.Tensor4D, b as tf.Tensor4D), r)))
    return g([x, f])
  })
}

/** Values of the tensors fn returns; fn's intermediates are freed. (A tidy must not return TypedArrays: it walks them.) */
function readAll(fn: () => tf.Tensor[]): Float32Array[] {
  const ts = tf.tidy(fn)
  const out = ts.map((t) => t.dataSync() as Float32Array)
  tf.dispose(ts)
  return out
}

const CASES: Array<{ kind: 'conv' | 'depthwise'; x: Shape4; f: Shape4; stride: number; pad: Pad }> = [
  { kind: 'conv', x: [2, 7, 9, 5], f: [3, 3, 5, 4], stride: 1, pad: 'same' },
  { kind: 'conv', x: [2, 7, 9, 5], f: [3, 3, 5, 4], stride: 2, pad: 'same' },
  { kind: 'conv', x: [2, 9, 8, 3], f: [3, 3, 3, 6], stride: 2, pad: 'valid' },
  { kind: 'conv', x: [3, 6, 5, 7], f: [1, 1, 7, 4], stride: 1, pad: 'same' },
  { kind: 'conv', x: [3, 6, 5, 7], f: [1, 1, 7, 12], stride: 1, pad: 'valid' },
  { kind: 'conv', x: [2, 7, 7, 4], f: [1, 1, 4, 3], stride: 2, pad: 'same' },
  { kind: 'conv', x: [1, 11, 10, 2], f: [5, 3, 2, 3], stride: 2, pad: 'same' },
  { kind: 'depthwise', x: [2, 7, 9, 6], f: [3, 3, 6, 1], stride: 1, pad: 'same' },
  { kind: 'depthwise', x: [2, 7, 9, 6], f: [3, 3, 6, 1], stride: 2, pad: 'same' },
  { kind: 'depthwise', x: [2, 8, 10, 6], f: [3, 3, 6, 1], stride: 2, pad: 'same' },
  { kind: 'depthwise', x: [2, 9, 8, 5], f: [3, 3, 5, 1], stride: 2, pad: 'valid' },
  { kind: 'depthwise', x: [1, 11, 12, 4], f: [5, 5, 4, 1], stride: 2, pad: 'same' },
  { kind: 'depthwise', x: [2, 5, 6, 3], f: [3, 3, 3, 1], stride: 1, pad: 'valid' }
]

describe('wasm gradient kernels match the cpu backend', () => {
  const reference: Float32Array[][] = []

  beforeAll(async () => {
    await useBackend('cpu')
    CASES.forEach((c, i) => reference.push(convGrads(c.kind, c.x, c.f, c.stride, c.pad, 100 + i)))
    await useBackend('wasm')
  })

  it.each(CASES.map((c, i) => [`${c.kind} x${c.x.join('x')} f${c.f.join('x')} s${c.stride} ${c.pad}`, i] as const))(
    '%s',
    (_label, i) => {
      const c = CASES[i]!
      const before = tf.memory().numTensors
      const [dx, df] = convGrads(c.kind, c.x, c.f, c.stride, c.pad, 100 + i)
      expect(tf.memory().numTensors).toBe(before)
      const [rx, rf] = reference[i]!
      expect(relErr(dx!, rx!)).toBeLessThan(1e-4)
      expect(relErr(df!, rf!)).toBeLessThan(1e-4)
    }
  )

  it('ZeroPadding + valid stride-2 conv and depthwise (Keras MobileNet downsampling) match', async () => {
    const run = (): Float32Array[] =>
      readAll(() => {
        const x = randomTensor([2, 8, 8, 4], 7) as tf.Tensor4D
        const f = randomTensor([3, 3, 4, 5], 8) as tf.Tensor4D
        const d = randomTensor([3, 3, 5, 1], 9) as tf.Tensor4D
        const g = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => {
          const y = tf.conv2d(
            tf.pad(a as tf.Tensor4D, [
              [0, 0],
              [0, 1],
              [0, 1],
              [0, 0]
            ]),
            b as tf.Tensor4D,
            2,
            'valid'
          )
          const z = tf.depthwiseConv2d(
            tf.pad(tf.relu6(y), [
              [0, 0],
              [0, 1],
              [0, 1],
              [0, 0]
            ]),
            c as tf.Tensor4D,
            2,
            'valid'
          )
          return tf.sum(tf.square(z))
        })
        return g([x, f, d])
      })
    await useBackend('cpu')
    const ref = run()
    await useBackend('wasm')
    const got = run()
    got.forEach((g, k) => expect(relErr(g, ref[k]!)).toBeLessThan(1e-4))
  })

  it('rejects a depth multiplier other than 1 with a clear error', async () => {
    await useBackend('wasm')
    const x = randomTensor([1, 5, 5, 2], 1) as tf.Tensor4D
    const f = randomTensor([3, 3, 2, 2], 2) as tf.Tensor4D
    const g = tf.grad((b: tf.Tensor) => tf.sum(tf.depthwiseConv2d(x, b as tf.Tensor4D, 1, 'same')))
    expect(() => g(f)).toThrow(/DepthwiseConv2dNativeBackpropFilter \(wasm\): only depth multiplier 1/)
    tf.dispose([x, f])
  })
})

/** A small Keras-style conv net: ZeroPadding, Conv(no bias)+BN+ReLU6, DepthwiseConv+BN+ReLU6, 1x1 Conv+BN, GAP, Dense. */
function smallNet(): tf.LayersModel {
  const input = tf.input({ shape: [12, 12, 3] })
  let y = tf.layers
    .zeroPadding2d({
      padding: [
        [0, 1],
        [0, 1]
      ]
    })
    .apply(input) as tf.SymbolicTensor
  y = tf.layers
    .conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'valid', useBias: false })
    .apply(y) as tf.SymbolicTensor
  y = tf.layers.batchNormalization({ epsilon: 1e-3 }).apply(y) as tf.SymbolicTensor
  y = tf.layers.reLU({ maxValue: 6 }).apply(y) as tf.SymbolicTensor
  y = tf.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', useBias: false }).apply(y) as tf.SymbolicTensor
  y = tf.layers.batchNormalization({ epsilon: 1e-3 }).apply(y) as tf.SymbolicTensor
  y = tf.layers.reLU({ maxValue: 6 }).apply(y) as tf.SymbolicTensor
  y = tf.layers
    .depthwiseConv2d({ kernelSize: 3, strides: 2, padding: 'same', useBias: false })
    .apply(y) as tf.SymbolicTensor
  y = tf.layers.conv2d({ filters: 6, kernelSize: 1, useBias: false }).apply(y) as tf.SymbolicTensor
  y = tf.layers.batchNormalization({ epsilon: 1e-3 }).apply(y) as tf.SymbolicTensor
  y = tf.layers.globalAveragePooling2d({}).apply(y) as tf.SymbolicTensor
  y = tf.layers.dense({ units: 2 }).apply(y) as tf.SymbolicTensor
  return tf.model({ inputs: input, outputs: y })
}

describe('end to end: gradient of a small conv net wrt all trainable weights, wasm == cpu', () => {
  it.each([false, true])('BatchNorm training=%s', async (training) => {
    const run = (weights: Float32Array[] | null): { grads: Record<string, Float32Array>; weights: Float32Array[] } => {
      const model = smallNet()
      const init = tf.tidy(() =>
        model
          .getWeights()
          .map((w, k) =>
            weights
              ? tf.tensor(weights[k]!, w.shape)
              : tf.add(tf.mul(randomTensor(w.shape, 50 + k), 0.5), model.weights[k]!.name.includes('variance') ? 1 : 0)
          )
      )
      model.setWeights(init)
      tf.dispose(init)
      const x = randomTensor([4, 12, 12, 3], 3)
      const labels = tf.tensor2d([
        [1, 0],
        [0, 1],
        [1, 0],
        [0, 1]
      ])
      const { value, grads } = tf.variableGrads(() => {
        const logits = model.apply(x, { training }) as tf.Tensor
        return tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar
      })
      const out: Record<string, Float32Array> = {}
      for (const [name, g] of Object.entries(grads)) out[name.replace(/_\d+\//, '/')] = g.dataSync() as Float32Array
      const w = model.getWeights().map((t) => t.dataSync().slice() as Float32Array)
      tf.dispose([x, labels, value, ...Object.values(grads)])
      model.dispose()
      return { grads: out, weights: w }
    }
    await useBackend('cpu')
    const ref = run(null)
    await useBackend('wasm')
    const before = tf.memory().numTensors
    const got = run(ref.weights)
    expect(tf.memory().numTensors).toBe(before)
    const refByKind = Object.values(ref.grads)
    const gotByKind = Object.values(got.grads)
    expect(gotByKind.length).toBe(refByKind.length)
    expect(gotByKind.length).toBeGreaterThanOrEqual(11) // 3 conv kernels + 3 BN gamma/beta pairs + dense kernel/bias
    refByKind.forEach((r, k) => expect(relErr(gotByKind[k]!, r)).toBeLessThan(1e-4))
  })
})
