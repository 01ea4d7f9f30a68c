// Exports in worker threads, one at a time: progress as the caller's callback, the result or the error as the
// main thread would have thrown it. One at a time because ONNX Runtime (the export's check) is not safe to load in
// several worker threads at once (microsoft/onnxruntime#24486), and each export uses every core anyway.
import type { Worker } from 'node:worker_threads'
import { spawnWorker } from '@core/parallel/spawnWorker'
import type { ExportProgress, ExportRunResult } from '@core/export/exportRun'
import { removeLeftoverStaging } from '@core/export/destination'
import { ApiError } from '@shared/contract'
import {
  EXPORT_CANCELLED,
  type ExportFailure,
  type ExportJobOptions,
  type FromWorker,
  type WorkerJob
} from './protocol'

/** The error the export would have thrown on the main thread (handlers.ts maps it to the same answer). */
function errorOf(failure: ExportFailure): Error {
  if (failure.kind === 'bad-input') return new ApiError('bad-input', failure.message)
  if (failure.kind === 'cancelled') return new ApiError('conflict', failure.message)
  return Object.assign(new Error(failure.message), {
    ...(failure.name !== undefined ? { name: failure.name } : {}),
    ...(failure.code !== undefined ? { code: failure.code } : {})
  })
}

/** How long a cancelled export may take to stop at its next stage before its thread is stopped. */
const CANCEL_GRACE_MS = 3000

export class ExportRunner {
  private readonly going = new Map<string, Worker>()
  /** Exports asked to stop: their thread ending is the cancel's answer, not a crash. */
  private readonly cancelled = new Set<Worker>()
  /** The export waiting for the previous export's thread to end (it answers before its thread has exited). */
  private starting: string | null = null
  private previousExit: Promise<void> = Promise.resolve()

  /** `workerPath`: the training worker script (it also runs exports): built .js, or the .ts source under tsx. */
  constructor(
    private readonly workerPath: string,
    private readonly cancelGraceMs = CANCEL_GRACE_MS
  ) {}

  /** Exports run `runId` of the project at `root`; while one export is going, another is refused. */
  async run(
    key: string,
    root: string,
    runId: number,
    options: ExportJobOptions,
    onProgress: (p: ExportProgress) => void
  ): Promise<ExportRunResult> {
    if (this.going.has(key) || this.starting === key)
      throw new ApiError('conflict', `run ${runId} is already being exported`)
    if (this.going.size > 0 || this.starting !== null)
      throw new ApiError('conflict', 'another export is going: exports run one at a time, try again when it ends')
    this.starting = key
    try {
      await this.previousExit
    } finally {
      this.starting = null
    }
    const job: WorkerJob = { mode: 'export', root, runId, options }
    const worker = spawnWorker(this.workerPath, { workerData: job })
    this.going.set(key, worker)
    this.previousExit = new Promise((done) => worker.once('exit', () => done()))
    return new Promise<ExportRunResult>((resolve, reject) => {
      let settled = false
      const settle = (f: () => void): void => {
        if (settled) return
        settled = true
        if (this.going.get(key) === worker) this.going.delete(key)
        this.cancelled.delete(worker)
        f()
      }
      worker.on('message', (msg: FromWorker) => {
        if (msg.type === 'export-progress') {
          if (!settled) onProgress(msg.progress)
        } else if (msg.type === 'export-done') {
          const failure = msg.failure
          if (failure === null) settle(() => resolve(msg.result))
          else settle(() => reject(errorOf(failure)))
        }
      })
      // A lost thread cannot clean up after itself: its half-written folder is removed here before answering.
      const lost = (why: string): void => {
        if (settled) return
        const error = this.cancelled.has(worker) ? errorOf(EXPORT_CANCELLED) : new Error(why)
        void removeLeftoverStaging(options.out, process.pid).finally(() => settle(() => reject(error)))
      }
      worker.on('error', (err) => lost(`export worker crashed: ${err.message}`))
      worker.on('exit', (code) => lost(`export worker exited (code ${code}) before it finished`))
    })
  }

  /**
   * Asks the export of `key` to stop; false when none is going. The export stops at its next stage; one stuck in a
   * stage (a long runtime check) has its thread stopped after a grace period, and its temporary folder removed.
   */
  cancel(key: string): boolean {
    const w = this.going.get(key)
    if (!w) return false
    this.cancelled.add(w)
    w.postMessage({ type: 'cancel' })
    setTimeout(() => {
      if (this.cancelled.has(w)) void w.terminate()
    }, this.cancelGraceMs).unref()
    return true
  }

  async shutdown(): Promise<void> {
    await Promise.all([...this.going.values()].map((w) => w.terminate()))
    this.going.clear()
  }
}
