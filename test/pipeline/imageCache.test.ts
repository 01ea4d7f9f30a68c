import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ImageCache, toFloat32 } from '@core/pipeline/imageCache'
import { decodeResized } from '@core/pipeline/decode'
import { scanProject } from '@core/project/scan'
import { createRng } from '@core/util/rng'
import type { ScannedImage } from '@shared/domain'
import { NO_AUGMENTATION } from '@shared/domain'
import { makeProject, tempDir } from '../helpers/synthetic'

const tmp = tempDir('tunelab-cache-')
afterAll(() => tmp.cleanup())

let root: string
let images: ScannedImage[]
beforeAll(async () => {
  root = join(tmp.dir, 'project')
  await makeProject(root, { classes: 2, perClass: 4, size: 40, formats: ['jpg', 'png', 'bmp', 'webp'] })
  images = (await scanProject(root)).images
})

function allFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => statSync(join(dir, f)).isFile())
}

describe('ImageCache', () => {
  it('decodes once, stores raw RGB at the documented path, and serves later gets from disk', async () => {
    const cacheDir = join(tmp.dir, 'c1')
    const img = images[0] as ScannedImage
    const abs = join(root, img.path)
    const first = new ImageCache(cacheDir)
    const a = await first.get(abs, img.hash, 24, 'center-crop')
    expect(first.stats).toEqual({ hits: 0, misses: 1, decodes: 1 })
    const file = join(cacheDir, 'img', '24-center-crop', img.hash.slice(0, 2), `${img.hash}.rgb`)
    expect(first.pathFor(img.hash, 24, 'center-crop')).toBe(file)
    expect(readFileSync(file).length).toBe(24 * 24 * 3)
    expect(Buffer.from(a).equals(Buffer.from(await decodeResized(abs, 24, 'center-crop')))).toBe(true)

    // A new process (new instance) finds it on disk, even after the source file is gone.
    const copy = join(tmp.dir, 'moved.bin')
    writeFileSync(copy, readFileSync(abs))
    const second = new ImageCache(cacheDir)
    const b = await second.get(join(tmp.dir, 'missing.jpg'), img.hash, 24, 'center-crop')
    expect(second.stats).toEqual({ hits: 1, misses: 0, decodes: 0 })
    expect(Buffer.from(b).equals(Buffer.from(a))).toBe(true)

    // Another size or mode is another entry.
    await second.get(copy, img.hash, 24, 'pad')
    expect(second.stats.decodes).toBe(1)
    expect(allFiles(cacheDir).filter((f) => f.endsWith('.tmp'))).toEqual([])
  })

  it('replaces a damaged cache file and shares concurrent requests for one image', async () => {
    const cacheDir = join(tmp.dir, 'c2')
    const img = images[1] as ScannedImage
    const abs = join(root, img.path)
    const cache = new ImageCache(cacheDir)
    const [x, y] = await Promise.all([cache.get(abs, img.hash, 16, 'squash'), cache.get(abs, img.hash, 16, 'squash')])
    expect(cache.stats.decodes).toBe(1)
    expect(x).toBe(y)
    const file = cache.pathFor(img.hash, 16, 'squash')
    writeFileSync(file, Buffer.alloc(100))
    const again = await new ImageCache(cacheDir).get(abs, img.hash, 16, 'squash')
    expect(Buffer.from(again).equals(Buffer.from(x))).toBe(true)
    expect(readFileSync(file).length).toBe(16 * 16 * 3)
  })

  it('loadBatch returns [n, size, size, 3] in item order, augmented reproducibly when asked', async () => {
    const cache = new ImageCache(join(tmp.dir, 'c3'))
    const items = images.map((i) => ({ absPath: join(root, i.path), hash: i.hash }))
    const batch = await cache.loadBatch(items, 20, 'squash', { concurrency: 3 })
    expect(batch.length).toBe(items.length * 20 * 20 * 3)
    for (const [k, it] of items.entries()) {
      const one = await decodeResized(it.absPath, 20, 'squash')
      expect(Buffer.from(batch.subarray(k * 1200, (k + 1) * 1200)).equals(Buffer.from(one)), it.absPath).toBe(true)
    }
    const spec = { ...NO_AUGMENTATION, horizontalFlip: true, rotation: 0.1 }
    const a1 = await cache.loadBatch(items, 20, 'squash', { augment: { spec, rng: createRng(5) } })
    const a2 = await cache.loadBatch(items, 20, 'squash', { augment: { spec, rng: createRng(5) }, concurrency: 1 })
    expect(Buffer.from(a1).equals(Buffer.from(a2))).toBe(true)
    expect(Buffer.from(a1).equals(Buffer.from(batch))).toBe(false)
    const f = toFloat32(batch.subarray(0, 3), 1 / 127.5, -1)
    expect(f[0]).toBeCloseTo((batch[0] as number) / 127.5 - 1, 6)
  })

  it('loadBatch names a file that cannot be decoded', async () => {
    const cache = new ImageCache(join(tmp.dir, 'c4'))
    const bad = join(tmp.dir, 'gone.jpg')
    writeFileSync(bad, 'garbage')
    const items = [
      { absPath: join(root, images[0]?.path ?? ''), hash: images[0]?.hash ?? '' },
      { absPath: bad, hash: 'ab'.repeat(32) }
    ]
    await expect(cache.loadBatch(items, 16, 'squash')).rejects.toThrow(/gone\.jpg: not a recognised image format/)
    expect(existsSync(cache.pathFor('ab'.repeat(32), 16, 'squash'))).toBe(false)
    rmSync(bad)
  })
})
