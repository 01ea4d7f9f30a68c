// Read-ahead of image batches: the next batch is loaded while the current one is used, results are unchanged.
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { SplitName } from '@shared/domain'
import { consecutiveSuccessor, withReadAhead } from '@core/parallel/readAhead'
import { imageSetFor } from '@core/pipeline/imageSets'
import { ImageCache } from '@core/pipeline/imageCache'
import { scanProject } from '@core/project/scan'
import { runPhase } from '@core/training/epochLoop'
import { createRng } from '@core/util/rng'
import { makeProject, tempDir } from '../helpers/synthetic'

const tmp = tempDir('tunelab-readahead-')
afterAll(() => tmp.cleanup())

/** A loader over `count` items that records each call and answers after `delayMs`; item i is byte i. */
function recordingLoader(
  delayMs = 5,
  failOn?: number
): { calls: string[]; load: (idx: readonly number[]) => Promise<Uint8Array> } {
  const calls: string[] = []
  return {
    calls,
    load: async (idx) => {
      calls.push(idx.join(','))
      await new Promise((r) => setTimeout(r, delayMs))
      if (failOn !== undefined && idx.includes(failOn)) throw new Error(`cannot decode item ${failOn}`)
      return Uint8Array.from(idx)
    }
  }
}

const range = (a: number, b: number): number[] => Array.from({ length: b - a }, (_, k) => a + k)

describe('consecutiveSuccessor', () => {
  it('gives the next range of the same length, clipped at the end; null otherwise', () => {
    expect(consecutiveSuccessor([0, 1, 2], 10)).toEqual([3, 4, 5])
    expect(consecutiveSuccessor([6, 7, 8], 10)).toEqual([9])
    expect(consecutiveSuccessor([7, 8, 9], 10)).toBeNull()
    expect(consecutiveSuccessor([0, 2, 3], 10)).toBeNull()
    expect(consecutiveSuccessor([], 10)).toBeNull()
  })
})

describe('withReadAhead', () => {
  it('sequential batches: each next batch is started once the current one is loaded, and answers the next request', async () => {
    const src = recordingLoader()
    const ra = withReadAhead(src.load, 10)
    const got: number[][] = []
    for (let s = 0; s < 10; s += 4) {
      const idx = range(s, Math.min(10, s + 4))
      got.push([...(await ra.load(idx))])
      // The successor is already requested from the source before the caller asks for it.
      if (s + 4 < 10) expect(src.calls.at(-1)).toBe(range(s + 4, Math.min(10, s + 8)).join(','))
    }
    expect(got).toEqual([range(0, 4), range(4, 8), range(8, 10)])
    expect(src.calls).toEqual(['0,1,2,3', '4,5,6,7', '8,9']) // each batch loaded once, nothing past the end
    expect(ra.stats).toEqual({ hits: 2, misses: 1, started: 2 })
  })

  it('the successor does not start before the requested batch is loaded', async () => {
    const events: string[] = []
    const ra = withReadAhead(async (idx) => {
      events.push(`start ${idx.join(',')}`)
      await new Promise((r) => setTimeout(r, 5))
      events.push(`end ${idx.join(',')}`)
      return Uint8Array.from(idx)
    }, 4)
    await ra.load([0, 1])
    expect(events).toEqual(['start 0,1', 'end 0,1', 'start 2,3'])
  })

  it('hint names the next batch of a shuffled order; an unexpected request is loaded on its own', async () => {
    const src = recordingLoader()
    const ra = withReadAhead(src.load, 10)
    ra.hint([7, 2])
    expect([...(await ra.load([5, 0]))]).toEqual([5, 0])
    expect(src.calls).toEqual(['5,0', '7,2'])
    expect([...(await ra.load([7, 2]))]).toEqual([7, 2])
    expect([...(await ra.load([9, 1]))]).toEqual([9, 1]) // not hinted, not consecutive: no read-ahead
    expect(src.calls).toEqual(['5,0', '7,2', '9,1'])
    expect(ra.stats).toEqual({ hits: 1, misses: 2, started: 1 })
  })

  it('a read-ahead that fails rethrows when its batch is requested; one never requested is dropped', async () => {
    const src = recordingLoader(5, 5)
    const ra = withReadAhead(src.load, 8)
    await ra.load([0, 1, 2, 3]) // starts 4..7, which fails
    await expect(ra.load([4, 5, 6, 7])).rejects.toThrow('cannot decode item 5')

    const other = withReadAhead(recordingLoader(1, 5).load, 8)
    await other.load([0, 1, 2, 3]) // starts the failing 4..7, never asked for
    await expect(other.load([0, 1])).resolves.toEqual(Uint8Array.from([0, 1]))
    await new Promise((r) => setTimeout(r, 20)) // an unhandled rejection would fail the run here
  })
})

describe('imageSetFor with read-ahead (real images, real cache)', () => {
  it('gives the same pixels as without, decodes each image once, and the epoch loop hints the next batch', async () => {
    const root = join(tmp.dir, 'p')
    await makeProject(root, { classes: ['a', 'b'], perClass: 10, size: 24 })
    const scan = await scanProject(root)
    const assignment = new Map<string, SplitName>(scan.images.map((im) => [im.path, 'train']))
    const plainCache = new ImageCache(join(tmp.dir, 'cache-plain'))
    const aheadCache = new ImageCache(join(tmp.dir, 'cache-ahead'))
    const plain = imageSetFor(root, scan.images, assignment, 'train', ['a', 'b'], plainCache, 16, 'squash', {
      readAhead: false
    })
    const ahead = imageSetFor(root, scan.images, assignment, 'train', ['a', 'b'], aheadCache, 16, 'squash')
    expect(plain.readAhead).toBeNull()
    expect(ahead.set.keys).toEqual(plain.set.keys)

    // Consecutive batches (feature extraction order).
    for (let s = 0; s < 20; s += 6) {
      const idx = range(s, Math.min(20, s + 6))
      expect(await ahead.set.load(idx)).toEqual(await plain.set.load(idx))
    }
    expect(ahead.readAhead?.hits).toBe(3)
    expect(aheadCache.stats.decodes).toBe(20)

    // Shuffled epochs through the real epoch loop: every batch after the first of an epoch was read ahead.
    const before = { ...(ahead.readAhead ?? { hits: 0, misses: 0, started: 0 }) }
    const seen: number[][] = []
    await runPhase({
      phase: 'head',
      firstEpoch: 1,
      epochs: 2,
      trainCount: 20,
      batchSize: 6,
      random: createRng(3),
      lr: 0.1,
      vars: [],
      emit: () => undefined,
      validate: async () => null,
      prefetch: (next) => ahead.set.hint?.(next),
      step: async (idx) => {
        expect(await ahead.set.load(idx)).toEqual(await plain.set.load(idx))
        seen.push(idx)
        return { loss: 0, correct: 0 }
      }
    })
    expect(seen).toHaveLength(8)
    expect((ahead.readAhead?.hits ?? 0) - before.hits).toBe(6) // 4 batches per epoch, the first of each is a miss
    expect((ahead.readAhead?.misses ?? 0) - before.misses).toBe(2)
    expect(aheadCache.stats.decodes).toBe(20) // later epochs come from the image cache
  })
})
