// Worker thread: runs one training (the core orchestrator) or serves predictions, off the thread that answers IPC.
// Started by TrainingRunner with workerData: WorkerJob; posts FromWorker messages; 'cancel' aborts the run.
import { parentPort, workerData } from 'node:worker_threads'
import { readFile } from 'node:fs/promises'
import { trainProject } from '@core/run/trainProject'
import { loadExportedModel, predictPixels, type LoadedModel } from '@core/export'
import { decodeBufferResized } from '@core/pipeline/decode'
import { initBackend } from '@core/tf/backend'
import type { FromWorker, PredictRequest, ToWorker, WorkerJob } from './protocol'
import { auditJob } from './auditJob'
import { gradCamOverlay } from '@core/eval/gradCamImage'
import { overlayAtPhotoShape } from '@core/eval/heatmapOverlay'
import { runLrFindJob } from './lrFindJob'
import { exportJob } from './exportJob'

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
  try {
    const outcome = await trainProject(
      j.root,
      j.options,
      (event) => post({ type: 'event', event }),
      controller.signal,
      {
        runId: j.runId
      }
    )
    outcome.result.dispose()
    post({ type: 'done', status: outcome.status, error: null })
  } catch (err) {
    const cancelled = err instanceof Error && err.name === 'AbortError'
    post({
      type: 'done',
      status: cancelled ? 'cancelled' : 'failed',
      error: cancelled ? null : ((err as Error).message ?? String(err))
    })
  }
}

/** Loaded models by folder, most recently used last; a few are kept so browsing one run's images stays fast. */
const models = new Map<string, Promise<LoadedModel>>()
const KEEP_MODELS = 2

function model(dir: string): Promise<LoadedModel> {
  let m = models.get(dir)
  if (m) models.delete(dir)
  else m = loadExportedModel(dir)
  models.set(dir, m)
  m.catch(() => models.delete(dir))
  for (const [old, p] of models) {
    if (models.size <= KEEP_MODELS) break
    models.delete(old)
    void p.then(
      (l) => l.model.dispose(),
      () => undefined
    )
  }
  return m
}

async function predictOne(req: PredictRequest): Promise<void> {
  try {
    const loaded = await model(req.modelDir)
    const buf = req.image.kind === 'file' ? await readFile(req.image.path) : Buffer.from(req.image.bytes)
    const pixels = await decodeBufferResized(buf, loaded.meta.inputSize, loaded.meta.resizeMode)
    const probs = await predictPixels(loaded, pixels, 1)
    let overlay: Uint8Array | undefined
    if (req.gradCam) {
      const png = await gradCamOverlay(loaded, pixels, req.gradCam.className)
      // Squashed or padded, the model saw the whole photo: show the heatmap at the photo's shape. Centre-cropped,
      // the overlay shows the model's crop as it is.
      const mode = loaded.meta.resizeMode
      overlay = new Uint8Array(mode === 'center-crop' ? png : await overlayAtPhotoShape(png, buf, mode))
    }
    post({
      type: 'prediction',
      id: req.id,
      classes: loaded.meta.classes,
      probabilities: Array.from(probs),
      ...(overlay ? { overlay } : {})
    })
  } catch (err) {
    post({ type: 'error', id: req.id, message: (err as Error).message ?? String(err) })
  }
}

async function servePredictions(j: Extract<WorkerJob, { mode: 'predict' }>): Promise<void> {
  const ready = initBackend({ prefer: j.backend ?? 'auto' })
  // One at a time, in order: each prediction uses every core already.
  let queue: Promise<void> = Promise.resolve()
  port?.on('message', (msg: ToWorker) => {
    if (msg.type !== 'predict') return
    queue = queue.then(async () => {
      try {
        await ready
      } catch (err) {
        post({ type: 'error', id: msg.id, message: (err as Error).message ?? String(err) })
        return
      }
      await predictOne(msg)
    })
  })
  await ready.catch(() => undefined)
}

if (job.mode === 'train') {
  await train(job)
  // Done: let the thread exit (the runner drops the run from its active list when it does).
  port.close()
} else if (job.mode === 'audit') {
  await auditJob(job, post, controller.signal)
  port.close()
} else if (job.mode === 'lr-find') {
  await runLrFindJob(job, (event) => post({ type: 'lr-find', event }), controller.signal)
  port.close()
} else if (job.mode === 'export') {
  await exportJob(job, post, controller.signal)
  port.close()
} else {
  await servePredictions(job)
}
