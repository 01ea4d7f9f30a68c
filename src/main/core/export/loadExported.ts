// Loads an export folder back: plain tf.loadLayersModel through a file-system handler + tunelab.json.
import * as tf from '@tensorflow/tfjs'
import { readFile, stat } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { finalActivation } from './exportModel'
import { fileSystemModelLoader } from './fsModelIO'
import { META_FILE, parseMeta, type ExportMeta } from './meta'

export interface LoadedModel {
  dir: string
  model: tf.LayersModel
  meta: ExportMeta
}

async function readMeta(dir: string): Promise<ExportMeta> {
  const path = join(dir, META_FILE)
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ENOENT')
      throw new Error(`${path}: missing (not a TuneLab export folder, or an unfinished export)`)
    throw new Error(`${path}: cannot read (${err instanceof Error ? err.message : String(err)})`)
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw new Error(`${path}: not valid JSON (${err instanceof Error ? err.message : String(err)})`)
  }
  return parseMeta(value, path)
}

function checkAgainstMeta(model: tf.LayersModel, meta: ExportMeta, dir: string): void {
  const S = meta.inputSize
  const inShape = model.inputs[0]?.shape ?? []
  if (model.inputs.length !== 1 || inShape.length !== 4 || inShape[1] !== S || inShape[2] !== S || inShape[3] !== 3) {
    throw new Error(
      `${dir}: model input shape ${JSON.stringify(inShape)} does not match ${META_FILE} inputSize ${S} (expected [null,${S},${S},3])`
    )
  }
  const outShape = model.outputs[0]?.shape ?? []
  if (model.outputs.length !== 1 || outShape.length !== 2 || outShape[1] !== meta.outputUnits) {
    throw new Error(
      `${dir}: model output shape ${JSON.stringify(outShape)} does not match ${META_FILE}: ${meta.classes.length} classes, ${meta.activation} with ${meta.outputUnits} unit(s)`
    )
  }
  const act = finalActivation(model)
  if (act !== meta.activation)
    throw new Error(
      `${dir}: the model ends with activation ${JSON.stringify(act)} but ${META_FILE} says ${meta.activation}`
    )
}

/** Loads dir/model.json + weights and dir/tunelab.json, checking that they describe the same classifier. */
export async function loadExportedModel(dir: string): Promise<LoadedModel> {
  const abs = resolve(dir)
  const st = await stat(abs).catch(() => null)
  if (!st) throw new Error(`${abs}: export folder does not exist`)
  if (!st.isDirectory())
    throw new Error(`${abs}: not a folder (expected an export folder with model.json and ${META_FILE})`)
  const meta = await readMeta(abs)
  let model: tf.LayersModel
  try {
    model = await tf.loadLayersModel(fileSystemModelLoader(abs, meta.modelFile))
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err)
    throw new Error(msg.startsWith(abs) ? msg : `${abs}: cannot load the model: ${msg}`)
  }
  try {
    checkAgainstMeta(model, meta, abs)
  } catch (err) {
    model.dispose()
    throw err
  }
  return { dir: abs, model, meta }
}
