// The export as a worker job: writing the files and the second-runtime checks (ONNX Runtime, TF.js) take seconds
// of CPU, which on the thread that answers the app would stall every request and event meanwhile.
import { ExportCheckError } from '@core/export/check'
import { ExportDestinationError } from '@core/export/destination'
import { exportRun } from '@core/export/exportRun'
import { openProjectState } from '@core/store/projectState'
import { initBackend } from '@core/tf/backend'
import { EXPORT_CANCELLED, type ExportFailure, type FromWorker, type WorkerJob } from './protocol'

export function exportFailureOf(err: unknown): ExportFailure {
  const message = err instanceof Error ? err.message : String(err)
  if (err instanceof Error && err.name === 'AbortError') return EXPORT_CANCELLED
  if (err instanceof ExportDestinationError || err instanceof ExportCheckError || message.startsWith('export:'))
    return { kind: 'bad-input', message }
  const code = (err as { code?: unknown } | null)?.code
  return {
    kind: 'failed',
    message,
    ...(err instanceof Error ? { name: err.name } : {}),
    ...(typeof code === 'string' ? { code } : {})
  }
}

export async function exportJob(
  job: Extract<WorkerJob, { mode: 'export' }>,
  post: (msg: FromWorker) => void,
  signal: AbortSignal
): Promise<void> {
  try {
    await initBackend()
    // The export only reads the project's state, so a project whose state folder is read-only may be exported too.
    const state = openProjectState(job.root, { allowReadOnly: true })
    try {
      const result = await exportRun(state, job.runId, {
        ...job.options,
        signal,
        onProgress: (progress) => post({ type: 'export-progress', progress })
      })
      post({ type: 'export-done', result, failure: null })
    } finally {
      state.store.close()
    }
  } catch (err) {
    post({ type: 'export-done', result: null, failure: exportFailureOf(err) })
  }
}
