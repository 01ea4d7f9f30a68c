import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TF_MODE_PREPROCESSING, applyPreprocessing, buildBase } from '@core/models'
import { ForwardPool } from '@core/parallel'
import { useWasmBackend, smallConvBase, type TestBase } from '@test/helpers/exportFixtures'

const S = 48
let base: TestBase
const pools: ForwardPool[] = []

function pixelsFor(count: number, size: number, seed: number): Uint8Array {
  let a = seed >>> 0
  const out = new Uint8Array(count * size * size * 3)
  for (let i = 0; i < out.length; i++) {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0
    out[i] = a >>> 24
  }
  return out
}

/** Main-thread reference: preprocess, predict, optionally GAP. */
function reference(
  model: tf.LayersModel,
  pixels: Uint8Array,
  count: number,
  size: number,
  pooled: boolean
): Float32Array {
  return tf.tidy(() => {
    const x = applyPreprocessing(tf.tensor4d(pixels, [count, size, size, 3], 'int32'), TF_MODE_PREPROCESSING)
    const y = model.predict(x) as tf.Tensor
    return (pooled ? tf.mean(y, [1, 2]) : y).dataSync() as Float32Array
  })
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length)
  let m = 0
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)))
  return m
}

function maxAbs(a: Float32Array): number {
  return a.reduce((m, v) => Math.max(m, Math.abs(v)), 0)
}

async function pool(opts: Omit<Parameters<typeof ForwardPool.create>[0], 'preprocessing'>): Promise<ForwardPool> {
  const p = await ForwardPool.create({ preprocessing: TF_MODE_PREPROCESSING, ...opts })
  pools.push(p)
  return p
}

beforeAll(async () => {
  await useWasmBackend()
  base = smallConvBase(S, 21)
})
afterAll(async () => {
  await Promise.all(pools.map((p) => p.close()))
  base.model.dispose()
})

describe('ForwardPool', () => {
  it('gives the single-thread pooled features, in order, across two workers and uneven sub-batches', async () => {
    const p = await pool({ workers: 2, model: base.model, output: 'pooled', maxBatch: 3 })
    // Each worker's backend, described; with oneDNN, the 2 cores are shared out: 1 thread per worker.
    expect(p.info.backends).toHaveLength(2)
    for (const b of p.info.backends)
      expect(b).toMatch(/^wasm \(SIMD\)($| \+ oneDNN [\d.]+ convolutions, 1 thread$|; oneDNN not used: )/)
    expect({ ...p.info, backends: [] }).toEqual({
      workers: 2,
      backends: [],
      inputSize: S,
      outputDim: 16,
      extraDims: [],
      preprocessing: TF_MODE_PREPROCESSING,
      output: 'pooled',
      foldedBn: false
    })
    const count = 11
    const pixels = pixelsFor(count, S, 1)
    const copy = pixels.slice()
    const [a, b] = await Promise.all([p.run(pixels, count), p.run(pixels.subarray(0, 2 * S * S * 3), 2)])
    const want = reference(base.model, pixels, count, S, true)
    expect(a.length).toBe(count * 16)
    expect(maxAbs(want)).toBeGreaterThan(0.05)
    expect(maxDiff(a, want)).toBeLessThan(1e-5)
    expect(maxDiff(b, want.subarray(0, 2 * 16))).toBeLessThan(1e-5)
    // The caller's pixels are neither detached nor changed.
    expect(pixels).toEqual(copy)
    expect((await p.run(new Uint8Array(0), 0)).length).toBe(0)
    await expect(p.run(pixels.subarray(1), count)).rejects.toThrow(/expected 11x48x48x3 = 76032 bytes, got 76031/)
  })

  it("returns a classifier's raw outputs, and folds BatchNorm to the same features", async () => {
    const gap = tf.layers
      .globalAveragePooling2d({})
      .apply(base.model.outputs[0] as tf.SymbolicTensor) as tf.SymbolicTensor
    const probs = tf.layers
      .dense({ units: 3, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) })
      .apply(gap) as tf.SymbolicTensor
    const classifier = tf.model({ inputs: base.model.inputs, outputs: probs })
    const pixels = pixelsFor(7, S, 2)
    const raw = await pool({ workers: 2, model: classifier, output: 'raw' })
    expect(raw.info.outputDim).toBe(3)
    expect(maxDiff(await raw.run(pixels, 7), reference(classifier, pixels, 7, S, false))).toBeLessThan(1e-5)

    const folded = await pool({ workers: 1, model: base.model, output: 'pooled', foldBn: true })
    expect(folded.info.foldedBn).toBe(true)
    expect(maxDiff(await folded.run(pixels, 7), reference(base.model, pixels, 7, S, true))).toBeLessThan(1e-4)
  })

  it('runs a code-built MobileNetV2 (real topology) to the single-thread result', async () => {
    const mnet = buildBase('mobilenet_v2_0.35_96')
    const pixels = pixelsFor(4, 96, 3)
    const p = await ForwardPool.forBase(mnet, { workers: 2 })
    pools.push(p)
    expect(p.info).toMatchObject({
      output: 'pooled',
      outputDim: 1280,
      inputSize: 96,
      preprocessing: mnet.spec.preprocessing
    })
    const got = await p.run(pixels, 4)
    const want = reference(mnet.model, pixels, 4, 96, true)
    // Random Keras-init MobileNetV2 features are tiny (~1e-11): compare relative to their scale.
    expect(maxAbs(want)).toBeGreaterThan(0)
    expect(maxDiff(got, want) / maxAbs(want)).toBeLessThan(1e-4)
    mnet.model.dispose()
  })

  it('close() terminates the workers and later runs fail clearly', async () => {
    const p = await ForwardPool.create({
      workers: 2,
      model: base.model,
      preprocessing: TF_MODE_PREPROCESSING,
      output: 'pooled'
    })
    expect(p.liveWorkers).toBe(2)
    // The expectation is attached before close(): an unhandled rejection would kill the process
    // (tfjs-backend-wasm's emscripten glue rethrows them).
    const pending = expect(p.run(pixelsFor(64, S, 4), 64)).rejects.toThrow(/closed while a run was pending/)
    await p.close()
    expect(p.liveWorkers).toBe(0)
    await pending
    await expect(p.run(pixelsFor(1, S, 5), 1)).rejects.toThrow(/ForwardPool: closed/)
    await p.close()
  })

  it('a worker crash fails the pending run with a clear error instead of hanging', async () => {
    const p = await pool({ workers: 2, model: base.model, output: 'pooled', maxBatch: 2 })
    const pending = p.run(pixelsFor(40, S, 6), 40)
    p.simulateCrash(0, 7)
    await expect(pending).rejects.toThrow(/ForwardPool worker 0 exited unexpectedly with code 7; the pool is unusable/)
    await expect(p.run(pixelsFor(1, S, 7), 1)).rejects.toThrow(/worker 0 exited unexpectedly/)
    await expect.poll(() => p.liveWorkers, { timeout: 10_000 }).toBe(0)
  })

  it('start-up failures are errors naming the cause', async () => {
    const common = { model: base.model, preprocessing: TF_MODE_PREPROCESSING }
    await expect(
      ForwardPool.create({
        ...common,
        output: 'pooled',
        workers: 1,
        workerUrl: new URL('./fixtures/throwingWorker.mjs', import.meta.url)
      })
    ).rejects.toThrow(/worker 0 failed to start: worker module failed to load \(test fixture\)/)
    const gap = tf.model({
      inputs: base.model.inputs,
      outputs: tf.layers
        .globalAveragePooling2d({})
        .apply(base.model.outputs[0] as tf.SymbolicTensor) as tf.SymbolicTensor
    })
    await expect(ForwardPool.create({ ...common, model: gap, output: 'pooled', workers: 1 })).rejects.toThrow(
      /output 'pooled' needs a 4D feature map, the model outputs \[null,16\]/
    )
    await expect(ForwardPool.create({ ...common, output: 'pooled', workers: 0 })).rejects.toThrow(
      /workers must be a positive integer/
    )
  })
})
