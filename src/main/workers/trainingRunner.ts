// Starts training and prediction jobs in worker threads and turns their messages into contract events.
import { Worker } from 'node:worker_threads'
import { existsSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import { createRequire } from 'node:module'
import type { RunEvent } from '@core/run/events'
import type { TrainOptions } from '@core/run/options'
import { describeBackend } from '@core/tf/describeBackend'
import { ApiError, type TrainingProgressEvent } from '@shared/contract'
import type { RunStatus } from '@shared/domain'
import type { FromWorker, WorkerJob } from './protocol'

export interface ActiveRun {
  projectKey: string
  runId: number
  status: RunStatus
}

export interface RunnerEvents {
  progress(projectKey: string, runId: number, event: TrainingProgressEvent): void
  download(p: { bytes: number; total: number | null; bytesPerSecond: number; done: boolean }, baseId: string): void
  backend?(info: Extract<RunEvent, { type: 'backend' }>['info']): void
}

export interface TrainingRunnerOptions {
  /** The worker script: the built .js (Electron: `?modulePath`) or src/main/workers/training.ts (tsx, tests). */
  workerPath: string
  events: RunnerEvents
}

/** Maps a core run event to the contract's progress event; null for events the screens do not need. */
export function toProgressEvent(e: RunEvent): TrainingProgressEvent | null {
  switch (e.type) {
    case 'phase-start':
      return { type: 'phase', phase: e.phase, epochs: e.epochs, fineTuneAt: e.phase === 'fine-tune' ? e.fineTuneAt : null, detail: e.detail }
    case 'features':
      return { type: 'features', split: e.split, done: e.done, total: e.total }
    case 'activations':
      return { type: 'activations', split: e.split, done: e.done, total: e.total }
    case 'batch':
      return { type: 'batch', phase: e.phase, epoch: e.epoch, batch: e.batch, batches: e.batches, loss: e.loss, accuracy: e.accuracy, imagesPerSec: e.imagesPerSec, etaSeconds: e.etaSeconds }
    case 'epoch':
      return {
        type: 'epoch',
        epoch: {
          phase: e.phase === 'head' ? 1 : 2,
          epoch: e.epoch,
          loss: Number.isFinite(e.loss) ? e.loss : null,
          accuracy: e.accuracy,
          valLoss: e.valLoss,
          valAccuracy: e.valAccuracy,
          lr: e.lr,
          seconds: e.seconds,
          imagesPerSec: e.imagesPerSec
        }
      }
    case 'stage':
      return { type: 'info', message: `${e.stage}: ${e.detail}` }
    case 'info':
      return { type: 'info', message: e.message }
    case 'early-stop':
      return { type: 'info', message: `early stop in ${e.phase} at epoch ${e.epoch}; best epoch ${e.bestEpoch} (val loss ${e.bestValLoss.toFixed(4)})` }
    case 'restored-best':
      return { type: 'info', message: `restored the weights of epoch ${e.bestEpoch}` }
    case 'evaluation':
      return { type: 'info', message: `${e.split}: accuracy ${(e.metrics.accuracy * 100).toFixed(1)} % on ${e.metrics.count} images` }
    case 'backend':
      return { type: 'backend', name: describeBackend(e.info), notes: e.info.skipped.map((s) => `${s.name}: ${s.reason}`) }
    default:
      return null
  }
}

interface Running {
  worker: Worker
  projectKey: string
  runId: number | null
  status: RunStatus
}

export class TrainingRunner {
  private readonly runs = new Set<Running>()
  private readonly modelDirs = new Map<string, string>()

  constructor(private readonly opts: TrainingRunnerOptions) {
    if (!existsSync(opts.workerPath)) throw new Error(`training worker script not found: ${opts.workerPath}`)
  }

  private spawn(job: WorkerJob): Worker {
    // A .ts worker (serve mode under tsx, tests) registers tsx's loader itself before importing the script.
    if (this.opts.workerPath.endsWith('.ts')) {
      const tsxApi = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api')).href.replace(/\.cjs$/, '.mjs')
      const boot = `import { register } from ${JSON.stringify(tsxApi)}; register(); await import(${JSON.stringify(pathToFileURL(this.opts.workerPath).href)})`
      return new Worker(new URL(`data:text/javascript,${encodeURIComponent(boot)}`), { workerData: job })
    }
    return new Worker(this.opts.workerPath, { workerData: job })
  }

  /**
   * Starts a run; answers its id once the run row exists (after scan, split, backend and weights), so problems
   * found before training (empty split, missing weights) reject this call instead of becoming a failed run.
   */
  start(projectKey: string, root: string, options: TrainOptions): Promise<number> {
    const worker = this.spawn({ mode: 'train', root, options })
    const entry: Running = { worker, projectKey, runId: null, status: 'running' }
    this.runs.add(entry)
    return new Promise<number>((resolve, reject) => {
      // Events before the run row exists (the backend in use, scan and split stages) are kept and sent once the
      // run id is known, so the screen sees them too.
      const early: TrainingProgressEvent[] = []
      const progress = (e: TrainingProgressEvent): void => {
        if (entry.runId !== null) this.opts.events.progress(projectKey, entry.runId, e)
        else if (early.length < 100) early.push(e)
      }
      worker.on('message', (msg: FromWorker) => {
        if (msg.type === 'event') {
          const e = msg.event
          if (e.type === 'run-created') {
            entry.runId = e.runId
            resolve(e.runId)
            for (const x of early.splice(0)) progress(x)
          } else if (e.type === 'download-progress') {
            this.opts.events.download({ bytes: e.bytes, total: e.total, bytesPerSecond: e.bytesPerSecond, done: false }, options.baseId)
          } else if (e.type === 'backend') {
            this.opts.events.backend?.(e.info)
          }
          const mapped = toProgressEvent(e)
          if (mapped) progress(mapped)
        } else if (msg.type === 'done') {
          entry.status = msg.status
          if (msg.modelDir && msg.runId !== null) this.modelDirs.set(`${projectKey}:${msg.runId}`, msg.modelDir)
          if (entry.runId === null) reject(new ApiError(msg.status === 'cancelled' ? 'conflict' : 'bad-input', msg.error ?? 'the run was cancelled before it started'))
          else progress({ type: 'done', status: msg.status, error: msg.error })
        }
      })
      worker.on('error', (err) => {
        entry.status = 'failed'
        if (entry.runId === null) reject(new ApiError('internal', `training worker crashed: ${err.message}`))
        else progress({ type: 'done', status: 'failed', error: `training worker crashed: ${err.message}` })
      })
      worker.on('exit', () => {
        this.runs.delete(entry)
        if (entry.runId === null && entry.status === 'running') reject(new ApiError('internal', 'training worker exited before the run started'))
      })
    })
  }

  /** Asks the run to stop after the current batch; false when no such run is going. */
  cancel(runId: number): boolean {
    for (const r of this.runs) {
      if (r.runId === runId && r.status === 'running') {
        r.worker.postMessage({ type: 'cancel' })
        return true
      }
    }
    return false
  }

  active(): ActiveRun[] {
    return [...this.runs].filter((r): r is Running & { runId: number } => r.runId !== null).map((r) => ({ projectKey: r.projectKey, runId: r.runId, status: r.status }))
  }

  /** Class probabilities of one image under an exported model, computed in a worker. */
  predict(modelDir: string, image: Extract<WorkerJob, { mode: 'predict' }>['image'], backend?: TrainOptions['backend']): Promise<{ classes: string[]; probabilities: number[] }> {
    const worker = this.spawn({ mode: 'predict', modelDir, image, backend })
    return new Promise((resolve, reject) => {
      worker.on('message', (msg: FromWorker) => {
        if (msg.type === 'prediction') resolve({ classes: msg.classes, probabilities: msg.probabilities })
        else if (msg.type === 'error') reject(new ApiError('bad-input', msg.message))
      })
      worker.on('error', (err) => reject(new ApiError('internal', `predict worker crashed: ${err.message}`)))
      worker.on('exit', () => reject(new ApiError('internal', 'predict worker exited without an answer')))
    })
  }

  async shutdown(): Promise<void> {
    await Promise.all([...this.runs].map((r) => r.worker.terminate()))
    this.runs.clear()
  }
}
