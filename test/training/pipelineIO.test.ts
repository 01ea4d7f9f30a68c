// The engine fed by the real dataset pipeline: PNG files on disk -> ImageCache -> imageCacheSet, default augmentation.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createHash } from 'node:crypto'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { NO_AUGMENTATION } from '@shared/domain'
import { ImageCache } from '@core/pipeline/imageCache'
import { pipelineAugmentBatch } from '@core/training/augmentBatch'
import { imageCacheSet } from '@core/pipeline/imageSets'
import { trainRun } from '@core/training/trainer'
import type { TrainEvent } from '@core/training/types'
import { colourImages, countingBase, tinyBase, useCpu } from '@test/helpers/trainingFixtures'

const S = 32
const tmp = mkdtempSync(join(tmpdir(), 'tunelab-pipe-'))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

async function writePngs(
  data: { pixels: Uint8Array; labels: number[] },
  src: number,
  prefix: string
): Promise<{ absPath: string; hash: string; label: number }[]> {
  const per = src * src * 3
  const items = []
  for (let i = 0; i < data.labels.length; i++) {
    const png = await sharp(Buffer.from(data.pixels.subarray(i * per, (i + 1) * per)), {
      raw: { width: src, height: src, channels: 3 }
    })
      .png()
      .toBuffer()
    const absPath = join(tmp, `${prefix}${i}.png`)
    await sharp(png).toFile(absPath)
    items.push({ absPath, hash: createHash('sha256').update(png).digest('hex'), label: data.labels[i] as number })
  }
  return items
}

describe('engine on the dataset pipeline', () => {
  beforeAll(useCpu)

  it('trains from PNG files through ImageCache with the default (pipeline) augmentation', async () => {
    // Images are written at 48 px and resized to 32 by the cache.
    const trainItems = await writePngs(colourImages(2, 6, 48, 401), 48, 't')
    const valItems = await writePngs(colourImages(2, 3, 48, 402), 48, 'v')
    const cache = new ImageCache(join(tmp, 'cache'))
    const base = countingBase(tinyBase(S))
    const events: TrainEvent[] = []
    const augment = { ...NO_AUGMENTATION, horizontalFlip: true, rotation: 0.05 }
    const r = await trainRun(
      {
        classes: ['red', 'blue'],
        epochs: 3,
        batchSize: 4,
        lr: 0.05,
        optimizer: 'adam',
        dropout: 0.2,
        seed: 5,
        augment
      },
      {
        base,
        train: imageCacheSet(cache, trainItems, S, 'squash'),
        validation: imageCacheSet(cache, valItems, S, 'squash'),
        onEvent: (e) => events.push(e)
      }
    )
    expect(r.status).toBe('completed')
    expect(events.find((e) => e.type === 'phase-start')).toMatchObject({ path: 'augmented-forward' })
    expect(base.calls.images).toBe(12 * 3 + 6)
    expect(cache.stats.decodes).toBe(18)
    expect(r.epochs.at(-1)?.valAccuracy).toBeGreaterThan(0.8)
    r.dispose()
  })

  it('pipelineAugmentBatch: same image, same epoch -> same pixels whatever the batch; another epoch -> different', () => {
    const d = colourImages(2, 2, S, 403)
    const per = S * S * 3
    const spec = { ...NO_AUGMENTATION, rotation: 0.1, zoom: 0.2 }
    const keys = ['k0', 'k1', 'k2', 'k3']
    const at = (epoch: number, ks: string[]) => ({
      epoch,
      keys: ks,
      seed: 1,
      rng: { next: () => 0, int: () => 0, uniform: (a: number) => a, shuffle: <T>(x: T[]) => x }
    })
    const all = pipelineAugmentBatch(d.pixels.slice(), 4, S, spec, at(1, keys))
    const one = pipelineAugmentBatch(d.pixels.slice(2 * per, 3 * per), 1, S, spec, at(1, ['k2']))
    expect(Buffer.from(one).equals(Buffer.from(all.subarray(2 * per, 3 * per)))).toBe(true)
    const nextEpoch = pipelineAugmentBatch(d.pixels.slice(2 * per, 3 * per), 1, S, spec, at(2, ['k2']))
    expect(Buffer.from(nextEpoch).equals(Buffer.from(one))).toBe(false)
  })
})
