// Frozen-base features on all cores: a pool of worker threads, each with its own wasm backend (wasm threads do not
// work under Node). Started on first use, so warm runs whose features are all cached pay nothing.
import { availableParallelism } from 'node:os'
import type * as tf from '@tensorflow/tfjs'
import { ForwardPool } from './forwardPool'
import { poolFeatures, type CutForward } from '../training/features'
import { cutForwardOnThisThread, withCutOutputs } from '../training/cutActivations'
import type { BaseLike } from '../training/types'
import type { BackendInfo } from '../tf/backend'
import type { BaseNetwork } from '../models'

export interface FeaturePool {
  /** Undefined when the pool is not worth it (native backend, one core): features then run on this thread. */
  forward?: (pixels: Uint8Array, count: number) => Promise<Float32Array>
  /**
   * Pooled features followed by the activations crossing the fine-tuning cut at layer `at` (phase 2's cached
   * input), from workers running the base with those tensors as extra outputs. Undefined like `forward`.
   */
  cutForward?: (at: number) => CutForward
  /** Stops the workers (their memory goes back to the system); a later forward starts them again. */
  close(): Promise<void>
}

/** Workers to use: TUNELAB_WORKERS, else the number of cores (at most 4); 1 means no pool. */
export function featureWorkers(env: NodeJS.ProcessEnv = process.env): number {
  const fromEnv = Number(env.TUNELAB_WORKERS)
  if (env.TUNELAB_WORKERS !== undefined && Number.isInteger(fromEnv) && fromEnv >= 0) return Math.max(1, fromEnv)
  return Math.min(4, availableParallelism())
}

export function createFeaturePool(
  base: BaseNetwork,
  frozenBase: BaseLike,
  backend: BackendInfo,
  onInfo: (message: string) => void
): FeaturePool {
  const workers = featureWorkers()
  // The native backends use every core already; the pool is for wasm.
  if (backend.name !== 'wasm' || workers < 2) return { close: async () => undefined }
  // One set of workers at a time (each holds a wasm heap): the plain base, or the base with cut outputs at `at`.
  let running: { at: number | null; pool: Promise<ForwardPool | null> } | null = null
  const poolFor = (at: number | null): Promise<ForwardPool | null> => {
    if (running?.at === at) return running.pool
    const before = running?.pool
    const model = at === null ? base.model : withCutOutputs(base.model, at)
    const pool = (async () => {
      await before?.then((p) => p?.close())
      return ForwardPool.forBase({ model, spec: base.spec }, { workers, foldBn: true })
    })().then(
      (p) => {
        onInfo(`features: ${workers} worker threads, each with its own wasm backend`)
        return p
      },
      (err: unknown) => {
        onInfo(`features: worker pool unavailable (${(err as Error).message}); computing on the main thread`)
        return null
      }
    )
    running = { at, pool }
    return pool
  }
  const fallbacks: { dispose(): void }[] = []
  const onThisThread = async (pixels: Uint8Array, count: number): Promise<Float32Array> => {
    const t = poolFeatures(frozenBase, pixels, count)
    const rows = (await t.data()) as Float32Array
    t.dispose()
    return rows
  }
  return {
    forward: async (pixels, count) => {
      const pool = await poolFor(null)
      return pool ? pool.run(pixels, count) : onThisThread(pixels, count)
    },
    cutForward: (at) => {
      let local: ReturnType<typeof cutForwardOnThisThread> | null = null
      return async (pixels, count) => {
        const pool = await poolFor(at)
        if (pool) return pool.runAll(pixels, count)
        if (!local) {
          local = cutForwardOnThisThread(base, at)
          fallbacks.push(local)
        }
        return local.forward(pixels, count)
      }
    },
    close: async () => {
      // The folded copies used when the workers could not start hold weights of their own.
      for (const f of fallbacks.splice(0)) f.dispose()
      const pool = running ? await running.pool : null
      running = null
      await pool?.close()
    }
  }
}

export interface ModelPredictor {
  /** Class probabilities [count, k] (binary sigmoid models: [1-p, p]) for RGB uint8 pixels. */
  predict: (pixels: Uint8Array, count: number) => Promise<Float32Array>
  close(): Promise<void>
}

/**
 * Below this many images, evaluation after fine-tuning runs on this thread: starting the workers (a wasm backend
 * and the model each, ~200 MiB of memory on top of this thread's already grown heap) costs about what the second
 * core saves on a thousand images (cats_and_dogs_filtered, 1,000 images: see the note of session 6).
 */
export const EVAL_POOL_MIN_IMAGES = 3000

/**
 * The whole fine-tuned classifier (base -> head -> probabilities) on all cores, BatchNorm folded, for evaluation
 * after phase 2 of `images` images. Uses `onThisThread()` where a pool is not worth it or cannot start.
 */
export async function createModelPredictor(
  result: { model: tf.LayersModel },
  base: BaseNetwork,
  backend: BackendInfo,
  onThisThread: () => ModelPredictor,
  onInfo: (message: string) => void,
  images: number
): Promise<ModelPredictor> {
  const workers = featureWorkers()
  if (backend.name !== 'wasm' || workers < 2 || images < EVAL_POOL_MIN_IMAGES) return onThisThread()
  let pool: ForwardPool
  try {
    pool = await ForwardPool.create({
      model: result.model,
      preprocessing: base.spec.preprocessing,
      output: 'raw',
      foldBn: true,
      workers
    })
  } catch (err) {
    onInfo(`evaluation: worker pool unavailable (${(err as Error).message}); predicting on the main thread`)
    return onThisThread()
  }
  const binary = pool.info.outputDim === 1
  return {
    predict: async (pixels, count) => {
      const out = await pool.run(pixels, count)
      if (!binary) return out
      const probs = new Float32Array(count * 2)
      for (let i = 0; i < count; i++) {
        const p = out[i] as number
        probs[2 * i] = 1 - p
        probs[2 * i + 1] = p
      }
      return probs
    },
    close: async () => pool.close()
  }
}
