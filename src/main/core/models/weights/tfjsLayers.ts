import * as tf from '@tensorflow/tfjs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { shortWeightName, type LayerWeights } from './layerWeights'

// Reads TF.js layers-model folders (model.json + binary shards) with fs only,
// so it works without tfjs-node; e.g. Teachable Machine exports, whose base is
// nested (Sequential > Sequential > functional 'model4').

interface ManifestGroup {
  paths: string[]
  weights: tf.io.WeightsManifestEntry[]
}

function bytesPerElement(spec: tf.io.WeightsManifestEntry): number {
  const q = spec.quantization?.dtype
  if (q === 'uint8') return 1
  if (q === 'uint16' || q === 'float16') return 2
  return spec.dtype === 'bool' ? 1 : 4
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x)
}

/** Reads model.json and concatenates its shards into the ModelArtifacts tfjs expects. */
export async function readTfjsModelArtifacts(dir: string): Promise<tf.io.ModelArtifacts> {
  const jsonPath = join(dir, 'model.json')
  let parsed: unknown
  try {
    parsed = JSON.parse(await readFile(jsonPath, 'utf8'))
  } catch (e) {
    throw new Error(`Cannot read TF.js model ${jsonPath}: ${e instanceof Error ? e.message : String(e)}`)
  }
  if (!isRecord(parsed) || !isRecord(parsed['modelTopology'])) {
    throw new Error(`${jsonPath}: no "modelTopology": not a TF.js layers model (graph models cannot be fine-tuned)`)
  }
  if (parsed['format'] === 'graph-model')
    throw new Error(`${jsonPath}: this is a TF.js graph model (inference only); a layers model is needed`)
  const manifest = parsed['weightsManifest']
  if (!Array.isArray(manifest)) throw new Error(`${jsonPath}: no "weightsManifest" array`)
  const groups = manifest as ManifestGroup[]
  const specs: tf.io.WeightsManifestEntry[] = []
  const chunks: Buffer[] = []
  for (const g of groups) {
    let groupBytes = 0
    for (const p of g.paths) {
      const shardPath = join(dir, p)
      let b: Buffer
      try {
        b = await readFile(shardPath)
      } catch (e) {
        throw new Error(
          `${jsonPath}: weight shard ${shardPath} cannot be read: ${e instanceof Error ? e.message : String(e)}`
        )
      }
      chunks.push(b)
      groupBytes += b.length
    }
    const expected = g.weights.reduce((n, w) => n + w.shape.reduce((a, d) => a * d, 1) * bytesPerElement(w), 0)
    if (groupBytes !== expected) {
      throw new Error(
        `${jsonPath}: shards ${g.paths.join(', ')} hold ${groupBytes} bytes but the manifest describes ${expected}`
      )
    }
    specs.push(...g.weights)
  }
  const all = Buffer.concat(chunks)
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer
  return {
    modelTopology: parsed['modelTopology'] as tf.io.ModelArtifacts['modelTopology'],
    weightSpecs: specs,
    weightData,
    format: typeof parsed['format'] === 'string' ? parsed['format'] : undefined,
    generatedBy: typeof parsed['generatedBy'] === 'string' ? parsed['generatedBy'] : undefined
  }
}

/** Weights of a TF.js layers model folder keyed by layer name (the path part before the weight name). */
export async function readTfjsLayersWeights(dir: string): Promise<LayerWeights> {
  const art = await readTfjsModelArtifacts(dir)
  const out: LayerWeights = new Map()
  if (!art.weightSpecs || !art.weightData) return out
  const named = tf.io.decodeWeights(art.weightData, art.weightSpecs)
  try {
    for (const [fullName, t] of Object.entries(named)) {
      const parts = fullName.split('/')
      const layer = parts.length >= 2 ? (parts[parts.length - 2] ?? fullName) : fullName
      let m = out.get(layer)
      if (!m) out.set(layer, (m = new Map()))
      m.set(shortWeightName(fullName), { shape: [...t.shape], values: Float32Array.from(t.dataSync()) })
    }
  } finally {
    tf.dispose(Object.values(named))
  }
  return out
}

/** Loads a whole TF.js layers model from a folder with fs (no tfjs-node, no fetch). */
export async function loadTfjsLayersModel(dir: string): Promise<tf.LayersModel> {
  const artifacts = await readTfjsModelArtifacts(dir)
  return tf.loadLayersModel({ load: () => Promise.resolve(artifacts) })
}

function findLayer(model: tf.LayersModel, name: string): { owner: tf.LayersModel; layer: tf.layers.Layer } | null {
  for (const layer of model.layers) {
    if (layer.name === name) return { owner: model, layer }
  }
  for (const layer of model.layers) {
    if (layer instanceof tf.LayersModel) {
      const found = findLayer(layer, name)
      if (found) return found
    }
  }
  return null
}

/**
 * Returns a model from the input of the (possibly nested) model that contains
 * `layerName` up to that layer's output, sharing the loaded weights.
 * E.g. cut a full MobileNet at 'conv_pw_13_relu', or a Teachable Machine
 * export at 'out_relu'.
 */
export function cutModelAt(model: tf.LayersModel, layerName: string): tf.LayersModel {
  const found = findLayer(model, layerName)
  if (!found) throw new Error(`Layer "${layerName}" not found in model "${model.name}" or its nested models`)
  const output = found.layer.getOutputAt(0)
  if (Array.isArray(output)) throw new Error(`Layer "${layerName}" has several outputs; cannot cut there`)
  return tf.model({ inputs: found.owner.inputs, outputs: output, name: `${found.owner.name}_to_${layerName}` })
}
