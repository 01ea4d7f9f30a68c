// Runs label audits in worker threads (one per project at a time) and turns their messages into 'audit.progress'.
import type { Worker } from 'node:worker_threads'
import { spawnWorker } from '@core/parallel/spawnWorker'
import type { AuditOptions } from '@core/audit/runAudit'
import { ApiError, type AuditProgress } from '@shared/contract'
import type { FromWorker, WorkerJob } from './protocol'

export class AuditRunner {
  private readonly running = new Map<string, Worker>()

  constructor(
    /** The training worker script (it also runs audits): built .js, or the .ts source under tsx. */
    private readonly workerPath: string,
    private readonly onProgress: (p: AuditProgress) => void
  ) {}

  private spawn(job: WorkerJob): Worker {
    return spawnWorker(this.workerPath, { workerData: job })
  }

  isRunning(projectKey: string): boolean {
    return this.running.has(projectKey)
  }

  start(projectKey: string, root: string, options: AuditOptions): void {
    if (this.running.has(projectKey)) throw new ApiError('conflict', 'an audit of this project is already running')
    const worker = this.spawn({ mode: 'audit', root, options })
    this.running.set(projectKey, worker)
    let finished = false
    const done = (status: 'completed' | 'cancelled' | 'failed', auditId: number | null, error: string | null): void => {
      if (finished) return
      finished = true
      this.running.delete(projectKey)
      this.onProgress({ projectKey, event: { type: 'done', status, auditId, error } })
    }
    worker.on('message', (msg: FromWorker) => {
      if (msg.type === 'audit-done') done(msg.status, msg.auditId, msg.error)
      else if (msg.type === 'audit-event') {
        const e = msg.event
        if (e.type === 'stage')
          this.onProgress({ projectKey, event: { type: 'stage', stage: e.stage, detail: e.detail } })
        else if (e.type === 'progress')
          this.onProgress({ projectKey, event: { type: 'progress', stage: e.stage, done: e.done, total: e.total } })
        else if (e.type === 'info')
          this.onProgress({ projectKey, event: { type: 'stage', stage: 'info', detail: e.message } })
      }
    })
    worker.on('error', (err) => done('failed', null, `audit worker crashed: ${err.message}`))
    worker.on('exit', (code) => done('failed', null, `audit worker exited (code ${code}) before it finished`))
  }

  /** Asks the project's audit to stop; false when none is running. */
  cancel(projectKey: string): boolean {
    const w = this.running.get(projectKey)
    if (!w) return false
    w.postMessage({ type: 'cancel' })
    return true
  }

  async shutdown(): Promise<void> {
    await Promise.all([...this.running.values()].map((w) => w.terminate()))
    this.running.clear()
  }
}
