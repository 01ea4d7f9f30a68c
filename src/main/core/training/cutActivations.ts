// Phase 2's frozen lower part, run once per image: without augmentation its activations at the cut are the same
// every epoch, so they are cached per set (an ActivationStore). Phase 1's feature pass runs the whole base on every
// image anyway, so it fills the cache on the way (harvest); phase 2 computes only the rows phase 1 did not (images
// whose features came from the disk cache), then trains the upper part on the cached rows.
import * as tf from '@tensorflow/tfjs'
import { createActivationStore, DEFAULT_ACTIVATION_MEMORY_BYTES, type ActivationStore } from './activationCache'
import type { RunContext } from './context'
import { abortError, baseInput, type CutForward } from './features'
import { cutTensors, type SplitModel } from './splitModel'
import { foldBatchNorm } from '../tf/foldBatchNorm'
import { spatialMean } from '../tf/spatialMean'
import { tensorCopiesValues } from '../tf/tensorCopiesValues'
import type { BaseLike, FineTunePath, ImageSet } from './types'

const DEFAULT_ACTIVATION_CACHE_BYTES = 1.5 * 1024 ** 3

/** One set's activations at the cut: a row-major store per boundary tensor, and which rows hold values. */
export interface CutCache {
  perImage: number[]
  shapes: number[][]
  store: ActivationStore
  filled: Uint8Array
}

/** How phase 2 gets its inputs, decided before phase 1 so that phase 1 can fill the caches. */
export interface CutPlan {
  at: number
  path: FineTunePath
  /** Bytes of train + validation activations, and whether they are kept in memory (else temporary files). */
  bytes: number
  limit: number
  inMemory: boolean
  train: CutCache | null
  validation: CutCache | null
  dispose(): void
}

function boundaryDims(model: tf.LayersModel, at: number): { perImage: number[]; shapes: number[][] } {
  const shapes = cutTensors(model, at).map((t) => t.shape.slice(1) as number[])
  return { shapes, perImage: shapes.map((s) => s.reduce((a, b) => a * b, 1)) }
}

function emptyCache(
  n: number,
  dims: { perImage: number[]; shapes: number[][] },
  inMemory: boolean,
  dir?: string
): CutCache {
  return {
    ...dims,
    store: createActivationStore(n, dims.perImage, inMemory ? Infinity : 0, dir),
    filled: new Uint8Array(n)
  }
}

/** The layer phase 2 starts at, or undefined when neither the params nor the base name one. */
export function fineTuneLayer(ctx: RunContext): number | undefined {
  return ctx.params.fineTuneAt ?? ctx.io.base.spec.defaultFineTuneAt
}

export function planCut(ctx: RunContext, at: number): CutPlan {
  const { io } = ctx
  const dims = boundaryDims(io.base.model, at)
  const bytesPerImage = dims.perImage.reduce((a, b) => a + b, 0) * 4
  const limit = io.activationCacheBytes ?? DEFAULT_ACTIVATION_CACHE_BYTES
  const nTrain = io.train.keys.length
  const nVal = io.validation?.keys.length ?? 0
  const cacheTrain = !ctx.augmenting && (nTrain + nVal) * bytesPerImage <= limit
  const cacheVal = nVal > 0 && nVal * bytesPerImage + (cacheTrain ? nTrain * bytesPerImage : 0) <= limit
  const bytes = (nTrain + nVal) * bytesPerImage
  // Beyond this the cached activations live in temporary files (read a batch at a time), not in memory.
  const inMemory = bytes <= (io.activationMemoryBytes ?? DEFAULT_ACTIVATION_MEMORY_BYTES)
  const dir = io.featureCache?.dir
  const train = cacheTrain ? emptyCache(nTrain, dims, inMemory, dir) : null
  let validation: CutCache | null = null
  try {
    validation = cacheVal ? emptyCache(nVal, dims, inMemory, dir) : null
  } catch (err) {
    train?.store.dispose()
    throw err
  }
  return {
    at,
    path: ctx.augmenting ? 'augmented-forward' : cacheTrain ? 'cached-activations' : 'recomputed-activations',
    bytes,
    limit,
    inMemory,
    train,
    validation,
    dispose() {
      train?.store.dispose()
      validation?.store.dispose()
    }
  }
}

/** Where phase 1's feature pass writes the cut activations of a set's rows (null: that set is not cached). */
export function harvestInto(cache: CutCache | null): ((rows: readonly number[], cut: Float32Array[]) => void) | null {
  if (!cache) return null
  return (rows, cut) => {
    cut.forEach((data, k) => cache.store.write(k, rows, data))
    for (const i of rows) cache.filled[i] = 1
  }
}

/** The same network with the tensors crossing the cut at `at` as further outputs (shares the layers: never dispose). */
export function withCutOutputs(model: tf.LayersModel, at: number): tf.LayersModel {
  const output = model.outputs[0]
  if (model.outputs.length !== 1 || !output) throw new Error(`cut outputs: '${model.name}' must have one output`)
  return tf.model({ inputs: model.inputs, outputs: [output, ...cutTensors(model, at)] })
}

/**
 * Pooled features and the cut activations of the frozen base in one pass, on this thread: the base with the
 * boundary tensors as extra outputs, BatchNorm folded (the fold leaves a boundary tensor unfused with its reader).
 */
export function cutForwardOnThisThread(base: BaseLike, at: number): { forward: CutForward; dispose(): void } {
  const folded = foldBatchNorm(withCutOutputs(base.model, at))
  return {
    forward: async (pixels, count) => {
      const outs = tf.tidy(() => {
        const ys = folded.apply(baseInput(base, pixels, count, base.spec.size), { training: false }) as tf.Tensor[]
        const [features, ...cut] = ys
        return [spatialMean(features as tf.Tensor4D), ...cut]
      })
      try {
        return (await Promise.all(outs.map((t) => t.data()))) as Float32Array[]
      } finally {
        tf.dispose(outs)
      }
    },
    dispose: () => folded.dispose()
  }
}

/** Lower-part activations for a batch of pixels (no tape). */
export function lowerForward(ctx: RunContext, split: SplitModel, pixels: Uint8Array, count: number): tf.Tensor[] {
  return tf.tidy(() => {
    const x = baseInput(ctx.io.base, pixels, count, ctx.io.base.spec.size)
    if (!split.lower) return [x]
    const out = split.lower.apply(x, { training: false })
    return Array.isArray(out) ? (out as tf.Tensor[]) : [out as tf.Tensor]
  })
}

/** Computes the rows phase 1 did not fill (split.lower is BN-folded); returns how many that was. */
export async function fillMissing(
  ctx: RunContext,
  split: SplitModel,
  set: ImageSet,
  cache: CutCache,
  which: 'train' | 'validation'
): Promise<number> {
  const missing: number[] = []
  cache.filled.forEach((f, i) => {
    if (!f) missing.push(i)
  })
  const bs = ctx.params.batchSize
  for (let s = 0; s < missing.length; s += bs) {
    if (ctx.signal?.aborted) throw abortError()
    const idx = missing.slice(s, s + bs)
    const outs = lowerForward(ctx, split, await set.load(idx), idx.length)
    const data = (await Promise.all(outs.map((t) => t.data()))) as Float32Array[]
    tf.dispose(outs)
    harvestInto(cache)?.(idx, data)
    ctx.emit({ type: 'activations', split: which, done: s + idx.length, total: missing.length })
  }
  return missing.length
}

/**
 * The cached rows as the upper part's input tensors, the next batch read ahead: `ahead(next)` starts reading
 * those rows while the current batch computes (on disk the reads run on libuv's threads), and `inputs(idx)` uses
 * them when idx is that batch.
 */
export function readAheadInputs(cache: CutCache): {
  ahead(idx: readonly number[]): void
  inputs(idx: readonly number[]): Promise<tf.Tensor[]>
  /** Waits for every read still in flight, so the store can be closed under none. */
  settle(): Promise<void>
} {
  // Batches read ahead and not yet used, by their indices (the epoch loop announces a batch one step early).
  const pending = new Map<string, Promise<Float32Array[]>>()
  const inFlight = new Set<Promise<unknown>>()
  const buffers = rowBuffers()
  const start = (idx: readonly number[]): Promise<Float32Array[]> => {
    const rows = Promise.allSettled(
      cache.perImage.map(async (p, k) => {
        const out = buffers.take(idx.length * p)
        await cache.store.readAsync(k, idx, out)
        return out
      })
    ).then((all) =>
      all.map((r) => {
        if (r.status === 'rejected') throw r.reason
        return r.value
      })
    )
    const done = rows.then(
      () => undefined,
      () => undefined
    )
    inFlight.add(done)
    void done.then(() => inFlight.delete(done))
    return rows
  }
  return {
    ahead(idx) {
      const rows = start(idx)
      rows.catch(() => undefined) // a failure surfaces when the batch is used
      if (pending.size > 4) pending.clear()
      pending.set(idx.join(','), rows)
    },
    async inputs(idx) {
      const key = idx.join(',')
      const ahead = pending.get(key)
      pending.delete(key)
      const rows = await (ahead ?? start(idx))
      const tensors = rows.map((r, k) => tf.tensor(r, [idx.length, ...(cache.shapes[k] as number[])]))
      buffers.give(rows)
      return tensors
    },
    async settle() {
      pending.clear()
      await Promise.all([...inFlight])
    }
  }
}

/**
 * Row buffers reused from batch to batch: a fresh 5-6 MB array per batch made V8 run a full collection every few
 * steps. Only where tf.tensor copies its values.
 */
function rowBuffers(): { take(length: number): Float32Array; give(used: Float32Array[]): void } {
  const free: Float32Array[] = []
  return {
    take(length) {
      const i = free.findIndex((b) => b.length === length)
      return i >= 0 ? (free.splice(i, 1)[0] as Float32Array) : new Float32Array(length)
    },
    give(used) {
      if (!tensorCopiesValues()) return
      for (const b of used) if (free.length < 8) free.push(b)
    }
  }
}
