// Worker thread entry: loads image batches through an ImageCache (read, decode, resize, cache write) on its
// own event loop, so decoding progresses while the main thread is busy with synchronous wasm/cpu compute.
// On the main thread, a blocked event loop would stall every fs/sharp continuation of a read-ahead.
import { parentPort } from 'node:worker_threads'
import { ImageCache } from '../pipeline/imageCache'
import type { DecodeReply, DecodeRequest } from './decodeProtocol'

const caches = new Map<string, ImageCache>()

parentPort?.on('message', (req: DecodeRequest) => {
  let cache = caches.get(req.cacheDir)
  if (!cache) {
    cache = new ImageCache(req.cacheDir)
    caches.set(req.cacheDir, cache)
  }
  const c = cache
  const before = { ...c.stats }
  c.loadBatch(req.items, req.size, req.mode, { concurrency: req.concurrency }).then(
    (pixels) => {
      const stats = {
        hits: c.stats.hits - before.hits,
        misses: c.stats.misses - before.misses,
        decodes: c.stats.decodes - before.decodes
      }
      const reply: DecodeReply = { id: req.id, pixels, stats }
      parentPort?.postMessage(reply, [pixels.buffer as ArrayBuffer])
    },
    (err: unknown) => {
      const reply: DecodeReply = { id: req.id, error: err instanceof Error ? err.message : String(err) }
      parentPort?.postMessage(reply)
    }
  )
})
