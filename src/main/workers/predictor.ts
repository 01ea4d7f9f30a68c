// Predictions for the app: one worker thread serves every predict call and keeps the last models it loaded, so
// only the first call pays for starting TF.js and loading. It stops after PREDICTOR_IDLE_MS without calls; a
// crash fails the pending calls and the next call starts a new one.
import type { Worker } from 'node:worker_threads'
import type { TrainOptions } from '@core/run/options'
import { spawnWorker } from '@core/parallel/spawnWorker'
import { ApiError } from '@shared/contract'
import type { FromWorker, PredictImage, PredictRequest, WorkerJob } from './protocol'

/** How long the prediction worker (and the models it holds) stays after its last call. */
export const PREDICTOR_IDLE_MS = 120_000

export interface Prediction {
  classes: string[]
  probabilities: number[]
  /** Grad-CAM overlay PNG, when asked for. */
  overlay?: Uint8Array
}

interface Pending {
  resolve(r: Prediction): void
  reject(err: Error): void
}

interface Serving {
  worker: Worker
  backend: string
  pending: Map<number, Pending>
  idle: ReturnType<typeof setTimeout> | undefined
}

export class Predictor {
  private serving: Serving | null = null
  private nextId = 1

  /** `workerPath`: the worker script that also trains (workers/training.ts or its build). */
  constructor(private readonly workerPath: string) {}

  /** The worker serving now, if any. */
  get worker(): Worker | undefined {
    return this.serving?.worker
  }

  /** Class probabilities of one image under the saved model in `modelDir`. */
  predict(
    modelDir: string,
    image: PredictImage,
    backend?: TrainOptions['backend'],
    gradCam?: PredictRequest['gradCam']
  ): Promise<Prediction> {
    const key = backend ?? 'auto'
    if (this.serving && this.serving.backend !== key) this.stop()
    const s = (this.serving ??= this.startWorker(key))
    clearTimeout(s.idle)
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      s.pending.set(id, { resolve, reject })
      const req: PredictRequest = { type: 'predict', id, modelDir, image, ...(gradCam ? { gradCam } : {}) }
      s.worker.postMessage(req)
    })
  }

  stop(): void {
    const s = this.serving
    if (!s) return
    this.serving = null
    clearTimeout(s.idle)
    void s.worker.terminate()
  }

  private startWorker(backend: string): Serving {
    const job: WorkerJob = {
      mode: 'predict',
      backend: backend === 'auto' ? undefined : (backend as TrainOptions['backend'])
    }
    const worker = spawnWorker(this.workerPath, { workerData: job })
    const s: Serving = { worker, backend, pending: new Map(), idle: undefined }
    const settle = (id: number): Pending | undefined => {
      const w = s.pending.get(id)
      s.pending.delete(id)
      if (s.pending.size === 0 && this.serving === s) {
        s.idle = setTimeout(() => this.stop(), PREDICTOR_IDLE_MS)
        s.idle.unref()
      }
      return w
    }
    worker.on('message', (msg: FromWorker) => {
      if (msg.type === 'prediction')
        settle(msg.id)?.resolve({ classes: msg.classes, probabilities: msg.probabilities, overlay: msg.overlay })
      else if (msg.type === 'error') settle(msg.id)?.reject(new ApiError('bad-input', msg.message))
    })
    const fail = (why: string): void => {
      if (this.serving === s) this.serving = null
      for (const w of s.pending.values()) w.reject(new ApiError('internal', why))
      s.pending.clear()
    }
    worker.on('error', (err) => fail(`predict worker crashed: ${err.message}`))
    worker.on('exit', (code) => fail(`predict worker exited (code ${code}) without an answer`))
    return s
  }
}
