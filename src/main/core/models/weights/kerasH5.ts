import { readFile } from 'node:fs/promises'
import * as hdf5 from 'jsfive'
import { shortWeightName, type LayerWeights, type WeightTensor } from './layerWeights'

// Keras 2 (and tf.keras) HDF5 layout, as written by model.save_weights / model.save:
//   [model_weights/]  attrs: layer_names, keras_version, backend
//     <layer>/        attrs: weight_names ('<layer>/kernel:0', ...)
//       <weight_name> datasets ('<layer>/<layer>/kernel:0')
// Nested models appear as a layer whose weight_names carry the inner layer names.

/** jsfive returns fixed-length strings padded with NULs, sometimes as bytes. */
function cleanStrings(v: unknown): string[] {
  const arr: unknown[] = Array.isArray(v) ? v : v === undefined || v === null ? [] : [v]
  return arr.map((s) =>
    (typeof s === 'string' ? s : s instanceof Uint8Array ? new TextDecoder().decode(s) : String(s)).replace(/\0+$/g, '')
  )
}

function isDataset(x: unknown): x is hdf5.Dataset {
  return x instanceof hdf5.Dataset
}

function isGroup(x: unknown): x is hdf5.Group {
  return x instanceof hdf5.Group
}

function toFloat32(file: string, name: string, d: hdf5.Dataset): Float32Array {
  const v = d.value
  if (v instanceof Float32Array) return v
  if (Array.isArray(v) || ArrayBuffer.isView(v)) return Float32Array.from(v as ArrayLike<number>)
  throw new Error(`${file}: dataset "${name}" is not numeric (dtype ${JSON.stringify(d.dtype)})`)
}

export interface KerasH5Info {
  kerasVersion: string | null
  layerNames: string[]
  weights: LayerWeights
}

/** Parses a Keras .h5 weights or full-model file already in memory. */
export function parseKerasH5(buffer: ArrayBuffer, fileLabel: string): KerasH5Info {
  let file: hdf5.File
  try {
    file = new hdf5.File(buffer, fileLabel)
  } catch (e) {
    throw new Error(`${fileLabel}: not a readable HDF5 file (${e instanceof Error ? e.message : String(e)})`)
  }
  const rootCandidate = file.keys.includes('model_weights') ? file.get('model_weights') : file
  if (!isGroup(rootCandidate)) throw new Error(`${fileLabel}: "model_weights" is not a group`)
  const root = rootCandidate
  const layerNames = cleanStrings(root.attrs['layer_names'])
  if (layerNames.length === 0) {
    throw new Error(
      `${fileLabel}: no "layer_names" attribute: not a Keras 2 / tf.keras HDF5 weights file (Keras 3 ".weights.h5" files are not supported)`
    )
  }
  const kv = root.attrs['keras_version'] ?? file.attrs['keras_version']
  const weights: LayerWeights = new Map()
  for (const layerName of layerNames) {
    const g = root.get(layerName)
    if (!isGroup(g)) continue
    const weightNames = cleanStrings(g.attrs['weight_names'])
    // A nested model stores all its inner layers' weights under one layer
    // group; their names carry the inner layer ('block_1_expand/kernel:0').
    const innerOwners = weightNames.map((w) => w.replace(/:\d+$/, '').split('/').slice(-2, -1)[0] ?? layerName)
    const nested = new Set(innerOwners).size > 1
    for (const [i, wName] of weightNames.entries()) {
      const d = g.get(wName)
      if (!isDataset(d))
        throw new Error(`${fileLabel}: layer "${layerName}" lists weight "${wName}" but it has no dataset`)
      const owner = nested ? (innerOwners[i] ?? layerName) : layerName
      const tensor: WeightTensor = { shape: [...d.shape], values: toFloat32(fileLabel, wName, d) }
      let m = weights.get(owner)
      if (!m) weights.set(owner, (m = new Map()))
      m.set(shortWeightName(wName), tensor)
    }
  }
  return { kerasVersion: typeof kv === 'string' ? kv.replace(/\0+$/, '') : null, layerNames, weights }
}

/** Reads a Keras .h5 file from disk (see parseKerasH5). */
export async function readKerasH5(path: string): Promise<KerasH5Info> {
  let buf: Buffer
  try {
    buf = await readFile(path)
  } catch (e) {
    throw new Error(`Cannot read weights file ${path}: ${e instanceof Error ? e.message : String(e)}`)
  }
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer
  return parseKerasH5(ab, path)
}
