// Phase 1's one pass that also yields phase 2's input: the base with the cut tensors as extra outputs, on this
// thread and in the worker pool, equals the split's lower part; cached rows read ahead equal rows read in place.
import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildBase, type BaseNetwork } from '@core/models'
import { ForwardPool } from '@core/parallel'
import { createActivationStore } from '@core/training/activationCache'
import { cutForwardOnThisThread, readAheadInputs, withCutOutputs, type CutCache } from '@core/training/cutActivations'
import { baseInput } from '@core/training/features'
import { splitModelAt } from '@core/training/splitModel'
import { spatialMean } from '@core/tf/spatialMean'
import { useWasmBackend } from '@test/helpers/exportFixtures'

let mnet: BaseNetwork
beforeAll(async () => {
  await useWasmBackend()
  mnet = buildBase('mobilenet_v2_0.35_96')
})
afterAll(() => mnet.model.dispose())

function pixelsFor(count: number, seed: number): Uint8Array {
  let a = seed >>> 0
  const out = new Uint8Array(count * 96 * 96 * 3)
  for (let i = 0; i < out.length; i++) {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0
    out[i] = a >>> 24
  }
  return out
}

/** max |a - b| relative to max |b| (random Keras-init MobileNetV2 activations are tiny deep in the net). */
function relDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length)
  let d = 0
  let m = 0
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs((a[i] as number) - (b[i] as number)))
    m = Math.max(m, Math.abs(b[i] as number))
  }
  expect(m).toBeGreaterThan(0)
  return d / m
}

describe('cut activations from the feature pass', () => {
  it('pooled features + cut tensors, on this thread and in workers, equal the split lower part and the base', async () => {
    const at = 100 // inside block 11: two tensors cross the cut, one of them a BatchNorm output read by a ReLU
    const count = 5
    const pixels = pixelsFor(count, 7)
    const split = splitModelAt(mnet.model, at)
    const want = tf.tidy(() => {
      const x = baseInput(mnet, pixels, count, 96)
      const lower = split.lower?.predict(x) as tf.Tensor[]
      return [spatialMean(mnet.model.predict(x) as tf.Tensor4D), ...lower].map((t) => t.dataSync() as Float32Array)
    })
    expect(want).toHaveLength(3)

    const local = cutForwardOnThisThread(mnet, at)
    const got = await local.forward(pixels, count)
    local.dispose()
    expect(got).toHaveLength(3)
    got.forEach((g, k) => expect(relDiff(g, want[k] as Float32Array), `output ${k}`).toBeLessThan(1e-4))

    const pool = await ForwardPool.forBase(
      { model: withCutOutputs(mnet.model, at), spec: mnet.spec },
      { workers: 2, foldBn: true }
    )
    try {
      expect(pool.info.extraDims).toEqual([6 * 6 * 192, 6 * 6 * 32])
      const fromPool = await pool.runAll(pixels, count)
      fromPool.forEach((g, k) => expect(relDiff(g, want[k] as Float32Array), `pool output ${k}`).toBeLessThan(1e-4))
      expect(await pool.run(pixels, count)).toEqual(fromPool[0])
    } finally {
      await pool.close()
    }
  })

  it.each(['wasm', 'cpu'])(
    'rows read ahead (from temporary files) are the rows read in place, announced or not (%s backend)',
    async (backend) => {
      await tf.setBackend(backend)
      const perImage = [6, 4]
      const n = 9
      const fill = (k: number): Float32Array =>
        Float32Array.from({ length: n * (perImage[k] as number) }, (_, i) => k * 1000 + i)
      const cacheOf = (memory: number): CutCache => {
        const store = createActivationStore(n, perImage, memory)
        perImage.forEach((_, k) => store.write(k, [...Array(n).keys()], fill(k)))
        return { perImage, shapes: [[2, 3], [4]], store, filled: new Uint8Array(n).fill(1) }
      }
      const disk = cacheOf(0)
      const memory = cacheOf(Infinity)
      expect(disk.store.where).toBe('disk')
      const kept: tf.Tensor[][] = []
      try {
        const ahead = readAheadInputs(disk)
        const direct = readAheadInputs(memory)
        // Same-size batches reuse row buffers where the backend copies a tensor's values (WebAssembly), and must
        // not where it keeps them (cpu): every batch's tensors are checked after all batches were read.
        const batches = [
          [4, 0, 8],
          [7, 2],
          [1, 3, 5, 6],
          [0, 1],
          [8, 7],
          [3, 5],
          [6, 2]
        ]
        ahead.ahead(batches[0] as number[])
        ahead.ahead(batches[1] as number[])
        for (const [i, b] of batches.entries()) {
          if (i >= 1 && batches[i + 1]) ahead.ahead(batches[i + 1] as number[])
          kept.push([...(await ahead.inputs(b)), ...(await direct.inputs(b))])
        }
        for (const [i, [x, y, wx, wy]] of kept.entries()) {
          const b = batches[i] as number[]
          expect(x?.shape).toEqual([b.length, 2, 3])
          expect(await x?.data()).toEqual(await wx?.data())
          expect(await y?.data()).toEqual(await wy?.data())
          // Row i of tensor 0 starts at value i * 6.
          expect((await x?.data())?.[0]).toBe((b[0] as number) * 6)
        }
      } finally {
        tf.dispose(kept.flat())
        disk.store.dispose()
        memory.store.dispose()
        await tf.setBackend('wasm')
      }
    }
  )

  it('settle() returns only after every read ahead has landed, used or not', async () => {
    const perImage = [6]
    const n = 40
    const store = createActivationStore(n, perImage, 0)
    store.write(0, [...Array(n).keys()], new Float32Array(n * 6))
    let running = 0
    let started = 0
    const counted: CutCache['store'] = Object.assign(Object.create(store) as CutCache['store'], {
      readAsync: async (...args: Parameters<CutCache['store']['readAsync']>) => {
        running++
        try {
          // The earliest reads finish last.
          await new Promise((r) => setTimeout(r, 100 - 10 * started++))
          return await store.readAsync(...args)
        } finally {
          running--
        }
      }
    })
    try {
      const ahead = readAheadInputs({ perImage, shapes: [[6]], store: counted, filled: new Uint8Array(n).fill(1) })
      // More batches than the reader keeps, as a cancelled epoch leaves them.
      for (let b = 0; b < 8; b++) ahead.ahead([b * 5, b * 5 + 1])
      expect(running).toBe(8)
      await ahead.settle()
      expect(running).toBe(0)
    } finally {
      store.dispose()
    }
  })
})
