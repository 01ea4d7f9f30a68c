import * as tf from '@tensorflow/tfjs'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { NO_AUGMENTATION } from '@shared/domain'
import { trainRun } from '@core/training/trainer'
import type { TrainEvent, TrainParams } from '@core/training/types'
import { colourImages, countingBase, memorySet, snapshot, tinyBase, useCpu } from '@test/helpers/trainingFixtures'

const S = 32
const tmp = mkdtempSync(join(tmpdir(), 'tunelab-train-'))
beforeAll(useCpu)
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

function params(over: Partial<TrainParams> = {}): TrainParams {
  return {
    classes: ['red', 'blue'],
    epochs: 10,
    batchSize: 8,
    lr: 0.05,
    optimizer: 'adam',
    dropout: 0.2,
    seed: 1,
    augment: NO_AUGMENTATION,
    ...over
  }
}

describe('phase 1 (head on cached features)', () => {
  it('learns a separable binary problem, computes base features once, leaves BN statistics alone', async () => {
    const base = countingBase(tinyBase(S))
    const train = memorySet(colourImages(2, 16, S, 11), S)
    const validation = memorySet(colourImages(2, 8, S, 12), S)
    const bnBefore = snapshot(base.model, (_, n) => /moving_(mean|variance)/.test(n))
    const baseBefore = snapshot(base.model, () => true)
    const events: TrainEvent[] = []
    const written: number[] = []
    const r = await trainRun(params(), {
      base,
      train,
      validation,
      onEvent: (e) => events.push(e),
      onEpochEnd: async (e) => {
        await new Promise((res) => setTimeout(res, 1))
        written.push(e.epoch)
      }
    })
    expect(r.status).toBe('completed')
    expect(r.outputUnits).toBe(1)
    expect(r.epochs.map((e) => e.epoch)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    expect(written).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    const last = r.epochs[9]
    expect(last?.valAccuracy).toBeGreaterThan(0.9)
    expect(last?.accuracy).toBeGreaterThan(0.9)
    expect(last?.loss).toBeLessThan(r.epochs[0]?.loss ?? 0)
    // One forward per batch of 8 over 32 train + 16 val images, never again during the epochs.
    expect(base.calls.images).toBe(48)
    expect(base.calls.forward).toBe(6)
    expect(events.find((e) => e.type === 'phase-start')).toMatchObject({ phase: 'head', path: 'cached-features' })
    const batchEvents = events.filter((e) => e.type === 'batch')
    expect(batchEvents.length).toBe(10 * 4)
    expect(batchEvents[3]).toMatchObject({ phase: 'head', epoch: 1, batch: 4, batches: 4 })
    for (const [name, v] of snapshot(base.model, () => true)) expect(v).toEqual(baseBefore.get(name))
    expect(bnBefore.size).toBe(10)

    // The full model (base + head) predicts what validation measured.
    const pixels = await validation.load(validation.keys.map((_, i) => i))
    const probs = await r.predict(pixels, validation.keys.length)
    let correct = 0
    validation.labels.forEach((y, i) => {
      const p1 = probs[i * 2 + 1] as number
      expect((probs[i * 2] as number) + p1).toBeCloseTo(1, 5)
      if ((p1 > 0.5 ? 1 : 0) === y) correct++
    })
    expect(correct / validation.labels.length).toBeCloseTo(last?.valAccuracy ?? -1, 5)
    r.dispose()
  })

  it('softmax head for 3 classes with a hidden dense layer', async () => {
    const base = tinyBase(S)
    const r = await trainRun(params({ classes: ['r', 'b', 'g'], dense: 16, epochs: 10, dropout: 0.3 }), {
      base,
      train: memorySet(colourImages(3, 12, S, 21), S),
      validation: memorySet(colourImages(3, 6, S, 22), S)
    })
    expect(r.outputUnits).toBe(3)
    expect(r.model.outputs[0]?.shape).toEqual([null, 3])
    expect(r.model.layers.map((l) => l.name)).toContain('head_dense')
    expect(r.epochs.at(-1)?.valAccuracy).toBeGreaterThan(0.9)
    r.dispose()
  })

  it('reuses features from the disk cache on a second run (no base forward for cached images)', async () => {
    const train = memorySet(colourImages(2, 8, S, 31), S)
    const validation = memorySet(colourImages(2, 4, S, 32), S)
    const featureCache = { dir: tmp, resizeMode: 'squash' as const }
    const first = countingBase(tinyBase(S))
    const events: TrainEvent[] = []
    ;(await trainRun(params({ epochs: 2 }), { base: first, train, validation, featureCache })).dispose()
    expect(first.calls.images).toBe(24)
    const dirs = readdirSync(join(tmp, 'features'))
    expect(dirs.length).toBe(1)
    expect(readdirSync(join(tmp, 'features', dirs[0] as string)).filter((f) => f.endsWith('.f32')).length).toBe(24)

    const second = countingBase(tinyBase(S))
    const r = await trainRun(params({ epochs: 2 }), {
      base: second,
      train,
      validation,
      featureCache,
      onEvent: (e) => events.push(e)
    })
    expect(second.calls.images).toBe(0)
    expect(events.filter((e) => e.type === 'features').at(-1)).toMatchObject({
      split: 'validation',
      fromDisk: 8,
      total: 8
    })
    r.dispose()

    // Different weights -> different key -> recomputed.
    const third = countingBase(tinyBase(S, 99))
    ;(await trainRun(params({ epochs: 1 }), { base: third, train, validation, featureCache })).dispose()
    expect(third.calls.images).toBe(24)
    expect(readdirSync(join(tmp, 'features')).length).toBe(2)
  })

  it('is deterministic for a seed', async () => {
    const data = colourImages(2, 8, S, 41)
    const run = async (seed: number): Promise<number[]> => {
      const r = await trainRun(params({ epochs: 3, seed }), { base: tinyBase(S), train: memorySet(data, S) })
      r.dispose()
      return r.epochs.map((e) => e.loss)
    }
    const a = await run(5)
    expect(await run(5)).toEqual(a)
    expect(await run(6)).not.toEqual(a)
  })

  it('class weights change the training loss', async () => {
    // Imbalanced: 12 red, 4 blue.
    const d = colourImages(2, 12, S, 51)
    const keep = d.labels.map((y, i) => (y === 0 || i < 8 ? i : -1)).filter((i) => i >= 0)
    const per = S * S * 3
    const pixels = new Uint8Array(keep.length * per)
    keep.forEach((i, k) => pixels.set(d.pixels.subarray(i * per, (i + 1) * per), k * per))
    const data = { pixels, labels: keep.map((i) => d.labels[i] as number) }
    const events: TrainEvent[] = []
    const run = async (cw: 'balanced' | null): Promise<number> => {
      const r = await trainRun(params({ epochs: 1, classWeights: cw }), {
        base: tinyBase(S),
        train: memorySet(data, S),
        onEvent: (e) => events.push(e)
      })
      r.dispose()
      return r.epochs[0]?.loss ?? NaN
    }
    const plain = await run(null)
    const weighted = await run('balanced')
    expect(Math.abs(plain - weighted)).toBeGreaterThan(1e-4)
    const info = events.find((e) => e.type === 'info')
    expect(info).toBeDefined()
    expect(info?.type === 'info' && info.message).toMatch(/red=0\.6\d+, blue=2\.\d+/)
  })

  it('has no tensor leak across 20 epochs', async () => {
    let atEpoch2 = -1
    let atEpoch20 = -1
    const r = await trainRun(params({ epochs: 20, earlyStopPatience: 50 }), {
      base: tinyBase(S),
      train: memorySet(colourImages(2, 8, S, 61), S),
      validation: memorySet(colourImages(2, 4, S, 62), S),
      onEpochEnd: (e) => {
        if (e.epoch === 2) atEpoch2 = tf.memory().numTensors
        if (e.epoch === 20) atEpoch20 = tf.memory().numTensors
      }
    })
    expect(atEpoch2).toBeGreaterThan(0)
    expect(atEpoch20).toBe(atEpoch2)
    r.dispose()
  })
})
