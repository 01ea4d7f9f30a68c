// A scan for a training run decodes each new image at the run's size into the image cache, once.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { scanProject } from '@core/project/scan'
import { ImageCache } from '@core/pipeline/imageCache'
import { decodeResized } from '@core/pipeline/decode'
import { DEFAULT_TRAIN_OPTIONS } from '@core/run/options'
import { trainProject } from '@core/run/trainProject'
import { runScanWarm } from '@core/run/runScanWarm'
import { makeProject, tempDir, writeOddFiles } from '../helpers/synthetic'

const tmp = tempDir('tunelab-scanwarm-')
afterAll(() => tmp.cleanup())

describe('scan warming the image cache', () => {
  it('stores every readable image at the run size, the same pixels training would decode; odd files fail alike', async () => {
    const root = join(tmp.dir, 'p')
    await makeProject(root, { classes: ['a', 'b'], perClass: 3, size: 40, formats: ['jpg', 'png'] })
    await writeOddFiles(join(root, 'odd'))
    const cacheDir = join(tmp.dir, 'cache')
    let made = 0
    const warmed = await scanProject(root, {
      warm: { size: 24, mode: 'squash', cache: () => (made++, new ImageCache(cacheDir)), has: () => false }
    })
    const plain = await scanProject(root)
    // Same images, same reasons for the unreadable ones (probing and warming read the whole file alike).
    expect(warmed.images.map((i) => [i.path, i.hash, i.width, i.height])).toEqual(
      plain.images.map((i) => [i.path, i.hash, i.width, i.height])
    )
    expect(warmed.unreadable.map((u) => [u.path, u.reason])).toEqual(plain.unreadable.map((u) => [u.path, u.reason]))
    expect(plain.unreadable.length).toBeGreaterThan(3)
    expect(made).toBe(1)

    const cache = new ImageCache(cacheDir)
    for (const im of warmed.images) {
      const abs = join(root, im.path)
      expect(existsSync(cache.pathFor(im.hash, 24, 'squash')), im.path).toBe(true)
      expect(Buffer.from(await cache.get(abs, im.hash, 24, 'squash'))).toEqual(
        Buffer.from(await decodeResized(abs, 24, 'squash'))
      )
    }
    expect(cache.stats).toMatchObject({ hits: warmed.images.length, decodes: 0 })
  })

  it('images the cache already holds are only probed', async () => {
    const root = join(tmp.dir, 'held')
    await makeProject(root, { classes: ['a', 'b'], perClass: 2 })
    const asked: string[] = []
    let made = 0
    const scan = await scanProject(root, {
      warm: { size: 24, mode: 'squash', cache: () => (made++, null), has: (h) => (asked.push(h), true) }
    })
    expect(scan.images).toHaveLength(4)
    expect(asked.sort()).toEqual(scan.images.map((i) => i.hash).sort())
    expect(made).toBe(0)
  })

  it('once the cache cannot be written, the rest of the scan only probes', async () => {
    const root = join(tmp.dir, 'nocache')
    await makeProject(root, { classes: ['a', 'b'], perClass: 10 })
    let asked = 0
    let made = 0
    const scan = await scanProject(root, {
      concurrency: 1,
      warm: { size: 24, mode: 'squash', cache: () => (made++, null), has: () => (asked++, false) }
    })
    expect(scan.images).toHaveLength(20)
    expect([made, asked]).toEqual([1, 1])
  })

  it('a folder with one class gets nothing written (no state for a folder that cannot train)', async () => {
    const root = join(tmp.dir, 'one')
    await makeProject(root, { classes: ['only'], perClass: 2 })
    let made = 0
    await expect(
      scanProject(root, {
        warm: { size: 24, mode: 'squash', cache: () => (made++, new ImageCache(root)), has: () => false }
      })
    ).rejects.toThrow(/only one class/)
    expect(made).toBe(0)
  })

  it('a cache that cannot be written leaves the scan as it was', async () => {
    const root = join(tmp.dir, 'ro')
    await makeProject(root, { classes: ['a', 'b'], perClass: 2 })
    const blocker = join(tmp.dir, 'not-a-dir')
    mkdirSync(tmp.dir, { recursive: true })
    await import('node:fs').then((fs) => fs.writeFileSync(blocker, 'x'))
    const scan = await scanProject(root, {
      warm: { size: 24, mode: 'squash', cache: () => new ImageCache(join(blocker, 'cache')), has: () => false }
    })
    expect(scan.images).toHaveLength(4)
    expect(scan.unreadable).toHaveLength(0)
  })

  it('a run its scan refuses (a class of broken files) takes back the state folder its warming created, not an older one', async () => {
    const opts = { ...DEFAULT_TRAIN_OPTIONS, baseId: 'mobilenet_v2_0.35_96', weights: { kind: 'random' as const } }
    const make = async (name: string): Promise<string> => {
      const root = join(tmp.dir, name)
      await makeProject(root, { classes: ['good'], perClass: 3 })
      mkdirSync(join(root, 'broken'))
      writeFileSync(join(root, 'broken', 'x.jpg'), 'not a picture')
      return root
    }
    const fresh = await make('refused')
    await expect(trainProject(fresh, opts)).rejects.toThrow(/class "broken" has no readable images/)
    expect(existsSync(join(fresh, '.tunelab'))).toBe(false)

    const older = await make('refused-again')
    mkdirSync(join(older, '.tunelab'))
    await expect(trainProject(older, opts)).rejects.toThrow(/no readable images/)
    expect(existsSync(join(older, '.tunelab', 'cache', 'img'))).toBe(true)
  })
  it('taking back the state folder never removes what another process wrote into it meanwhile', async () => {
    const root = join(tmp.dir, 'meanwhile')
    await makeProject(root, { classes: ['a', 'b'], perClass: 1 })
    const opts = { ...DEFAULT_TRAIN_OPTIONS, baseId: 'mobilenet_v2_0.35_96', weights: { kind: 'random' as const } }
    const warming = runScanWarm(root, opts)
    const cache = warming.warm?.cache()
    await cache?.put('ab'.repeat(32), 96, opts.resizeMode, new Uint8Array(96 * 96 * 3))
    expect(existsSync(join(root, '.tunelab', 'cache', 'img'))).toBe(true)
    writeFileSync(join(root, '.tunelab', 'tunelab.db'), 'another process')
    warming.discard()
    expect(existsSync(join(root, '.tunelab', 'cache', 'img'))).toBe(false)
    expect(existsSync(join(root, '.tunelab', 'tunelab.db'))).toBe(true)
  })
})
