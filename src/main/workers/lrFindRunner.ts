// Learning-rate range tests in worker threads, one at a time per project; their progress goes out as contract
// events ('training.findLrProgress'), the last one ('done') with the result.
import type { Worker } from 'node:worker_threads'
import { ApiError, type LrFindProgressEvent, type LrFindRange } from '@shared/contract'
import type { TrainOptions } from '@core/run/options'
import type { FromWorker, WorkerJob } from './protocol'
import { spawnWorker } from '@core/parallel/spawnWorker'

export interface LrFindRunnerOptions {
  workerPath: string
  progress(projectKey: string, event: LrFindProgressEvent): void
}

export class LrFindRunner {
  private readonly jobs = new Map<string, Worker>()

  constructor(private readonly opts: LrFindRunnerOptions) {}

  /** Starts the range test; a second one for the same project while the first is going is refused. */
  start(projectKey: string, root: string, options: TrainOptions, range: LrFindRange = {}): void {
    if (this.jobs.has(projectKey))
      throw new ApiError('conflict', `a learning-rate finder is already running in ${root}`)
    const worker = spawnWorker(this.opts.workerPath, {
      workerData: { mode: 'lr-find', root, options, range } satisfies WorkerJob
    })
    this.jobs.set(projectKey, worker)
    let finished = false
    const send = (event: LrFindProgressEvent): void => {
      if (finished) return
      if (event.type === 'done') finished = true
      this.opts.progress(projectKey, event)
    }
    worker.on('message', (msg: FromWorker) => {
      if (msg.type === 'lr-find') send(msg.event)
    })
    worker.on('error', (err) =>
      send({ type: 'done', status: 'failed', result: null, error: `learning-rate finder crashed: ${err.message}` })
    )
    worker.on('exit', (code) => {
      if (this.jobs.get(projectKey) === worker) this.jobs.delete(projectKey)
      send({
        type: 'done',
        status: 'failed',
        result: null,
        error: `learning-rate finder exited (code ${code}) without a result`
      })
    })
  }

  /** Asks the project's range test to stop after its current mini-batch; false when none is going. */
  cancel(projectKey: string): boolean {
    const worker = this.jobs.get(projectKey)
    if (!worker) return false
    worker.postMessage({ type: 'cancel' })
    return true
  }

  running(projectKey: string): boolean {
    return this.jobs.has(projectKey)
  }

  async shutdown(): Promise<void> {
    await Promise.all([...this.jobs.values()].map((w) => w.terminate()))
    this.jobs.clear()
  }
}
