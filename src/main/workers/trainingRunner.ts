// Starts training runs in worker threads and turns their messages into contract events; predictions go to the
// Predictor (predictor.ts).
import type { Worker } from 'node:worker_threads'
import { existsSync } from 'node:fs'
import { spawnWorker } from '@core/parallel/spawnWorker'
import type { RunEvent } from '@core/run/events'
import type { TrainOptions } from '@core/run/options'
import { describeBackend } from '@core/tf/describeBackend'
import { describeRunEvent } from '@core/run/eventText'
import { toNewEpoch } from '@core/eval/storeRows'
import type { TrainingProgressEvent } from '@shared/contract'
import type { RunStatus } from '@shared/domain'
import type { FromWorker, PredictImage, PredictRequest, WorkerJob } from './protocol'
import { Predictor, type Prediction } from './predictor'

export { PREDICTOR_IDLE_MS } from './predictor'

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

/** Maps a core run event to the contract's progress event (messages worded as the CLI's, eventText.ts); null for events the screens do not need. */
export function toProgressEvent(e: RunEvent): TrainingProgressEvent | null {
  switch (e.type) {
    case 'phase-start':
      return {
        type: 'phase',
        phase: e.phase,
        epochs: e.epochs,
        fineTuneAt: e.phase === 'fine-tune' ? e.fineTuneAt : null,
        detail: e.detail,
        line: describeRunEvent(e)?.text ?? e.detail
      }
    case 'features':
      return { type: 'features', split: e.split, done: e.done, total: e.total }
    case 'activations':
      return { type: 'activations', split: e.split, done: e.done, total: e.total }
    case 'batch':
      return {
        type: 'batch',
        phase: e.phase,
        epoch: e.epoch,
        batch: e.batch,
        batches: e.batches,
        loss: e.loss,
        accuracy: e.accuracy,
        imagesPerSec: e.imagesPerSec,
        etaSeconds: e.etaSeconds
      }
    case 'epoch':
      // The row the store writes, with a diverged (non-finite) loss as null as the store keeps it.
      return { type: 'epoch', epoch: { ...toNewEpoch(e), loss: Number.isFinite(e.loss) ? e.loss : null } }
    case 'stage':
    case 'info':
    case 'early-stop':
    case 'evaluation':
      return { type: 'info', message: describeRunEvent(e)?.text ?? e.type }
    case 'restored-best':
      return { type: 'kept', epoch: e.bestEpoch, message: describeRunEvent(e)?.text ?? e.type }
    case 'backend':
      return {
        type: 'backend',
        name: describeBackend(e.info),
        notes: e.info.skipped.map((s) => `${s.name}: ${s.reason}`)
      }
    default:
      return null
  }
}

interface Running {
  worker: Worker
  projectKey: string
  runId: number
  status: RunStatus
}

export class TrainingRunner {
  private readonly runs = new Set<Running>()
  private readonly predictor: Predictor
  private stopping = false

  constructor(private readonly opts: TrainingRunnerOptions) {
    if (!existsSync(opts.workerPath)) throw new Error(`training worker script not found: ${opts.workerPath}`)
    this.predictor = new Predictor(opts.workerPath)
  }

  /**
   * Trains run `runId` (a row the caller began with ProjectStore.beginRun) in a worker thread. Every event,
   * from the scan on, is reported with that id; problems found before training (empty split, missing weights)
   * end the run as failed with the message. `onLost` is called when the worker dies before it reported an end
   * (a crash, out of memory): the run's row is then the caller's to close, as nobody else will.
   */
  start(
    projectKey: string,
    root: string,
    options: TrainOptions,
    runId: number,
    onLost: (error: string) => void = () => undefined
  ): void {
    const job: WorkerJob = { mode: 'train', root, options, runId }
    const worker = spawnWorker(this.opts.workerPath, { workerData: job })
    const entry: Running = { worker, projectKey, runId, status: 'running' }
    this.runs.add(entry)
    const progress = (e: TrainingProgressEvent): void => this.opts.events.progress(projectKey, runId, e)
    worker.on('message', (msg: FromWorker) => {
      if (msg.type === 'event') {
        const e = msg.event
        if (e.type === 'download-progress') {
          this.opts.events.download(
            { bytes: e.bytes, total: e.total, bytesPerSecond: e.bytesPerSecond, done: false },
            options.baseId
          )
        } else if (e.type === 'backend') {
          this.opts.events.backend?.(e.info)
        }
        const mapped = toProgressEvent(e)
        if (mapped) progress(mapped)
      } else if (msg.type === 'done') {
        entry.status = msg.status
        progress({ type: 'done', status: msg.status, error: msg.error })
      }
    })
    const lost = (error: string): void => {
      if (entry.status !== 'running' || this.stopping) return
      entry.status = 'failed'
      onLost(error)
      progress({ type: 'done', status: 'failed', error })
    }
    worker.on('error', (err) => lost(`training worker crashed: ${err.message}`))
    worker.on('exit', (code) => {
      this.runs.delete(entry)
      lost(`training worker exited (code ${code}) before the run ended`)
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
    return [...this.runs].map((r) => ({ projectKey: r.projectKey, runId: r.runId, status: r.status }))
  }

  /** Class probabilities of one image under a saved model (see Predictor); with `gradCam`, also its heatmap overlay. */
  predict(
    modelDir: string,
    image: PredictImage,
    backend?: TrainOptions['backend'],
    gradCam?: PredictRequest['gradCam']
  ): Promise<Prediction> {
    return this.predictor.predict(modelDir, image, backend, gradCam)
  }

  /** Stops every worker. Their runs stay 'running' in SQLite and are marked interrupted when next opened. */
  async shutdown(): Promise<void> {
    this.stopping = true
    this.predictor.stop()
    await Promise.all([...this.runs].map((r) => r.worker.terminate()))
    this.runs.clear()
  }
}
