// The label audit as a worker job: runs the core audit and reports its events and outcome as messages.
import { runAudit } from '@core/audit/runAudit'
import type { FromWorker, WorkerJob } from './protocol'

export async function auditJob(
  job: Extract<WorkerJob, { mode: 'audit' }>,
  post: (msg: FromWorker) => void,
  signal: AbortSignal
): Promise<void> {
  try {
    const out = await runAudit(job.root, job.options, (event) => post({ type: 'audit-event', event }), signal)
    post({ type: 'audit-done', status: 'completed', auditId: out.auditId, error: null })
  } catch (err) {
    const cancelled = err instanceof Error && err.name === 'AbortError'
    post({
      type: 'audit-done',
      status: cancelled ? 'cancelled' : 'failed',
      auditId: null,
      error: cancelled ? null : ((err as Error).message ?? String(err))
    })
  }
}
