// tunelab.json: what a consumer needs besides model.json to reproduce the training preprocessing.
import { z } from 'zod'
import type { ResizeMode } from '@shared/domain'
import type { PreprocessingSpec } from '../models/preprocessing'

export const EXPORT_FORMAT = 'tunelab-classifier'
export const EXPORT_FORMAT_VERSION = 1
export const META_FILE = 'tunelab.json'
export const MODEL_FILE = 'model.json'
export const WEIGHTS_FILE = 'weights.bin'

export type ExportActivation = 'sigmoid' | 'softmax'

/** JSON-safe metrics stored with an export (e.g. {val: {accuracy}, test: {accuracy}}). */
export type ExportMetrics = Record<string, unknown>

export interface ExportMeta {
  format: typeof EXPORT_FORMAT
  formatVersion: typeof EXPORT_FORMAT_VERSION
  classes: string[]
  /** Images are resized to inputSize x inputSize RGB with resizeMode, then preprocessed. */
  inputSize: number
  resizeMode: ResizeMode
  /** Applied to RGB 0..255 before the model: the model's input is already preprocessed. */
  preprocessing: PreprocessingSpec
  /** sigmoid: one unit = P(classes[1]); softmax: one unit per class. */
  activation: ExportActivation
  outputUnits: number
  base: { id: string }
  /** ISO 8601. */
  created: string
  runId: string | null
  metrics: ExportMetrics | null
  modelFile: string
}

const metaSchema = z.object({
  format: z.literal(EXPORT_FORMAT),
  formatVersion: z.literal(EXPORT_FORMAT_VERSION),
  classes: z.array(z.string().min(1)).min(2),
  inputSize: z.number().int().min(1).max(4096),
  resizeMode: z.enum(['squash', 'center-crop', 'pad']),
  preprocessing: z.object({ kind: z.literal('scale'), scale: z.number().finite(), offset: z.number().finite() }),
  activation: z.enum(['sigmoid', 'softmax']),
  outputUnits: z.number().int().min(1),
  base: z.object({ id: z.string().min(1) }),
  created: z.string(),
  runId: z.string().nullable(),
  metrics: z.record(z.unknown()).nullable(),
  modelFile: z.string().min(1)
})

/** Expected model output units for a class list and activation; throws when they cannot go together. */
export function unitsFor(classes: readonly string[], activation: ExportActivation): number {
  if (activation === 'sigmoid') {
    if (classes.length !== 2)
      throw new Error(`a sigmoid (one-unit) model needs exactly 2 classes, got ${classes.length}`)
    return 1
  }
  return classes.length
}

/** Validates parsed tunelab.json content; `where` names the file in errors. */
export function parseMeta(value: unknown, where: string): ExportMeta {
  if (typeof value !== 'object' || value === null) throw new Error(`${where}: expected a JSON object`)
  const v = value as { format?: unknown; formatVersion?: unknown }
  if (v.format !== EXPORT_FORMAT)
    throw new Error(
      `${where}: not a TuneLab export (format is ${JSON.stringify(v.format)}, expected "${EXPORT_FORMAT}")`
    )
  if (v.formatVersion !== EXPORT_FORMAT_VERSION) {
    const newer = typeof v.formatVersion === 'number' && v.formatVersion > EXPORT_FORMAT_VERSION
    throw new Error(
      `${where}: format version ${JSON.stringify(v.formatVersion)} is not supported (this TuneLab reads version ${EXPORT_FORMAT_VERSION}${newer ? '; the export was written by a newer TuneLab' : ''})`
    )
  }
  const r = metaSchema.safeParse(value)
  if (!r.success) {
    const issue = r.error.issues[0]
    throw new Error(`${where}: invalid field "${issue?.path.join('.') ?? '?'}": ${issue?.message ?? 'invalid'}`)
  }
  const meta = r.data as ExportMeta
  if (new Set(meta.classes).size !== meta.classes.length)
    throw new Error(`${where}: duplicate class names in ${JSON.stringify(meta.classes)}`)
  const units = unitsFor(meta.classes, meta.activation)
  if (units !== meta.outputUnits)
    throw new Error(
      `${where}: outputUnits ${meta.outputUnits} does not match ${meta.classes.length} classes with ${meta.activation}`
    )
  return meta
}
