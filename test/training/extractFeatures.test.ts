// The feature pass keeps two batches in the forward pass (a pool that splits each batch then never waits for the
// loop), stores every row at its image's place, and starts no forward after a cancel.
import { describe, expect, it } from 'vitest'
import { extractFeatures, type PooledForward } from '@core/training/features'
import type { BaseLike, ImageSet } from '@core/training/types'

const S = 2
const DIM = 3
/** Only what extractFeatures reads of a base when a forward is given: its output's channel count. */
const base = {
  spec: { id: 'stub', size: S },
  model: { outputs: [{ shape: [null, 1, 1, DIM] }] }
} as unknown as BaseLike

/** Image i's pixels are all i; its "features" are [i, i, i] (the forward below). */
function imageSet(n: number): ImageSet {
  return {
    keys: Array.from({ length: n }, (_, i) => `k${i}`),
    labels: Array.from({ length: n }, () => 0),
    load: async (idx) => {
      const px = new Uint8Array(idx.length * S * S * 3)
      idx.forEach((i, j) => px.fill(i, j * S * S * 3, (j + 1) * S * S * 3))
      return px
    }
  }
}

function countingForward(delayMs: number): { forward: PooledForward; maxInFlight: () => number; calls: () => number } {
  let inFlight = 0
  let max = 0
  let calls = 0
  return {
    forward: async (pixels, count) => {
      calls++
      max = Math.max(max, ++inFlight)
      await new Promise((r) => setTimeout(r, delayMs))
      inFlight--
      const rows = new Float32Array(count * DIM)
      for (let j = 0; j < count; j++) rows.fill(pixels[j * S * S * 3] as number, j * DIM, (j + 1) * DIM)
      return rows
    },
    maxInFlight: () => max,
    calls: () => calls
  }
}

describe('extractFeatures', () => {
  it('keeps two batches in the forward pass and stores each row at its image', async () => {
    const f = countingForward(5)
    const got = await extractFeatures(base, imageSet(23), { batchSize: 4, forward: f.forward })
    expect(f.maxInFlight()).toBe(2)
    expect(f.calls()).toBe(6)
    expect(Array.from(got.data)).toEqual(Array.from({ length: 23 }, (_, i) => [i, i, i]).flat())
  })

  it('starts no forward after a cancel', async () => {
    const f = countingForward(10)
    const controller = new AbortController()
    const run = extractFeatures(base, imageSet(40), {
      batchSize: 4,
      forward: f.forward,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.done >= 8) controller.abort()
      }
    })
    await expect(run).rejects.toThrow(/cancelled/)
    const atCancel = f.calls()
    await new Promise((r) => setTimeout(r, 60))
    expect(f.calls()).toBe(atCancel)
    expect(atCancel).toBeLessThan(10)
  })
})
