import * as tf from '@tensorflow/tfjs'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { tmpdir } from 'node:os'
import { beforeAll, describe, expect, it } from 'vitest'
import { NO_AUGMENTATION } from '@shared/domain'
import { trainRun } from '@core/training/trainer'
import type { AugmentBatch, FeatureCacheOptions, TrainEvent, TrainParams } from '@core/training/types'
import {
  colourImages,
  countingBase,
  maxAbsDiff,
  memorySet,
  snapshot,
  tinyBase,
  useCpu
} from '@test/helpers/trainingFixtures'

const S = 32
beforeAll(useCpu)

function params(over: Partial<TrainParams> = {}): TrainParams {
  return {
    classes: ['red', 'blue'],
    epochs: 2,
    batchSize: 8,
    lr: 0.05,
    optimizer: 'adam',
    dropout: 0.2,
    seed: 3,
    augment: NO_AUGMENTATION,
    ...over
  }
}

const isMovingStat = (name: string): boolean => /moving_(mean|variance)/.test(name)

/** Mirror every image left-right (a deterministic augmentation that still needs the base per batch). */
const flip: AugmentBatch = (pixels, count, size) => {
  const out = new Uint8Array(pixels.length)
  const row = size * 3
  for (let i = 0; i < count; i++)
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++)
        for (let c = 0; c < 3; c++)
          out[i * size * row + y * row + x * 3 + c] = pixels[
            i * size * row + y * row + (size - 1 - x) * 3 + c
          ] as number
  return out
}

describe('phase 2 (fine-tuning from layer N)', () => {
  it('trains only layers >= N, keeps BN moving statistics, continues the epoch numbers', async () => {
    const base = tinyBase(S)
    const at = 7 // block_1_depthwise: inside the residual block, two tensors cross the cut
    const before = snapshot(base.model, () => true)
    const events: TrainEvent[] = []
    const r = await trainRun(params({ fineTuneAt: at, fineTuneEpochs: 3, headLrMultiplier: 10 }), {
      base,
      train: memorySet(colourImages(2, 8, S, 71), S),
      validation: memorySet(colourImages(2, 4, S, 72), S),
      onEvent: (e) => events.push(e)
    })
    expect(r.status).toBe('completed')
    expect(r.epochs.map((e) => [e.phase, e.epoch])).toEqual([
      ['head', 1],
      ['head', 2],
      ['fine-tune', 3],
      ['fine-tune', 4],
      ['fine-tune', 5]
    ])
    expect(r.epochs[2]?.lr).toBeCloseTo(0.005, 10)
    expect(events.find((e) => e.type === 'phase-start' && e.phase === 'fine-tune')).toMatchObject({
      path: 'cached-activations',
      fineTuneAt: 7
    })

    const after = snapshot(base.model, () => true)
    let changedAbove = 0
    base.model.layers.forEach((layer, i) => {
      for (const w of layer.weights) {
        const d = maxAbsDiff(before.get(w.name) as Float32Array, after.get(w.name) as Float32Array)
        if (i < at || isMovingStat(w.name)) expect(d, `${w.name} (layer ${i}) must not change`).toBe(0)
        else {
          expect(d, `${w.name} (layer ${i}) must train`).toBeGreaterThan(0)
          changedAbove++
        }
      }
    })
    // block_1_depthwise, its BN gamma/beta, block_1_project, BN gamma/beta, Conv_1, Conv_1_bn gamma/beta.
    expect(changedAbove).toBe(9)
    // The base is frozen again after the run.
    expect(base.model.layers.every((l) => l.trainableWeights.length === 0)).toBe(true)
    r.dispose()
  })

  it('recomputing activations per batch gives the same training as caching them', async () => {
    const run = async (
      activationCacheBytes?: number,
      activationMemoryBytes?: number
    ): Promise<{ losses: number[]; path: unknown; detail: string }> => {
      let path: unknown
      let detail = ''
      const r = await trainRun(params({ epochs: 1, fineTuneAt: 4, fineTuneEpochs: 2 }), {
        base: tinyBase(S),
        train: memorySet(colourImages(2, 6, S, 81), S),
        validation: memorySet(colourImages(2, 3, S, 82), S),
        activationCacheBytes,
        activationMemoryBytes,
        onEvent: (e) => {
          if (e.type === 'phase-start' && e.phase === 'fine-tune') {
            path = e.path
            detail = e.detail
          }
        }
      })
      r.dispose()
      return { losses: r.epochs.flatMap((e) => [e.loss, e.valLoss ?? NaN]), path, detail }
    }
    const cached = await run()
    const recomputed = await run(0)
    expect(cached.path).toBe('cached-activations')
    expect(cached.detail).toContain('in memory')
    expect(recomputed.path).toBe('recomputed-activations')
    recomputed.losses.forEach((l, i) => expect(l).toBeCloseTo(cached.losses[i] as number, 4))
    // Over the memory limit the cache goes to temporary files: the same numbers, and the files are gone after.
    const leftovers = (): string[] => readdirSync(tmpdir()).filter((f) => f.startsWith('tunelab-activations-'))
    const before = leftovers()
    const onDisk = await run(undefined, 0)
    expect(onDisk.path).toBe('cached-activations')
    expect(onDisk.detail).toContain('in temporary files')
    expect(onDisk.losses).toEqual(cached.losses)
    expect(leftovers()).toEqual(before)
  })

  it('with augmentation the base runs on every augmented batch in both phases', async () => {
    const base = countingBase(tinyBase(S))
    const events: TrainEvent[] = []
    const augment = { ...NO_AUGMENTATION, horizontalFlip: true }
    const r = await trainRun(params({ epochs: 2, fineTuneAt: 13, fineTuneEpochs: 1, augment }), {
      base,
      train: memorySet(colourImages(2, 4, S, 91), S),
      validation: memorySet(colourImages(2, 2, S, 92), S),
      augmentBatch: flip,
      onEvent: (e) => events.push(e)
    })
    const starts = events.filter((e) => e.type === 'phase-start')
    expect(starts.map((e) => e.path)).toEqual(['augmented-forward', 'augmented-forward'])
    // 8 train images x 3 epochs, + 4 validation images once: phase 1's feature pass also fills phase 2's cache.
    expect(base.calls.images).toBe(8 * 3 + 4)
    r.dispose()
  })

  it('without augmentation the base runs once per image over both phases (phase 1 fills the cut cache)', async () => {
    const run = async (
      features?: FeatureCacheOptions
    ): Promise<{ images: number; detail: string; losses: number[] }> => {
      const base = countingBase(tinyBase(S))
      let detail = ''
      const r = await trainRun(params({ epochs: 2, fineTuneAt: 7, fineTuneEpochs: 2 }), {
        base,
        train: memorySet(colourImages(2, 5, S, 93), S),
        validation: memorySet(colourImages(2, 3, S, 94), S),
        featureCache: features,
        onEvent: (e) => {
          if (e.type === 'phase-start' && e.phase === 'fine-tune') detail = e.detail
        }
      })
      r.dispose()
      return { images: base.calls.images, detail, losses: r.epochs.flatMap((e) => [e.loss, e.valLoss ?? NaN]) }
    }
    const dir = mkdtempSync(join(tmpdir(), 'tunelab-cut-'))
    try {
      const cold = await run({ dir, resizeMode: 'squash' })
      expect(cold.images).toBe(10 + 6)
      expect(cold.detail).toContain("phase 1's feature pass computed those of 16 images")
      // Features from the disk cache: phase 1 runs no base, so phase 2 computes the activations itself.
      const warm = await run({ dir, resizeMode: 'squash' })
      expect(warm.images).toBe(10 + 6)
      expect(warm.detail).not.toContain('phase 1')
      warm.losses.forEach((l, i) => expect(l).toBeCloseTo(cold.losses[i] as number, 5))
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('phase 2 leaks no tensors between epochs', async () => {
    const counts = new Map<number, number>()
    const r = await trainRun(
      params({ epochs: 1, fineTuneAt: 7, fineTuneEpochs: 4, headLrMultiplier: 10, earlyStopPatience: 10 }),
      {
        base: tinyBase(S),
        train: memorySet(colourImages(2, 4, S, 95), S),
        validation: memorySet(colourImages(2, 2, S, 96), S),
        activationCacheBytes: 0,
        onEpochEnd: (e) => void counts.set(e.epoch, tf.memory().numTensors)
      }
    )
    expect(counts.get(3)).toBeGreaterThan(0)
    expect(counts.get(5)).toBe(counts.get(3))
    r.dispose()
  })
})
