// Messages between the main thread and the training/predict worker (structured clone, plain data).
import type { RunEvent } from '@core/run/events'
import type { TrainOptions } from '@core/run/options'

export type WorkerJob =
  | { mode: 'train'; root: string; options: TrainOptions }
  | { mode: 'predict'; modelDir: string; image: { kind: 'file'; path: string } | { kind: 'bytes'; bytes: Uint8Array }; backend?: TrainOptions['backend'] }

export type ToWorker = { type: 'cancel' }

export type FromWorker =
  | { type: 'event'; event: RunEvent }
  | { type: 'done'; status: 'completed' | 'cancelled' | 'failed'; runId: number | null; error: string | null; modelDir: string | null }
  | { type: 'prediction'; classes: string[]; probabilities: number[] }
  | { type: 'error'; message: string }
