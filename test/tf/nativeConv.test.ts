import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { initBackend } from '@core/tf/backend'
import { loadDnnl } from '@core/native/dnnl'
import { FusedConv } from '@core/tf/fusedConvLayer'
import { applyPreprocessing, pixelsToInput, TF_MODE_PREPROCESSING } from '@core/models/preprocessing'
import { randomTensor, relErr } from '@test/helpers/tf'

// oneDNN kernels (native/dnnl) in front of the wasm backend, checked against tfjs' pure-JS cpu backend.
const load = loadDnnl()
const reason = load.addon ? '' : `oneDNN addon unavailable: ${load.reason}`
if (reason) console.warn(`nativeConv.test.ts skipped: ${reason}`)

type Shape4 = [number, number, number, number]
type Pad = 'same' | 'valid' | tf.backend_util.ExplicitPadding
type Act = 'linear' | 'relu' | 'relu6'
interface Case {
  depthwise: boolean
  x: Shape4
  f: Shape4
  stride: number
  pad: Pad
  act: Act
  bias: boolean
}

const CASES: Case[] = [
  { depthwise: false, x: [2, 7, 9, 5], f: [3, 3, 5, 4], stride: 1, pad: 'same', act: 'linear', bias: false },
  { depthwise: false, x: [2, 9, 8, 3], f: [3, 3, 3, 6], stride: 2, pad: 'valid', act: 'relu6', bias: true },
  { depthwise: false, x: [3, 6, 5, 7], f: [1, 1, 7, 12], stride: 1, pad: 'valid', act: 'relu', bias: true },
  { depthwise: false, x: [2, 7, 7, 4], f: [1, 1, 4, 3], stride: 2, pad: 'same', act: 'linear', bias: true },
  {
    depthwise: false,
    x: [1, 11, 10, 2],
    f: [5, 3, 2, 3],
    stride: 2,
    pad: [
      [0, 0],
      [0, 1],
      [2, 1],
      [0, 0]
    ],
    act: 'relu6',
    bias: true
  },
  { depthwise: true, x: [2, 7, 9, 6], f: [3, 3, 6, 1], stride: 1, pad: 'same', act: 'relu6', bias: true },
  {
    depthwise: true,
    x: [2, 8, 10, 6],
    f: [3, 3, 6, 1],
    stride: 2,
    pad: [
      [0, 0],
      [0, 1],
      [0, 1],
      [0, 0]
    ],
    act: 'linear',
    bias: false
  },
  { depthwise: true, x: [2, 9, 8, 5], f: [3, 3, 5, 1], stride: 2, pad: 'valid', act: 'relu', bias: true },
  { depthwise: true, x: [1, 11, 12, 4], f: [5, 5, 4, 3], stride: 2, pad: 'same', act: 'relu6', bias: true }
]

const label = (c: Case): string =>
  `${c.depthwise ? 'depthwise' : 'conv'} x${c.x.join('x')} f${c.f.join('x')} s${c.stride} ${typeof c.pad === 'string' ? c.pad : 'explicit'} ${c.act}${c.bias ? ' +bias' : ''}`

/** Fused forward output, and gradients wrt x and filter of sum(conv(x, f) * r) (plain conv: the tape has no fused grads for relu6). */
function run(c: Case, seed: number): Float32Array[] {
  const ts = tf.tidy(() => {
    const x = randomTensor(c.x, seed) as tf.Tensor4D
    const f = randomTensor(c.f, seed + 1) as tf.Tensor4D
    const outC = c.depthwise ? c.f[2] * c.f[3] : c.f[3]
    const bias = c.bias ? randomTensor([outC], seed + 3) : undefined
    const op = { x, filter: f, strides: c.stride, pad: c.pad as 'same', bias, activation: c.act }
    const fused = c.depthwise ? tf.fused.depthwiseConv2d(op) : tf.fused.conv2d(op)
    const conv = (a: tf.Tensor4D, b: tf.Tensor4D): tf.Tensor4D =>
      c.depthwise ? tf.depthwiseConv2d(a, b, c.stride, c.pad as 'same') : tf.conv2d(a, b, c.stride, c.pad as 'same')
    const r = randomTensor(fused.shape, seed + 2)
    const [dx, df] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(conv(a as tf.Tensor4D, b as tf.Tensor4D), r))
    )([x, f])
    return [fused, dx!, df!]
  })
  const out = ts.map((t) => t.dataSync() as Float32Array)
  tf.dispose(ts)
  return out
}

/** Inference BatchNorm then ReLU then clip to 6 (Keras' ReLU(6)), plus tf.relu6: outputs and gradients wrt x, gamma, beta. */
function runElementwise(): Float32Array[] {
  const ts = tf.tidy(() => {
    const x = tf.mul(randomTensor([3, 5, 4, 16], 50), 8)
    const mean = randomTensor([16], 51)
    const variance = tf.add(tf.abs(randomTensor([16], 52)), 0.1)
    const gamma = randomTensor([16], 53)
    const beta = randomTensor([16], 54)
    const r = randomTensor([3, 5, 4, 16], 55)
    const f = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor): tf.Tensor => {
      const y = tf.batchNorm(a, mean, variance, b, g, 1e-3)
      return tf.add(tf.sum(tf.mul(tf.clipByValue(tf.relu(y), 0, 6), r)), tf.sum(tf.mul(tf.relu6(tf.mul(a, 2)), r)))
    }
    return [tf.batchNorm(x, mean, variance, beta, gamma, 1e-3), ...tf.grads(f)([x, gamma, beta])]
  })
  const out = ts.map((t) => t.dataSync() as Float32Array)
  tf.dispose(ts)
  return out
}

describe.skipIf(!!reason)('oneDNN convolution kernels match the cpu backend', () => {
  const reference: Float32Array[][] = []
  let elementwise: Float32Array[] = []

  beforeAll(async () => {
    await tf.setBackend('cpu')
    CASES.forEach((c, i) => reference.push(run(c, 200 + i)))
    elementwise = runElementwise()
    const info = await initBackend({ prefer: 'wasm' })
    expect(info.native).toMatchObject({ version: expect.stringMatching(/^\d+\.\d+/) })
  })

  it.each(CASES.map((c, i) => [label(c), i] as const))('%s', (_label, i) => {
    const before = tf.memory().numTensors
    const got = run(CASES[i]!, 200 + i)
    expect(tf.memory().numTensors).toBe(before)
    got.forEach((g, k) => expect(relErr(g, reference[i]![k]!), ['forward', 'dx', 'dfilter'][k]).toBeLessThan(1e-4))
  })

  it('BatchNorm forward and the BatchNorm / ReLU / clip / relu6 gradients match', () => {
    const before = tf.memory().numTensors
    const got = runElementwise()
    expect(tf.memory().numTensors).toBe(before)
    got.forEach((g, k) =>
      expect(relErr(g, elementwise[k]!), ['bn forward', 'dx', 'dgamma', 'dbeta'][k]).toBeLessThan(1e-5)
    )
  })

  it('turns pixels into the model input with exactly the values of the tensor ops', () => {
    const pixels = new Uint8Array(2 * 7 * 7 * 3).map((_, i) => (i * 53) % 256)
    for (const spec of [
      TF_MODE_PREPROCESSING,
      { kind: 'scale' as const, scale: 1 / 255, offset: 0 },
      { kind: 'scale' as const, scale: 0.0173, offset: -2.1 }
    ]) {
      const fast = pixelsToInput(pixels, 2, 7, spec)
      const ref = applyPreprocessing(tf.tensor4d(pixels, [2, 7, 7, 3], 'int32'), spec)
      expect(fast.shape).toEqual([2, 7, 7, 3])
      expect(relErr(fast.dataSync(), ref.dataSync())).toBe(0)
      tf.dispose([fast, ref])
    }
  })

  it('gives each batch its own input on every backend (the wasm path reuses one conversion array)', async () => {
    const a = new Uint8Array(2 * 7 * 7 * 3).map((_, i) => i % 256)
    const b = new Uint8Array(3 * 7 * 7 * 3).map((_, i) => 255 - (i % 256))
    for (const backend of ['wasm', 'cpu']) {
      await tf.setBackend(backend)
      try {
        const first = pixelsToInput(a, 2, 7, TF_MODE_PREPROCESSING)
        const second = pixelsToInput(b, 3, 7, TF_MODE_PREPROCESSING)
        const third = pixelsToInput(b, 1, 7, TF_MODE_PREPROCESSING)
        expect(Array.from(first.dataSync().subarray(0, 3))).toEqual([-1, 1 / 127.5 - 1, 2 / 127.5 - 1].map(Math.fround))
        expect(first.dataSync()[a.length - 1]).toBeCloseTo((a[a.length - 1] as number) / 127.5 - 1, 6)
        expect(second.dataSync()[0]).toBe(1)
        expect(third.shape).toEqual([1, 7, 7, 3])
        tf.dispose([first, second, third])
      } finally {
        await tf.setBackend('wasm')
      }
    }
  })

  it('runs the convolutions of MobileNetV2 with JIT kernels, not the reference ones', () => {
    const addon = load.addon!
    const p = {
      n: 4,
      ih: 20,
      iw: 20,
      ic: 96,
      oh: 10,
      ow: 10,
      oc: 96,
      kh: 3,
      kw: 3,
      sh: 2,
      sw: 2,
      pt: 0,
      pb: 1,
      pl: 0,
      pr: 1,
      groups: 96,
      act: 2
    }
    for (const impl of [
      addon.implementations(p),
      addon.implementations({ ...p, kh: 1, kw: 1, sh: 1, sw: 1, pb: 0, pr: 0, oh: 20, ow: 20, oc: 24, groups: 1 })
    ]) {
      for (const name of Object.values(impl)) expect(name).not.toMatch(/^ref/)
    }
  })

  it('masks a gradient as a select: edges of the range, NaN and -0 in dy, per-channel sums', () => {
    const addon = load.addon!
    const c = 3
    // y on and around the edges (lo 0, hi 6), dy with values a multiply-by-mask would spoil (NaN, Inf, -0).
    const y = Float32Array.from([-1, 0, 1e-7, 3, 6, 6.5, NaN, 5.999999523162842, 2, 0, 4, 7])
    const dy = Float32Array.from([NaN, Infinity, 2, -0, 5, NaN, 1, 3, -4, -Infinity, 0.5, 1])
    const inRange = (v: number, loInclusive: boolean): boolean => (loInclusive ? v >= 0 : v > 0) && v <= 6
    const want = (loInclusive: boolean): number[] => [...y].map((v, i) => (inRange(v, loInclusive) ? dy[i]! : 0))
    const out = new Float32Array(y.length)
    const sums = new Float32Array(c)
    addon.maskGradSums!(y, dy, 0, 6, out, sums)
    expect([...out]).toEqual(want(false))
    expect([...sums]).toEqual([0, 1, 2].map((k) => want(false).reduce((a, v, i) => (i % c === k ? a + v : a), 0)))
    addon.maskGrad(y, dy, 0, 6, false, out)
    expect([...out]).toEqual(want(false))
    addon.maskGrad(y, dy, 0, 6, true, out)
    expect([...out]).toEqual(want(true))
    // Masked-off entries are +0, as the select gave.
    expect(Object.is(out[0], 0)).toBe(true)
  })

  it('gives a clear error for a buffer of the wrong size instead of reading past it', () => {
    const p = {
      n: 1,
      ih: 4,
      iw: 4,
      ic: 2,
      oh: 4,
      ow: 4,
      oc: 3,
      kh: 1,
      kw: 1,
      sh: 1,
      sw: 1,
      pt: 0,
      pb: 0,
      pl: 0,
      pr: 0,
      groups: 1,
      act: 0
    }
    expect(() =>
      load.addon!.conv2dForward(p, new Float32Array(31), new Float32Array(6), null, new Float32Array(48))
    ).toThrow(/x: expected 32 elements, got 31/)
  })

  it('a FusedConv layer (folded conv + relu6 + explicit padding) survives serialisation', async () => {
    const input = tf.input({ shape: [9, 9, 4] })
    const layer = new FusedConv({
      name: 'fc',
      depthwise: true,
      filters: 4,
      kernelSize: [3, 3],
      strides: [2, 2],
      padding: [
        [0, 1],
        [0, 1]
      ],
      activation: 'relu6'
    })
    const model = tf.model({ inputs: input, outputs: layer.apply(input) as tf.SymbolicTensor })
    layer.setWeights([tf.mul(randomTensor([3, 3, 4, 1], 5), 4), randomTensor([4], 6)])
    const x = randomTensor([2, 9, 9, 4], 7)
    const ref = (model.predict(x) as tf.Tensor).dataSync()
    let saved: tf.io.ModelArtifacts | null = null
    await model.save(
      tf.io.withSaveHandler(
        async (a) => ((saved = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })
      )
    )
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(saved!))
    expect(loaded.outputs[0]!.shape).toEqual([null, 4, 4, 4]) // (9 + 1 - 3) / 2 + 1
    const got = (loaded.predict(x) as tf.Tensor).dataSync()
    expect(relErr(got, ref)).toBeLessThan(1e-6)
    expect(Math.max(...got)).toBeLessThanOrEqual(6)
    expect(Math.min(...got)).toBeGreaterThanOrEqual(0)
    tf.dispose([x])
    model.dispose()
    loaded.dispose()
  })
})
