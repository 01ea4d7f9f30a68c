// Uses both cores for frozen forward passes (feature extraction, evaluation): N worker threads, each with
// its own TF.js engine and wasm backend (wasm threads do not work under Node), batches split across them.
import type * as tf from '@tensorflow/tfjs'
import { availableParallelism } from 'node:os'
import type { Worker } from 'node:worker_threads'
import { modelArtifacts } from '../export/fsModelIO'
import type { PreprocessingSpec } from '../models/preprocessing'
import { foldBatchNorm } from '../tf/foldBatchNorm'
import { spawnWorker, workerEntry } from './spawnWorker'
import type { ForwardOutput, FromWorker, InitMessage, ReadyMessage, RunMessage, ToWorker } from './protocol'

export type { ForwardOutput } from './protocol'

export interface ForwardPoolOptions {
  /** Worker threads (default 2; one per core is the useful maximum). */
  workers?: number
  /** Preprocessed [null,S,S,3] -> output, e.g. BaseNetwork.model or TrainResult.model. Copied: the pool never touches it again. */
  model: tf.LayersModel
  /** Applied in the workers to RGB 0..255 before the model (the base's preprocessing). */
  preprocessing: PreprocessingSpec
  /** 'pooled' (GAP of a 4D feature map -> [n, C], the head's input) or 'raw' (the model output per image). */
  output: ForwardOutput
  /** Fold inference-mode BatchNorm into the convolutions before shipping the model (same outputs, ~2x faster on wasm). */
  foldBn?: boolean
  /** Largest sub-batch a worker runs at once (default 32). */
  maxBatch?: number
  /** Worker backend (default wasm; falls back to cpu inside the worker if wasm cannot load). */
  backend?: 'wasm' | 'cpu'
  wasmDir?: string
  /** Worker module; default forwardWorker.js next to this file when built, else forwardWorker.ts via tsx. Env TUNELAB_FORWARD_WORKER overrides. */
  workerUrl?: URL
  /** Give up on a worker that is not ready after this long (default 120 s). */
  initTimeoutMs?: number
}

export interface ForwardPoolInfo {
  workers: number
  /** Backend each worker runs, described (describeBackend: 'wasm (SIMD) + oneDNN 2.6.3 convolutions, 1 thread', ...). */
  backends: string[]
  inputSize: number
  outputDim: number
  /** Floats per image of each further model output (runAll's outputs after the first). */
  extraDims: number[]
  /** What the workers apply to the pixels before the model. */
  preprocessing: PreprocessingSpec
  output: ForwardOutput
  foldedBn: boolean
}

interface Task {
  msg: RunMessage
  resolve(data: Float32Array[]): void
  reject(err: Error): void
}

interface Slot {
  index: number
  worker: Worker
  busy: Task | null
  alive: boolean
}

function defaultWorkerEntry(): URL {
  const env = process.env['TUNELAB_FORWARD_WORKER']
  if (env) return env.includes('://') ? new URL(env) : new URL(`file://${env}`)
  return workerEntry(new URL('./forwardWorker.js', import.meta.url), new URL('./forwardWorker.ts', import.meta.url))
}

function spawn(entry: URL, workers: number): Worker {
  // oneDNN threads per worker: the cores shared out (n workers x 1 thread beat 1 worker x n threads on the
  // small MobileNet layers, and more threads than cores in total slow everyone down). The user's
  // TUNELAB_NATIVE_THREADS wins.
  const threads =
    process.env['TUNELAB_NATIVE_THREADS'] ?? String(Math.max(1, Math.floor(availableParallelism() / workers)))
  const env = { ...process.env, TUNELAB_NATIVE_THREADS: threads }
  return spawnWorker(entry, { env })
}

/**
 * A pool of forward workers. `run` splits a batch into sub-batches, hands them to idle workers
 * (pixels transferred, not cloned) and returns the outputs in input order. A worker that crashes or
 * exits fails every pending run with a clear error and the pool stops accepting work (create a new one).
 */
export class ForwardPool {
  readonly info: ForwardPoolInfo
  private readonly slots: Slot[]
  private readonly queue: Task[] = []
  private readonly maxBatch: number
  private nextId = 1
  private failure: Error | null = null
  private closed = false

  private constructor(slots: Slot[], info: ForwardPoolInfo, maxBatch: number) {
    this.slots = slots
    this.info = info
    this.maxBatch = maxBatch
    for (const s of slots) {
      this.watch(s)
      // An idle pool does not keep the process alive (a CLI that forgets close() still exits).
      s.worker.unref()
      // Exited between its 'ready' and now (its 'exit' event may already have passed): fail now, not hang later.
      if (s.worker.threadId < 0) this.crashed(s, 'exited during start-up')
    }
  }

  static async create(opts: ForwardPoolOptions): Promise<ForwardPool> {
    const n = opts.workers ?? 2
    const maxBatch = opts.maxBatch ?? 32
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`ForwardPool: workers must be a positive integer, got ${n}`)
    if (!Number.isInteger(maxBatch) || maxBatch < 1)
      throw new RangeError(`ForwardPool: maxBatch must be a positive integer, got ${maxBatch}`)
    const init = await initMessage(opts)
    const entry = opts.workerUrl ?? defaultWorkerEntry()
    const slots: Slot[] = Array.from({ length: n }, (_, index) => ({
      index,
      worker: spawn(entry, n),
      busy: null,
      alive: true
    }))
    let readies: ReadyMessage[]
    try {
      readies = await Promise.all(slots.map((s) => startWorker(s, init, opts.initTimeoutMs ?? 120_000)))
    } catch (err) {
      await Promise.all(slots.map((s) => s.worker.terminate()))
      throw err
    }
    const first = readies[0] as ReadyMessage
    const info: ForwardPoolInfo = {
      workers: n,
      backends: readies.map((r) => r.backend),
      inputSize: first.inputShape[0] as number,
      outputDim: first.outputDim,
      extraDims: first.extraDims,
      preprocessing: { ...opts.preprocessing },
      output: opts.output,
      foldedBn: opts.foldBn ?? false
    }
    return new ForwardPool(slots, info, maxBatch)
  }

  /** A pool computing pooled (GAP) features of a base, with the base's own preprocessing (feature extraction). */
  static forBase(
    base: { model: tf.LayersModel; spec: { preprocessing: PreprocessingSpec } },
    opts: Omit<ForwardPoolOptions, 'model' | 'preprocessing' | 'output'> & { output?: ForwardOutput } = {}
  ): Promise<ForwardPool> {
    return ForwardPool.create({
      ...opts,
      model: base.model,
      preprocessing: base.spec.preprocessing,
      output: opts.output ?? 'pooled'
    })
  }

  /** Outputs [count, info.outputDim] for RGB uint8 [count, S, S, 3]; `pixels` is not modified or detached. */
  async run(pixels: Uint8Array, count: number): Promise<Float32Array> {
    return (await this.runAll(pixels, count))[0] as Float32Array
  }

  /** run's output, then each further model output ([count, info.extraDims[k]], flattened per image). */
  async runAll(pixels: Uint8Array, count: number): Promise<Float32Array[]> {
    if (this.closed) throw new Error('ForwardPool: closed')
    if (this.failure) throw this.failure
    const S = this.info.inputSize
    const per = S * S * 3
    if (!Number.isInteger(count) || count < 0 || pixels.length !== count * per) {
      throw new Error(`ForwardPool.run: expected ${count}x${S}x${S}x3 = ${count * per} bytes, got ${pixels.length}`)
    }
    const dims = [this.info.outputDim, ...this.info.extraDims]
    const outs = dims.map((d) => new Float32Array(count * d))
    if (count === 0) return outs
    const chunk = Math.min(this.maxBatch, Math.ceil(count / this.slots.length))
    const parts: Promise<void>[] = []
    for (let s = 0; s < count; s += chunk) {
      const n = Math.min(chunk, count - s)
      // One copy into a fresh buffer that is then transferred (moved, not cloned) to the worker.
      const buf = pixels.slice(s * per, (s + n) * per).buffer
      parts.push(
        new Promise<Float32Array[]>((resolve, reject) => {
          this.queue.push({ msg: { type: 'run', id: this.nextId++, pixels: buf, count: n }, resolve, reject })
          this.dispatch()
        }).then((datas) => datas.forEach((d, k) => outs[k]?.set(d, s * (dims[k] as number))))
      )
    }
    const settled = await Promise.allSettled(parts)
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected')
    if (failed) throw failed.reason
    return outs
  }

  /** Terminates every worker; pending runs fail with 'closed'. Resolves when all threads have exited. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.failAll(new Error('ForwardPool: closed while a run was pending'))
    await Promise.all(this.slots.map((s) => s.worker.terminate()))
  }

  /** Number of worker threads still running. */
  get liveWorkers(): number {
    return this.slots.filter((s) => s.alive).length
  }

  /** Test hook: makes worker `index` exit abruptly with `code`, as a crash would. */
  simulateCrash(index: number, code = 7): void {
    this.slots[index]?.worker.postMessage({ type: 'crash', code } satisfies ToWorker)
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) return
      if (slot.busy || !slot.alive) continue
      const task = this.queue.shift() as Task
      slot.busy = task
      slot.worker.ref()
      slot.worker.postMessage(task.msg, [task.msg.pixels])
    }
  }

  private watch(slot: Slot): void {
    slot.worker.on('message', (m: FromWorker) => {
      const task = slot.busy
      if (!task || !('id' in m) || m.id !== task.msg.id) return
      slot.busy = null
      slot.worker.unref()
      if (m.type === 'result') task.resolve([m.data, ...m.extra].map((b) => new Float32Array(b)))
      else if (m.type === 'error') task.reject(new Error(`ForwardPool worker ${slot.index}: ${m.message}`))
      this.dispatch()
    })
    slot.worker.on('error', (err) => this.crashed(slot, `crashed: ${err.message}`))
    slot.worker.on('messageerror', (err) => this.crashed(slot, `sent an unreadable message: ${err.message}`))
    slot.worker.on('exit', (code) => {
      slot.alive = false
      if (!this.closed) this.crashed(slot, `exited unexpectedly with code ${code}`)
    })
  }

  private crashed(slot: Slot, why: string): void {
    slot.alive = false
    if (this.closed || this.failure) return
    this.failure = new Error(`ForwardPool worker ${slot.index} ${why}; the pool is unusable, create a new one`)
    this.failAll(this.failure)
    for (const s of this.slots) if (s !== slot) void s.worker.terminate()
  }

  private failAll(err: Error): void {
    for (const s of this.slots) {
      s.busy?.reject(err)
      s.busy = null
    }
    for (const t of this.queue.splice(0)) t.reject(err)
  }
}

async function initMessage(opts: ForwardPoolOptions): Promise<InitMessage> {
  const model = opts.foldBn ? foldBatchNorm(opts.model) : opts.model
  try {
    const a = await modelArtifacts(model)
    if (!a.modelTopology || !a.weightSpecs || a.weightData === undefined)
      throw new Error('ForwardPool: model.save produced no topology or weights')
    const src = Array.isArray(a.weightData) ? a.weightData : [a.weightData]
    const shared = new SharedArrayBuffer(src.reduce((n, b) => n + b.byteLength, 0))
    const view = new Uint8Array(shared)
    let o = 0
    for (const b of src) {
      view.set(new Uint8Array(b), o)
      o += b.byteLength
    }
    return {
      type: 'init',
      modelTopology: a.modelTopology as object,
      weightSpecs: a.weightSpecs.map((w) => ({ name: w.name, shape: w.shape, dtype: w.dtype })),
      weights: shared,
      preprocessing: { ...opts.preprocessing },
      output: opts.output,
      backend: opts.backend ?? 'wasm',
      wasmDir: opts.wasmDir
    }
  } finally {
    if (model !== opts.model) model.dispose()
  }
}

function startWorker(slot: Slot, init: InitMessage, timeoutMs: number): Promise<ReadyMessage> {
  return new Promise<ReadyMessage>((resolve, reject) => {
    const fail = (why: string): void => {
      cleanup()
      reject(new Error(`ForwardPool worker ${slot.index} failed to start: ${why}`))
    }
    const onMessage = (m: FromWorker): void => {
      if (m.type === 'ready') {
        cleanup()
        resolve(m)
      } else if (m.type === 'error' && m.id === undefined) fail(m.message)
    }
    const onError = (err: Error): void => fail(err.message)
    const onExit = (code: number): void => fail(`exited with code ${code}`)
    const timer = setTimeout(() => fail(`not ready after ${timeoutMs} ms`), timeoutMs)
    const cleanup = (): void => {
      clearTimeout(timer)
      slot.worker.off('message', onMessage)
      slot.worker.off('error', onError)
      slot.worker.off('exit', onExit)
    }
    slot.worker.on('message', onMessage)
    slot.worker.on('error', onError)
    slot.worker.on('exit', onExit)
    slot.worker.postMessage(init satisfies ToWorker)
  })
}
