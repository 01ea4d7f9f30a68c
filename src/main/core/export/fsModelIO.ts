// TF.js layers-model files on disk without tfjs-node: model.json + one weights.bin, via tf.io handlers.
import * as tf from '@tensorflow/tfjs'
import { readFile, rename, writeFile, rm } from 'node:fs/promises'
import { isAbsolute, join, normalize, sep } from 'node:path'
import { MODEL_FILE, WEIGHTS_FILE } from './meta'

/** Writes data to path through a temporary sibling and a rename, so a reader never sees half a file. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`
  try {
    await writeFile(tmp, data)
    await rename(tmp, path)
  } catch (err) {
    await rm(tmp, { force: true })
    throw err
  }
}

/** The model's topology and weights as they would be saved (no files touched). */
export async function modelArtifacts(model: tf.LayersModel): Promise<tf.io.ModelArtifacts> {
  let artifacts: tf.io.ModelArtifacts | null = null
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }
    })
  )
  if (!artifacts) throw new Error('model.save produced no artifacts')
  return artifacts
}

/** Writes model.json + weights.bin into dir (must exist). Returns the weights' byte size. */
export async function writeLayersModel(model: tf.LayersModel, dir: string): Promise<number> {
  const artifacts = await modelArtifacts(model)
  if (artifacts.weightData === undefined || artifacts.weightSpecs === undefined)
    throw new Error('model.save produced no weights')
  const weights = tf.io.CompositeArrayBuffer.join(artifacts.weightData)
  const modelJson: tf.io.ModelJSON = {
    modelTopology: artifacts.modelTopology as object,
    format: artifacts.format ?? 'layers-model',
    generatedBy: artifacts.generatedBy ?? `TensorFlow.js tfjs-layers v${tf.version_layers}`,
    convertedBy: 'TuneLab',
    weightsManifest: [{ paths: [WEIGHTS_FILE], weights: artifacts.weightSpecs }]
  }
  if (artifacts.trainingConfig) modelJson.trainingConfig = artifacts.trainingConfig
  await writeFileAtomic(join(dir, WEIGHTS_FILE), new Uint8Array(weights))
  await writeFileAtomic(join(dir, MODEL_FILE), JSON.stringify(modelJson))
  return weights.byteLength
}

const BYTES: Readonly<Record<string, number>> = {
  float32: 4,
  int32: 4,
  bool: 1,
  uint8: 1,
  uint16: 2,
  float16: 2,
  string: NaN,
  complex64: 8
}

function expectedBytes(spec: tf.io.WeightsManifestEntry): number {
  const n = spec.shape.reduce((a, b) => a * b, 1)
  const dtype = spec.quantization?.dtype ?? spec.dtype
  return n * (BYTES[dtype] ?? NaN)
}

function readJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch (err) {
    throw new Error(`${where}: not valid JSON (${err instanceof Error ? err.message : String(err)})`)
  }
}

async function readOrExplain(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path)
  } catch (err) {
    const code = (err as { code?: unknown }).code
    if (code === 'ENOENT') throw new Error(`${path}: ${what} is missing`)
    throw new Error(`${path}: cannot read ${what} (${err instanceof Error ? err.message : String(err)})`)
  }
}

/**
 * A tf.io load handler for a TF.js layers-model folder (model.json + the shards its manifest names),
 * with errors that name the file: missing shard, shard paths escaping the folder, byte-size mismatch.
 */
export function fileSystemModelLoader(dir: string, modelFile = MODEL_FILE): tf.io.IOHandler {
  return {
    load: async () => {
      const jsonPath = join(dir, modelFile)
      const parsed = readJson((await readOrExplain(jsonPath, 'the model topology')).toString('utf8'), jsonPath)
      const modelJson = parsed as Partial<tf.io.ModelJSON>
      if (
        typeof modelJson !== 'object' ||
        modelJson === null ||
        typeof modelJson.modelTopology !== 'object' ||
        modelJson.modelTopology === null
      ) {
        throw new Error(`${jsonPath}: not a TF.js layers model (no modelTopology)`)
      }
      if (!Array.isArray(modelJson.weightsManifest)) throw new Error(`${jsonPath}: no weightsManifest`)
      return tf.io.getModelArtifactsForJSON(modelJson as tf.io.ModelJSON, async (manifest) => {
        const specs: tf.io.WeightsManifestEntry[] = []
        const buffers: ArrayBuffer[] = []
        let expected = 0
        let got = 0
        for (const group of manifest) {
          specs.push(...group.weights)
          expected += group.weights.reduce((a, s) => a + expectedBytes(s), 0)
          for (const p of group.paths) {
            const rel = normalize(p)
            if (isAbsolute(rel) || rel === '..' || rel.startsWith('..' + sep))
              throw new Error(`${jsonPath}: weights path "${p}" points outside ${dir}`)
            const buf = await readOrExplain(join(dir, rel), 'a weights file named in model.json')
            got += buf.length
            buffers.push(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length) as ArrayBuffer)
          }
        }
        if (Number.isFinite(expected) && expected !== got) {
          throw new Error(
            `${dir}: the weights files hold ${got} bytes but ${modelFile} describes ${expected} bytes (truncated or from another model)`
          )
        }
        return [specs, tf.io.concatenateArrayBuffers(buffers)]
      })
    }
  }
}
