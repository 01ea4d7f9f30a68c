// The decode worker thread gives the same pixels as the in-thread cache, and its errors name the file.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { DecodeThread } from '@core/parallel/decodeThread'
import { ImageCache } from '@core/pipeline/imageCache'
import { scanProject } from '@core/project/scan'
import { makeProject, tempDir } from '../helpers/synthetic'

const tmp = tempDir('tunelab-decodethread-')
const thread = new DecodeThread()
afterAll(async () => {
  await thread.close()
  tmp.cleanup()
})

describe('DecodeThread', () => {
  it('loads a batch like ImageCache.loadBatch, writes the same cache, and counts in the caller cache stats', async () => {
    const root = join(tmp.dir, 'p')
    await makeProject(root, { classes: ['a', 'b'], perClass: 3, size: 20, formats: ['jpg', 'png'] })
    const scan = await scanProject(root)
    const items = scan.images.map((im) => ({ absPath: join(root, im.path), hash: im.hash }))
    const local = new ImageCache(join(tmp.dir, 'local'))
    const viaThread = new ImageCache(join(tmp.dir, 'thread'))
    const expected = await local.loadBatch(items, 12, 'center-crop')
    expect(await thread.loadBatch(viaThread, items, 12, 'center-crop')).toEqual(expected)
    expect(viaThread.stats.decodes).toBe(6)
    // The worker wrote the cache: the main thread now reads it without decoding.
    const again = new ImageCache(join(tmp.dir, 'thread'))
    expect(await again.loadBatch(items, 12, 'center-crop')).toEqual(expected)
    expect([again.stats.hits, again.stats.decodes]).toEqual([6, 0])
  })

  it('a file that cannot be decoded rejects the batch with its path; the thread keeps working', async () => {
    const bad = join(tmp.dir, 'bad.jpg')
    writeFileSync(bad, 'not an image')
    const cache = new ImageCache(join(tmp.dir, 'bad-cache'))
    await expect(thread.loadBatch(cache, [{ absPath: bad, hash: 'ab'.repeat(32) }], 8, 'squash')).rejects.toThrow(
      /bad\.jpg/
    )
    expect(thread.alive).toBe(true)
  })
})
