// The training engine's ImageSets (labels + a pixel loader): from a scanned project and its split, or from a
// plain list of cached items.
import { join } from 'node:path'
import type { ResizeMode, ScannedImage, SplitName } from '@shared/domain'
import type { BatchItem, ImageCache } from './imageCache'
import type { ImageSet } from '../training/types'
import { withReadAhead, type ReadAheadStats } from '../parallel/readAhead'
import { sharedDecodeThread } from '../parallel/decodeThread'

export interface SplitImages {
  images: ScannedImage[]
  set: ImageSet
  /** Read-ahead hits/misses, null when read-ahead is off. */
  readAhead: ReadAheadStats | null
}

export interface ImageSetOptions {
  /** Load batch i+1 while the caller computes on batch i (see readAhead.ts). Default true. */
  readAhead?: boolean
  /**
   * Load batches in a worker thread (sharedDecodeThread) instead of on this thread. Default: on with readAhead.
   * Needed for real overlap: while this thread runs synchronous wasm compute, its own fs/sharp continuations stall.
   */
  decodeThread?: boolean
  /** Images read/decoded at once per batch. Default 16. */
  concurrency?: number
}

/** Images of one split in path order, with class indices into `classes`. */
export function imageSetFor(
  root: string,
  images: readonly ScannedImage[],
  assignment: ReadonlyMap<string, SplitName>,
  split: SplitName,
  classes: readonly string[],
  cache: ImageCache,
  size: number,
  mode: ResizeMode,
  opts: ImageSetOptions = {}
): SplitImages {
  const chosen = images
    .filter((im) => assignment.get(im.path) === split)
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
  const classIndex = new Map(classes.map((c, i) => [c, i]))
  const labels = chosen.map((im) => {
    const y = classIndex.get(im.className)
    if (y === undefined) throw new Error(`image ${im.path}: class '${im.className}' is not one of the run's classes`)
    return y
  })
  const items = chosen.map((im) => ({ absPath: join(root, im.path), hash: im.hash }))
  const concurrency = opts.concurrency ?? 16
  const pick = (indices: readonly number[]): { absPath: string; hash: string }[] =>
    indices.map((i) => {
      const it = items[i]
      if (!it) throw new RangeError(`${split}: image index ${i} out of range 0..${items.length - 1}`)
      return it
    })
  const inWorker = opts.decodeThread ?? opts.readAhead !== false
  const load = async (indices: readonly number[]): Promise<Uint8Array> =>
    inWorker
      ? sharedDecodeThread().loadBatch(cache, pick(indices), size, mode, concurrency)
      : cache.loadBatch(pick(indices), size, mode, { concurrency })
  const keys = chosen.map((im) => im.hash)
  if (opts.readAhead === false) return { images: chosen, set: { keys, labels, load }, readAhead: null }
  const ahead = withReadAhead(load, items.length)
  return { images: chosen, set: { keys, labels, load: ahead.load, hint: ahead.hint }, readAhead: ahead.stats }
}

/** An ImageSet whose pixels come from the ImageCache (decoded once, resized to size with mode). */
export function imageCacheSet(
  cache: ImageCache,
  items: readonly (BatchItem & { label: number })[],
  size: number,
  mode: ResizeMode
): ImageSet {
  return {
    keys: items.map((it) => it.hash),
    labels: items.map((it) => it.label),
    load: (indices) =>
      cache.loadBatch(
        indices.map((i) => items[i] as BatchItem),
        size,
        mode
      )
  }
}
