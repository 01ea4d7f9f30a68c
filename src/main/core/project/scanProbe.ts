// Scan step 2, probe: reads, hashes and decodes each candidate once (concurrently), or reuses the previous scan's
// record of a file whose size, mtime and ctime are unchanged. A file that cannot be read or decoded is reported
// as unreadable with the reason.
import { createHash } from 'node:crypto'
import { readFile, stat } from 'node:fs/promises'
import type { ResizeMode, ScanFileRecord, ScannedImage, UnreadableFile } from '@shared/domain'
import { probeImage, probeImageResized } from '../pipeline/decode'
import type { ImageCache } from '../pipeline/imageCache'
import { mapLimit } from '../util/pool'
import type { Candidate } from './scanWalk'

function hashHex(buf: Buffer): string {
  return createHash('sha256').update(buf).digest('hex')
}

/**
 * Same size, mtime and ctime as recorded. ctime counts because a user cannot set it: an edit that restores
 * the mtime (touch -d, some sync tools) still moves the ctime. A copied file gets a new mtime and ctime and is read.
 */
function unchanged(before: ScanFileRecord, st: { size: number; mtimeMs: number; ctimeMs: number }): boolean {
  return before.bytes === st.size && before.mtimeMs === st.mtimeMs && before.ctimeMs === st.ctimeMs
}

/**
 * Pixels a training run is about to need: each file the scan decodes is decoded at this size and mode instead,
 * and stored in the image cache, so training does not decode it a second time. `cache()` is called on the first
 * readable image (it may create the project's state folder).
 */
export interface ScanWarm {
  size: number
  mode: ResizeMode
  /** Null: the cache cannot be written (the scan then just probes). */
  cache: () => ImageCache | null
  /** Whether the cache already holds this content hash at this size and mode. */
  has(hash: string): boolean
}

export interface ProbeOptions {
  concurrency: number
  warm?: ScanWarm
  previous?: ReadonlyMap<string, ScanFileRecord>
  onProgress?: (done: number, total: number) => void
  onRead?: (relPath: string) => void
}

export interface Probed {
  /** Readable images, by path. */
  images: ScannedImage[]
  /** By path. */
  unreadable: UnreadableFile[]
  reused: number
  read: number
}

export async function probeFiles(candidates: readonly Candidate[], opts: ProbeOptions): Promise<Probed> {
  const { concurrency, previous } = opts
  const total = candidates.length
  let done = 0
  opts.onProgress?.(0, total)
  const unreadable: UnreadableFile[] = []
  let reused = 0
  let read = 0
  let cache: ImageCache | null | undefined
  const results = await mapLimit(candidates, concurrency, async (c): Promise<ScannedImage | null> => {
    try {
      let st
      try {
        st = await stat(c.abs)
      } catch (err) {
        unreadable.push({
          path: c.rel,
          reason: `cannot read file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`
        })
        return null
      }
      const times = { mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs }
      const before = previous?.get(c.rel)
      if (before && unchanged(before, st)) {
        reused++
        if (before.hash !== null && before.width !== null && before.height !== null) {
          return {
            path: c.rel,
            className: c.className,
            folderSplit: c.folderSplit,
            hash: before.hash,
            width: before.width,
            height: before.height,
            bytes: before.bytes,
            ...times
          }
        }
        unreadable.push({ path: c.rel, reason: before.error ?? 'unreadable', bytes: st.size, ...times })
        return null
      }
      read++
      opts.onRead?.(c.rel)
      let buf: Buffer
      try {
        buf = await readFile(c.abs)
      } catch (err) {
        unreadable.push({
          path: c.rel,
          reason: `cannot read file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
          bytes: st.size,
          ...times
        })
        return null
      }
      try {
        const hash = hashHex(buf)
        // Already in the cache (an earlier run at this size): probing is enough.
        const warm = opts.warm && cache !== null && !opts.warm.has(hash) ? opts.warm : undefined
        const probed = warm
          ? await probeImageResized(buf, warm.size, warm.mode)
          : { ...(await probeImage(buf)), pixels: null }
        if (warm && probed.pixels && cache !== null) {
          // Warming is only a head start: a cache that cannot be written (full disk) leaves the decode to training.
          try {
            cache ??= warm.cache()
            await cache?.put(hash, warm.size, warm.mode, probed.pixels)
          } catch {
            cache = null
          }
        }
        return {
          path: c.rel,
          className: c.className,
          folderSplit: c.folderSplit,
          hash,
          width: probed.width,
          height: probed.height,
          bytes: buf.length,
          ...times
        }
      } catch (err) {
        unreadable.push({
          path: c.rel,
          reason: err instanceof Error ? err.message : String(err),
          bytes: st.size,
          ...times
        })
        return null
      }
    } finally {
      done++
      opts.onProgress?.(done, total)
    }
  })
  const images = results.filter((r): r is ScannedImage => r !== null)
  images.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
  unreadable.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
  return { images, unreadable, reused, read }
}
