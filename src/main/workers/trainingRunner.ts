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
import type { FromWorker, PredictImage, PredictRequest, WorkerJob } from './protocol'

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

/** How long the prediction worker (and the models it holds) stays after its last call. */
export const PREDICTOR_IDLE_MS = 120_000

interface PendingPrediction {
  resolve(r: { classes: string[]; probabilities: number[] }): void
  reject(err: Error): void
}

interface Predictor {
  worker: Worker
  backend: string
  pending: Map<number, PendingPrediction>
  idle: ReturnType<typeof setTimeout> | undefined
}

export class TrainingRunner {
  private readonly runs = new Set<Running>()
  private readonly modelDirs = new Map<string, string>()
  private predictor: Predictor | null = null
  private nextPredictId = 1

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

  /**
   * Class probabilities of one image under a saved model. One prediction worker serves every call and keeps the
   * last models it loaded, so only the first call pays for starting TF.js and loading; it stops after
   * PREDICTOR_IDLE_MS without calls, and a crash fails the pending calls and the next call starts a new one.
   */
  predict(modelDir: string, image: PredictImage, backend?: TrainOptions['backend']): Promise<{ classes: string[]; probabilities: number[] }> {
    const key = backend ?? 'auto'
    if (this.predictor && this.predictor.backend !== key) this.stopPredictor()
    const p = (this.predictor ??= this.startPredictor(key))
    clearTimeout(p.idle)
    const id = this.nextPredictId++
    return new Promise((resolve, reject) => {
      p.pending.set(id, { resolve, reject })
      const req: PredictRequest = { type: 'predict', id, modelDir, image }
      p.worker.postMessage(req)
    })
  }

  private startPredictor(backend: string): Predictor {
    const worker = this.spawn({ mode: 'predict', backend: backend === 'auto' ? undefined : (backend as TrainOptions['backend']) })
    const p: Predictor = { worker, backend, pending: new Map(), idle: undefined }
    const settle = (id: number): PendingPrediction | undefined => {
      const w = p.pending.get(id)
      p.pending.delete(id)
      if (p.pending.size === 0 && this.predictor === p) {
        p.idle = setTimeout(() => this.stopPredictor(), PREDICTOR_IDLE_MS)
        p.idle.unref()
      }
      return w
    }
    worker.on('message', (msg: FromWorker) => {
      if (msg.type === 'prediction') settle(msg.id)?.resolve({ classes: msg.classes, probabilities: msg.probabilities })
      else if (msg.type === 'error') settle(msg.id)?.reject(new ApiError('bad-input', msg.message))
    })
    const fail = (why: string): void => {
      if (this.predictor === p) this.predictor = null
      for (const w of p.pending.values()) w.reject(new ApiError('internal', why))
      p.pending.clear()
    }
    worker.on('error', (err) => fail(`predict worker crashed: ${err.message}`))
    worker.on('exit', (code) => fail(`predict worker exited (code ${code}) without an answer`))
    return p
  }

  private stopPredictor(): void {
    const p = this.predictor
    if (!p) return
    this.predictor = null
    clearTimeout(p.idle)
    void p.worker.terminate()
  }

  async shutdown(): Promise<void> {
    this.stopPredictor()
    await Promise.all([...this.runs].map((r) => r.worker.terminate()))
    this.runs.clear()
  }
}
