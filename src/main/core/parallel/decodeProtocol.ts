// Messages between the main thread and the decode worker (decodeWorker.ts).
import type { ResizeMode } from '@shared/domain'
import type { BatchItem, CacheStats } from '../pipeline/imageCache'

export interface DecodeRequest {
  id: number
  cacheDir: string
  items: BatchItem[]
  size: number
  mode: ResizeMode
  concurrency: number
}

export type DecodeReply = { id: number; pixels: Uint8Array; stats: CacheStats } | { id: number; error: string }
