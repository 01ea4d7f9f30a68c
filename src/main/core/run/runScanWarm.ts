// The scan of a training run decodes new images straight to the run's size into the image cache (phase 1 then
// reads them from there). The cache lives in the project's state folder; a scan that then refuses the folder
// (a class with no readable image, one class) takes back the state folder its warming created.
import { existsSync, rmdirSync, rmSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fallbackStateDir, STATE_DIR_NAME } from '../store/stateDir'
import { writableCacheDir } from '../store/projectState'
import { ImageCache } from '../pipeline/imageCache'
import type { ScanWarm } from '../project/scanProbe'
import type { TrainOptions } from './options'
import { baseInputSize } from './prepareBase'

export interface RunScanWarm {
  warm: ScanWarm | undefined
  /** Removes the state folder if warming created it and it holds nothing but the image cache. */
  discard(): void
}

export function runScanWarm(root: string, opts: TrainOptions): RunScanWarm {
  const size = baseInputSize(opts)
  if (size === null) return { warm: undefined, discard: () => undefined }
  const stateDirs = [join(root, STATE_DIR_NAME), fallbackStateDir(root)]
  const existed = new Set(stateDirs.filter((d) => existsSync(d)))
  const places = stateDirs.map((d) => new ImageCache(join(d, 'cache')))
  let cacheDir: string | null | undefined
  const open = (): ImageCache | null => {
    cacheDir ??= writableCacheDir(root)
    return cacheDir === null ? null : new ImageCache(cacheDir)
  }
  return {
    warm: {
      size,
      mode: opts.resizeMode,
      cache: open,
      // Looks in both places a project's cache can be, without creating either.
      has: (hash) => places.some((c) => existsSync(c.pathFor(hash, size, opts.resizeMode)))
    },
    discard() {
      if (!cacheDir) return
      const stateDir = dirname(cacheDir)
      if (existed.has(stateDir)) return
      // The image cache is ours to drop; the folders above it go only while empty, so a database or model that
      // another process has just written there stays.
      try {
        rmSync(join(cacheDir, 'img'), { recursive: true, force: true })
        if (removeIfEmpty(cacheDir)) removeIfEmpty(stateDir)
      } catch {
        // only a cache: left as it is
      }
    }
  }
}

/** rmdir that counts a folder already gone as removed and one with content as kept. */
function removeIfEmpty(dir: string): boolean {
  try {
    rmdirSync(dir)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT'
  }
}
