// Exports in worker threads, one per run at a time: progress as the caller's callback, the result or an ApiError.
import type { Worker } from 'node:worker_threads'
import { spawnWorker } from '@core/parallel/spawnWorker'
import type { ExportProgress, ExportRunResult } from '@core/export/exportRun'
import { ApiError } from '@shared/contract'
import type { ExportJobOptions, FromWorker } from './protocol'

export class ExportRunner {
  private readonly going = new Map<string, Worker>()

  /** `workerPath`: the training worker script (it also runs exports): built .js, or the .ts source under tsx. */
  constructor(private readonly workerPath: string) {}

  /** Exports run `runId` of the project at `root`; a second export of the same run while one is going is refused. */
  run(
    key: string,
    root: string,
    runId: number,
    options: ExportJobOptions,
    onProgress: (p: ExportProgress) => void
  ): Promise<ExportRunResult> {
    if (this.going.has(key)) throw new ApiError('conflict', `run ${runId} is already being exported`)
    const worker = spawnWorker(this.workerPath, { workerData: { mode: 'export', root, runId, options } })
    this.going.set(key, worker)
    return new Promise<ExportRunResult>((resolve, reject) => {
      let settled = false
      const settle = (f: () => void): void => {
        if (settled) return
        settled = true
        if (this.going.get(key) === worker) this.going.delete(key)
        f()
      }
      worker.on('message', (msg: FromWorker) => {
        if (msg.type === 'export-progress') {
          if (!settled) onProgress(msg.progress)
        } else if (msg.type === 'export-done') {
          const failure = msg.failure
          if (failure === null) settle(() => resolve(msg.result))
          else
            settle(() =>
              reject(
                failure.kind === 'failed'
                  ? new Error(failure.message)
                  : new ApiError(failure.kind === 'bad-input' ? 'bad-input' : 'conflict', failure.message)
              )
            )
        }
      })
      worker.on('error', (err) => settle(() => reject(new Error(`export worker crashed: ${err.message}`))))
      worker.on('exit', (code) =>
        settle(() => reject(new Error(`export worker exited (code ${code}) before it finished`)))
      )
    })
  }

  /** Asks the export of `key` to stop; false when none is going. */
  cancel(key: string): boolean {
    const w = this.going.get(key)
    if (!w) return false
    w.postMessage({ type: 'cancel' })
    return true
  }

  async shutdown(): Promise<void> {
    await Promise.all([...this.going.values()].map((w) => w.terminate()))
    this.going.clear()
  }
}
