// A worker thread that loads image batches through the on-disk ImageCache (see decodeWorker.ts).
import type { Worker } from 'node:worker_threads'
import type { ResizeMode } from '@shared/domain'
import type { BatchItem, ImageCache } from '../pipeline/imageCache'
import { spawnWorker, workerEntry } from './spawnWorker'
import type { DecodeReply, DecodeRequest } from './decodeProtocol'

interface Waiting {
  resolve(pixels: Uint8Array): void
  reject(err: Error): void
  cache: ImageCache
}

export class DecodeThread {
  private readonly worker: Worker
  private readonly waiting = new Map<number, Waiting>()
  private nextId = 1
  private dead: Error | null = null

  constructor() {
    this.worker = spawnWorker(
      workerEntry(new URL('./decodeWorker.js', import.meta.url), new URL('./decodeWorker.ts', import.meta.url))
    )
    this.worker.unref() // kept alive only while a batch is pending (see track)
    this.worker.on('message', (reply: DecodeReply) => {
      const w = this.waiting.get(reply.id)
      if (!w) return
      this.waiting.delete(reply.id)
      if (this.waiting.size === 0) this.worker.unref()
      if ('error' in reply) return w.reject(new Error(reply.error))
      w.cache.stats.hits += reply.stats.hits
      w.cache.stats.misses += reply.stats.misses
      w.cache.stats.decodes += reply.stats.decodes
      w.resolve(reply.pixels)
    })
    const fail = (err: Error): void => {
      this.dead = err
      for (const w of this.waiting.values()) w.reject(err)
      this.waiting.clear()
    }
    this.worker.on('error', (err) => fail(new Error(`decode worker failed: ${err.message}`)))
    this.worker.on('exit', (code) => fail(new Error(`decode worker exited (code ${code})`)))
  }

  /** Same result as cache.loadBatch(items, size, mode), computed in the worker (same cache folder). */
  loadBatch(
    cache: ImageCache,
    items: readonly BatchItem[],
    size: number,
    mode: ResizeMode,
    concurrency = 16
  ): Promise<Uint8Array> {
    if (this.dead) return Promise.reject(this.dead)
    const id = this.nextId++
    const req: DecodeRequest = {
      id,
      cacheDir: cache.cacheDir,
      items: items.map((it) => ({ absPath: it.absPath, hash: it.hash })),
      size,
      mode,
      concurrency
    }
    return new Promise<Uint8Array>((resolve, reject) => {
      if (this.waiting.size === 0) this.worker.ref() // a pending batch must keep the process alive
      this.waiting.set(id, { resolve, reject, cache })
      this.worker.postMessage(req)
    })
  }

  get alive(): boolean {
    return this.dead === null
  }

  async close(): Promise<void> {
    if (this.dead) return
    this.dead = new Error('decode worker closed')
    await this.worker.terminate()
  }
}

let shared: DecodeThread | null = null

/** One decode thread per process, started on first use; it keeps the process alive only while a batch is pending. */
export function sharedDecodeThread(): DecodeThread {
  if (!shared || !shared.alive) shared = new DecodeThread()
  return shared
}
