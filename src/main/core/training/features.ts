// Frozen-base forward passes: GAP-pooled features per image, optionally cached on disk.
// Pooling before the head is exact because GlobalAveragePooling2D is the head's first layer.
import * as tf from '@tensorflow/tfjs'
import { createHash } from 'node:crypto'
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { BaseLike, FeatureCacheOptions, ImageSet } from './types'
import { spatialMean } from '../tf/spatialMean'

/** Features for n images as one row-major [n, dim] array. */
export interface FeatureMatrix {
  data: Float32Array
  dim: number
  count: number
}

export function featureDim(base: BaseLike): number {
  const shape = base.model.outputs[0]?.shape
  const c = shape?.[shape.length - 1]
  if (shape?.length !== 4 || typeof c !== 'number') {
    throw new Error(
      `base '${base.spec.id}': expected a 4D no-top feature map output, got shape ${JSON.stringify(shape)}`
    )
  }
  return c
}

/** sha256 over every weight of the model in order (shapes and values; names carry per-process suffixes), hex. */
export function weightsChecksum(model: tf.LayersModel): string {
  const h = createHash('sha256')
  for (const w of model.weights) {
    h.update(`${w.shape.join('x')};`)
    const v = w.read().dataSync()
    h.update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength))
  }
  return h.digest('hex')
}

/** Directory key: everything that changes a pooled feature except the image bytes. */
export function featureCacheKey(parts: {
  baseId: string
  weightsChecksum: string
  size: number
  resizeMode: string
}): string {
  return createHash('sha256')
    .update(`gap-f32-v1|${parts.baseId}|${parts.weightsChecksum}|${parts.size}|${parts.resizeMode}`)
    .digest('hex')
    .slice(0, 24)
}

/** RGB uint8 [count,S,S,3] -> the base's preprocessed input (its fast path when it has one). */
export function baseInput(
  base: Pick<BaseLike, 'preprocess' | 'input'>,
  pixels: Uint8Array,
  count: number,
  s: number
): tf.Tensor4D {
  if (base.input) return base.input(pixels, count)
  return tf.tidy(() => base.preprocess(tf.tensor4d(pixels, [count, s, s, 3], 'int32').toFloat() as tf.Tensor4D))
}

/** Base forward in inference mode (no gradient tape) -> pooled [n, C]. `pixels` is RGB uint8 [n,S,S,3]. */
export function poolFeatures(base: BaseLike, pixels: Uint8Array, count: number): tf.Tensor2D {
  return tf.tidy(() => {
    const y = base.model.apply(baseInput(base, pixels, count, base.spec.size), { training: false }) as tf.Tensor4D
    return spatialMean(y)
  })
}

export interface FeatureProgress {
  done: number
  total: number
  fromDisk: number
}

export interface ExtractOptions {
  batchSize: number
  cache?: FeatureCacheOptions & { key: string }
  signal?: AbortSignal
  onProgress?(p: FeatureProgress): void
  /** Pooled features [count, C] for RGB uint8 pixels, e.g. from a worker pool; default: the base on this thread. */
  forward?: PooledForward
  /** Also keep the activations at the fine-tuning cut of every image computed (not of those read from disk). */
  cut?: { forward: CutForward; write(rows: readonly number[], cut: Float32Array[]): void }
}

export type PooledForward = (pixels: Uint8Array, count: number) => Promise<Float32Array>

/** Pooled features [count, C] first, then each tensor crossing the fine-tuning cut ([count, ...] flattened). */
export type CutForward = (pixels: Uint8Array, count: number) => Promise<Float32Array[]>

/** Pooled features for every image of the set; reads/writes `<dir>/features/<key>/<hash>.f32` when a cache is given. */
export async function extractFeatures(
  base: BaseLike,
  set: ImageSet,
  opts: ExtractOptions
): Promise<FeatureMatrix & { fromDisk: number }> {
  const dim = featureDim(base)
  const n = set.keys.length
  const data = new Float32Array(n * dim)
  const missing: number[] = []
  let fromDisk = 0
  const dir = opts.cache ? join(opts.cache.dir, 'features', opts.cache.key) : null
  if (dir) {
    await mkdir(dir, { recursive: true })
    for (let i = 0; i < n; i++) {
      const row = await readCached(join(dir, `${set.keys[i]}.f32`), dim)
      if (row) {
        data.set(row, i * dim)
        fromDisk++
      } else missing.push(i)
    }
  } else for (let i = 0; i < n; i++) missing.push(i)
  opts.onProgress?.({ done: fromDisk, total: n, fromDisk })

  const forward: PooledForward =
    opts.forward ??
    (async (pixels, count) => {
      const pooled = poolFeatures(base, pixels, count)
      const rows = (await pooled.data()) as Float32Array
      pooled.dispose()
      return rows
    })
  const batches: number[][] = []
  for (let start = 0; start < missing.length; start += opts.batchSize)
    batches.push(missing.slice(start, start + opts.batchSize))
  // The next batches are decoded while batch b runs forward, and run forward while batch b's results are stored.
  const loads = new Map<number, Promise<Uint8Array>>()
  const loadOf = (b: number): Promise<Uint8Array> | null => {
    const idx = batches[b]
    if (!idx) return null
    let p = loads.get(b)
    if (!p) {
      p = set.load(idx)
      p.catch(() => undefined)
      loads.set(b, p)
    }
    return p
  }
  const outputsOf = (b: number): Promise<Float32Array[]> | null => {
    const pixels = loadOf(b)
    if (!pixels) return null
    loadOf(b + 1)
    const count = (batches[b] as number[]).length
    const outs = pixels.then((px) => {
      loads.delete(b)
      // The loop ended (cancelled or failed) while this batch decoded: no forward pass after the run.
      if (stopped) throw abortError()
      return opts.cut ? opts.cut.forward(px, count) : forward(px, count).then((rows) => [rows])
    })
    outs.catch(() => undefined)
    return outs
  }
  let stopped = false
  // Two batches in the forward pass at once: a worker pool that splits each batch would otherwise wait for its
  // slowest part and then for this loop before it gets the next one.
  const ahead = [outputsOf(0), outputsOf(1)]
  let start = 0
  try {
    for (let b = 0; b < batches.length; b++) {
      if (opts.signal?.aborted) throw abortError()
      const idx = batches[b] as number[]
      const [rows, ...cut] = await (ahead.shift() as Promise<Float32Array[]>)
      ahead.push(outputsOf(b + 2))
      if (opts.cut) opts.cut.write(idx, cut)
      for (let k = 0; k < idx.length; k++) {
        const i = idx[k] as number
        const row = (rows as Float32Array).subarray(k * dim, (k + 1) * dim)
        data.set(row, i * dim)
        if (dir) await writeAtomic(join(dir, `${set.keys[i]}.f32`), row)
      }
      start += idx.length
      opts.onProgress?.({ done: fromDisk + start, total: n, fromDisk })
    }
  } finally {
    stopped = true
  }
  return { data, dim, count: n, fromDisk }
}

async function readCached(path: string, dim: number): Promise<Float32Array | null> {
  let buf: Buffer
  try {
    buf = await readFile(path)
  } catch {
    return null
  }
  if (buf.byteLength !== dim * 4) return null
  const out = new Float32Array(dim)
  new Uint8Array(out.buffer).set(buf)
  return out
}

async function writeAtomic(path: string, row: Float32Array): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`
  await writeFile(tmp, new Uint8Array(row.buffer, row.byteOffset, row.byteLength))
  await rename(tmp, path)
}

export function abortError(message = 'training cancelled'): Error {
  const e = new Error(message)
  e.name = 'AbortError'
  return e
}
