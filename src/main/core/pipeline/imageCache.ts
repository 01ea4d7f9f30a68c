// On-disk cache of decoded, resized images: <cacheDir>/img/<size>-<mode>/<hash[0:2]>/<hash>.rgb holding
// size*size*3 raw RGB bytes. Keyed by the file's content hash, so renamed/moved files still hit and a
// changed file (new hash after a rescan) misses. Writes are atomic (temp file + rename).
import { randomBytes } from 'node:crypto'
import { mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { AugmentSpec, ResizeMode } from '@shared/domain'
import type { Rng } from '../util/rng'
import { augmentRgb } from './augment'
import { isIdentity } from './augmentSpec'
import { checkSize, decodeResized, RESIZE_MODES } from './decode'
import { mapLimit } from '../util/pool'

export interface CacheStats {
  hits: number
  misses: number
  /** Images decoded from their source file (misses that succeeded). */
  decodes: number
}

export interface BatchItem {
  absPath: string
  hash: string
}

export interface LoadBatchOptions {
  /** Images read/decoded at once. Default 8. */
  concurrency?: number
  /** Augment each image after loading, in item order (so results do not depend on load timing). */
  augment?: { spec: AugmentSpec; rng: Rng } | { spec: AugmentSpec; rngFor: (index: number) => Rng }
  /** Write into this buffer (length n*size*size*3) instead of allocating one. */
  into?: Uint8Array
}

const HASH_RE = /^[0-9a-f]{16,128}$/

export class ImageCache {
  readonly cacheDir: string
  readonly stats: CacheStats = { hits: 0, misses: 0, decodes: 0 }
  private readonly inFlight = new Map<string, Promise<Uint8Array>>()
  private readonly madeDirs = new Set<string>()

  constructor(cacheDir: string) {
    this.cacheDir = cacheDir
  }

  /** Where the pixels for (hash, size, mode) are stored. */
  pathFor(hash: string, size: number, mode: ResizeMode): string {
    if (!HASH_RE.test(hash)) throw new RangeError(`invalid content hash "${hash}" (expected lower-case hex)`)
    if (!RESIZE_MODES.includes(mode))
      throw new RangeError(`unknown resize mode "${String(mode)}" (expected one of ${RESIZE_MODES.join(', ')})`)
    checkSize(size)
    return join(this.cacheDir, 'img', `${size}-${mode}`, hash.slice(0, 2), `${hash}.rgb`)
  }

  /** size*size*3 RGB bytes of the image, decoded from absPath only if not cached yet. */
  get(absPath: string, hash: string, size: number, mode: ResizeMode): Promise<Uint8Array> {
    const file = this.pathFor(hash, size, mode)
    const pending = this.inFlight.get(file)
    if (pending) return pending
    const p = this.load(absPath, file, size, mode).finally(() => this.inFlight.delete(file))
    this.inFlight.set(file, p)
    return p
  }

  /** Stores pixels decoded elsewhere (a scan that decoded the file anyway) under (hash, size, mode). */
  async put(hash: string, size: number, mode: ResizeMode, pixels: Uint8Array): Promise<void> {
    if (pixels.length !== size * size * 3)
      throw new RangeError(`pixels have ${pixels.length} bytes, expected ${size}x${size}x3`)
    await this.writeAtomic(this.pathFor(hash, size, mode), pixels)
  }

  private async load(absPath: string, file: string, size: number, mode: ResizeMode): Promise<Uint8Array> {
    const expected = size * size * 3
    try {
      const buf = await readFile(file)
      if (buf.length === expected) {
        this.stats.hits++
        return new Uint8Array(buf.buffer, buf.byteOffset, buf.length)
      }
      // Wrong length: written by something else or damaged; decode again and replace it.
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    }
    this.stats.misses++
    const pixels = await decodeResized(absPath, size, mode)
    this.stats.decodes++
    await this.writeAtomic(file, pixels)
    return pixels
  }

  private async writeAtomic(file: string, data: Uint8Array): Promise<void> {
    const dir = file.slice(0, file.lastIndexOf('/'))
    if (!this.madeDirs.has(dir)) {
      await mkdir(dir, { recursive: true })
      this.madeDirs.add(dir)
    }
    const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
    try {
      await writeFile(tmp, data)
      await rename(tmp, file)
    } catch (err) {
      await unlink(tmp).catch(() => undefined)
      throw err
    }
  }

  /**
   * Loads n images into one buffer of shape [n, size, size, 3] (uint8, ready for tf.tensor4d), optionally
   * augmented. Fails with the first image that cannot be decoded, naming its file.
   */
  async loadBatch(
    items: readonly BatchItem[],
    size: number,
    mode: ResizeMode,
    opts: LoadBatchOptions = {}
  ): Promise<Uint8Array> {
    const per = size * size * 3
    const out = opts.into ?? new Uint8Array(items.length * per)
    if (out.length !== items.length * per)
      throw new RangeError(`batch buffer has ${out.length} bytes, expected ${items.length}x${size}x${size}x3`)
    const aug = opts.augment && !isIdentity(opts.augment.spec) ? opts.augment : undefined
    if (!aug) {
      await mapLimit(items, opts.concurrency ?? 8, async (it, i) => {
        out.set(await this.get(it.absPath, it.hash, size, mode), i * per)
      })
      return out
    }
    const pixels = await mapLimit(items, opts.concurrency ?? 8, (it) => this.get(it.absPath, it.hash, size, mode))
    for (const [i, px] of pixels.entries()) {
      const rng = 'rng' in aug ? aug.rng : aug.rngFor(i)
      out.set(augmentRgb(px, size, aug.spec, rng), i * per)
    }
    return out
  }
}

/** Converts a uint8 batch to float32 with value * scale + offset (e.g. scale 1/127.5, offset -1 for MobileNet's [-1, 1]). */
export function toFloat32(batch: Uint8Array, scale = 1, offset = 0, into?: Float32Array): Float32Array {
  const out = into ?? new Float32Array(batch.length)
  if (out.length !== batch.length)
    throw new RangeError(`float buffer has ${out.length} values, expected ${batch.length}`)
  for (let i = 0; i < batch.length; i++) out[i] = (batch[i] as number) * scale + offset
  return out
}
