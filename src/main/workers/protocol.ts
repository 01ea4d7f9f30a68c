// Messages between the main thread and the training/predict worker (structured clone, plain data).
import type { RunEvent } from '@core/run/events'
import type { TrainOptions } from '@core/run/options'
import type { AuditEvent, AuditOptions } from '@core/audit/runAudit'
import type { LrFindProgressEvent, LrFindRange } from '@shared/contract'
import type { ExportFormat, ExportProgress, ExportRunResult } from '@core/export/exportRun'

export type PredictImage = { kind: 'file'; path: string } | { kind: 'bytes'; bytes: Uint8Array }

/**
 * 'train' runs one training into a run row the main thread began; 'predict' starts a prediction server that answers
 * PredictRequests until terminated; 'lr-find' runs one learning-rate range test (workers/lrFindJob.ts); 'export'
 * exports one run (workers/exportJob.ts).
 */
export type WorkerJob =
  | { mode: 'train'; root: string; options: TrainOptions; runId: number }
  | { mode: 'lr-find'; root: string; options: TrainOptions; range: LrFindRange }
  | { mode: 'predict'; backend?: TrainOptions['backend'] }
  | { mode: 'audit'; root: string; options: AuditOptions }
  | { mode: 'export'; root: string; runId: number; options: ExportJobOptions }

export interface ExportJobOptions {
  out: string
  formats: ExportFormat[]
  force: boolean
}

/**
 * Why an export did not finish: the user's input (destination, failed check), a cancel, or anything else, with
 * the error's name and code so the main thread answers as it would for the same error thrown there.
 */
export interface ExportFailure {
  kind: 'bad-input' | 'cancelled' | 'failed'
  message: string
  name?: string
  code?: string
}

/** A cancelled export's answer, whether it stopped at a stage or its thread was stopped. */
export const EXPORT_CANCELLED: ExportFailure = { kind: 'cancelled', message: 'export cancelled; nothing was written' }

export interface PredictRequest {
  type: 'predict'
  id: number
  modelDir: string
  image: PredictImage
  /** Also the Grad-CAM of this class, laid over the photo (PNG bytes in the answer's `overlay`). */
  gradCam?: { className: string }
}

export type ToWorker = { type: 'cancel' } | PredictRequest

export type FromWorker =
  | { type: 'event'; event: RunEvent }
  | {
      type: 'done'
      status: 'completed' | 'cancelled' | 'failed'
      error: string | null
    }
  | { type: 'prediction'; id: number; classes: string[]; probabilities: number[]; overlay?: Uint8Array }
  | { type: 'error'; id: number; message: string }
  | { type: 'audit-event'; event: AuditEvent }
  | { type: 'audit-done'; status: 'completed' | 'cancelled' | 'failed'; auditId: number | null; error: string | null }
  /** The range test's progress, already in the contract's shape (its last one is 'done'). */
  | { type: 'lr-find'; event: LrFindProgressEvent }
  | { type: 'export-progress'; progress: ExportProgress }
  | { type: 'export-done'; result: ExportRunResult; failure: null }
  | { type: 'export-done'; result: null; failure: ExportFailure }
