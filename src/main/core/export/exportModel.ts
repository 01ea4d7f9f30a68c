// Exports a trained classifier as a plain TF.js layers model plus tunelab.json.
import type * as tf from '@tensorflow/tfjs'
import { existsSync } from 'node:fs'
import { mkdir, stat } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import type { ResizeMode } from '@shared/domain'
import type { PreprocessingSpec } from '../models/preprocessing'
import { writeFileAtomic, writeLayersModel } from './fsModelIO'
import {
  EXPORT_FORMAT,
  EXPORT_FORMAT_VERSION,
  META_FILE,
  MODEL_FILE,
  WEIGHTS_FILE,
  parseMeta,
  type ExportActivation,
  type ExportMeta,
  type ExportMetrics
} from './meta'

export interface ExportInput {
  /** Preprocessed images [null,S,S,3] -> class probabilities (sigmoid or softmax), e.g. TrainResult.model. */
  model: tf.LayersModel
  classes: readonly string[]
  base: { id: string; size: number }
  resizeMode: ResizeMode
  preprocessing: PreprocessingSpec
  /** 1 (sigmoid, two classes) or the number of classes (softmax), e.g. TrainResult.outputUnits. */
  outputUnits: number
  runId?: string | null
  metrics?: ExportMetrics | null
}

export interface ExportOptions {
  /** Replace an existing export in outDir (default false: refuse). */
  overwrite?: boolean
  /** Timestamp stored as `created` (tests). */
  now?: Date
}

export interface ExportResult {
  dir: string
  files: string[]
  meta: ExportMeta
  weightBytes: number
}

/** The activation of the model's last layer ('sigmoid'/'softmax'/'linear'/...), or null if it has none. */
export function finalActivation(model: tf.LayersModel): string | null {
  const last = model.layers[model.layers.length - 1]
  const act = last?.getConfig()['activation']
  return typeof act === 'string' ? act : null
}

function checkModel(input: ExportInput): ExportActivation {
  const { model, classes, outputUnits } = input
  if (model.inputs.length !== 1 || model.outputs.length !== 1)
    throw new Error(
      `export: the model must have one input and one output, has ${model.inputs.length} and ${model.outputs.length}`
    )
  const inShape = model.inputs[0]?.shape ?? []
  const S = input.base.size
  if (inShape.length !== 4 || inShape[1] !== S || inShape[2] !== S || inShape[3] !== 3) {
    throw new Error(
      `export: model input shape ${JSON.stringify(inShape)} does not match base '${input.base.id}' size ${S} (expected [null,${S},${S},3])`
    )
  }
  const outShape = model.outputs[0]?.shape ?? []
  if (outShape.length !== 2 || outShape[1] !== outputUnits)
    throw new Error(`export: model output shape ${JSON.stringify(outShape)} does not match outputUnits ${outputUnits}`)
  const activation: ExportActivation = outputUnits === 1 ? 'sigmoid' : 'softmax'
  const last = finalActivation(model)
  if (last !== activation) {
    throw new Error(
      `export: the model's last layer has activation ${JSON.stringify(last)}, expected '${activation}' (export the probability model, e.g. TrainResult.model, not logits)`
    )
  }
  if (outputUnits === 1 ? classes.length !== 2 : classes.length !== outputUnits) {
    throw new Error(`export: ${classes.length} classes do not fit a model with ${outputUnits} output unit(s)`)
  }
  return activation
}

/**
 * Writes outDir/model.json + weights.bin (TF.js layers format, loadable with plain tf.loadLayersModel)
 * and outDir/tunelab.json (classes, input size, resize mode, preprocessing, activation, base, run, metrics).
 * tunelab.json is written last, so its presence marks a complete export.
 */
export async function exportModel(input: ExportInput, outDir: string, opts: ExportOptions = {}): Promise<ExportResult> {
  const activation = checkModel(input)
  const dir = resolve(outDir)
  const meta: ExportMeta = parseMeta(
    {
      format: EXPORT_FORMAT,
      formatVersion: EXPORT_FORMAT_VERSION,
      classes: [...input.classes],
      inputSize: input.base.size,
      resizeMode: input.resizeMode,
      preprocessing: { ...input.preprocessing },
      activation,
      outputUnits: input.outputUnits,
      base: { id: input.base.id },
      created: (opts.now ?? new Date()).toISOString(),
      runId: input.runId ?? null,
      metrics: input.metrics ? (JSON.parse(JSON.stringify(input.metrics)) as ExportMetrics) : null,
      modelFile: MODEL_FILE
    },
    'export'
  )
  const st = await stat(dir).catch(() => null)
  if (st && !st.isDirectory()) throw new Error(`export: ${dir} exists and is not a folder`)
  const existing = [META_FILE, MODEL_FILE, WEIGHTS_FILE].filter((f) => existsSync(join(dir, f)))
  if (existing.length > 0 && !opts.overwrite)
    throw new Error(
      `export: ${dir} already holds an export (${existing.join(', ')}); choose another folder or pass overwrite`
    )
  await mkdir(dir, { recursive: true })
  const weightBytes = await writeLayersModel(input.model, dir)
  await writeFileAtomic(join(dir, META_FILE), JSON.stringify(meta, null, 2) + '\n')
  return { dir, files: [MODEL_FILE, WEIGHTS_FILE, META_FILE], meta, weightBytes }
}
