// Worker thread: runs one training (the core orchestrator) or one prediction, off the thread that answers IPC.
// Started by TrainingRunner with workerData: WorkerJob; posts FromWorker messages; 'cancel' aborts the run.
import { parentPort, workerData } from 'node:worker_threads'
import { readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { runModelDir, trainProject } from '@core/run/trainProject'
import { loadExportedModel, predictPixels } from '@core/export'
import { decodeBufferResized } from '@core/pipeline/decode'
import { initBackend } from '@core/tf/backend'
import type { FromWorker, ToWorker, WorkerJob } from './protocol'

const port = parentPort
if (!port) throw new Error('workers/training.ts must run as a worker thread')
const job = workerData as WorkerJob
const controller = new AbortController()

function post(msg: FromWorker): void {
  port?.postMessage(msg)
}

port.on('message', (msg: ToWorker) => {
  if (msg.type === 'cancel') controller.abort()
})

async function train(j: Extract<WorkerJob, { mode: 'train' }>): Promise<void> {
  let runId: number | null = null
  try {
    const outcome = await trainProject(
      j.root,
      j.options,
      (event) => {
        if (event.type === 'run-created') runId = event.runId
        post({ type: 'event', event })
      },
      controller.signal
    )
    // The orchestrator keeps a completed run's model in <state>/models/run-<id> (runModelDir).
    const modelDir = outcome.status === 'completed' ? runModelDir(join(dirname(outcome.dbPath), 'models'), outcome.runId) : null
    outcome.result.dispose()
    post({ type: 'done', status: outcome.status, runId: outcome.runId, error: null, modelDir })
  } catch (err) {
    const cancelled = err instanceof Error && err.name === 'AbortError'
    post({ type: 'done', status: cancelled ? 'cancelled' : 'failed', runId, error: cancelled ? null : (err as Error).message ?? String(err), modelDir: null })
  }
}

async function predict(j: Extract<WorkerJob, { mode: 'predict' }>): Promise<void> {
  try {
    await initBackend({ prefer: j.backend ?? 'auto' })
    const loaded = await loadExportedModel(j.modelDir)
    const buf = j.image.kind === 'file' ? await readFile(j.image.path) : Buffer.from(j.image.bytes)
    const pixels = await decodeBufferResized(buf, loaded.meta.inputSize, loaded.meta.resizeMode)
    const probs = await predictPixels(loaded, pixels, 1)
    loaded.model.dispose()
    post({ type: 'prediction', classes: loaded.meta.classes, probabilities: Array.from(probs) })
  } catch (err) {
    post({ type: 'error', message: (err as Error).message ?? String(err) })
  }
}

await (job.mode === 'train' ? train(job) : predict(job))
port.close()
