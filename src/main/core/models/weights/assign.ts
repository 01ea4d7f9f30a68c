import * as tf from '@tensorflow/tfjs'
import { shortWeightName, type LayerWeights } from './layerWeights'

export interface AssignReport {
  /** Layers of the model whose weights were set. */
  assignedLayers: number
  /** Layers of the source that hold weights but are not in the model (e.g. a classifier head). */
  ignoredLayers: string[]
}

const sameShape = (a: readonly number[], b: readonly (number | null)[]): boolean =>
  a.length === b.length && a.every((d, i) => d === b[i])

/**
 * Sets every weight of `model` from `source` by LAYER NAME and weight name,
 * checking shapes. All-or-nothing: nothing is written unless every layer with
 * weights is found with the right shapes. Source layers the model does not
 * have are ignored and reported (the base part of a bigger model is taken).
 */
export function assignWeightsByLayerName(
  model: tf.LayersModel,
  source: LayerWeights,
  sourceLabel: string
): AssignReport {
  const missing: string[] = []
  const problems: string[] = []
  const plan: Array<{ layer: tf.layers.Layer; values: Array<{ shape: number[]; values: Float32Array }> }> = []
  const modelLayerNames = new Set<string>()
  for (const layer of model.layers) {
    modelLayerNames.add(layer.name)
    if (layer.weights.length === 0) continue
    const src = source.get(layer.name)
    if (!src) {
      missing.push(layer.name)
      continue
    }
    const values: Array<{ shape: number[]; values: Float32Array }> = []
    for (const w of layer.weights) {
      const short = shortWeightName(w.originalName)
      const t = src.get(short)
      if (!t) {
        problems.push(
          `layer "${layer.name}" has no weight "${short}" in the source (it has: ${[...src.keys()].join(', ') || 'none'})`
        )
        continue
      }
      if (!sameShape(t.shape, w.shape)) {
        problems.push(
          `layer "${layer.name}" weight "${short}": source shape [${t.shape.join(',')}] but the model expects [${w.shape.join(',')}]`
        )
        continue
      }
      values.push(t)
    }
    if (src.size > layer.weights.length) {
      const extra = [...src.keys()].filter((k) => !layer.weights.some((w) => shortWeightName(w.originalName) === k))
      problems.push(`layer "${layer.name}": the source has weights the model layer does not (${extra.join(', ')})`)
    }
    plan.push({ layer, values })
  }
  const ignoredLayers = [...source.entries()]
    .filter(([name, w]) => !modelLayerNames.has(name) && w.size > 0)
    .map(([name]) => name)
  if (missing.length > 0 || problems.length > 0) {
    const lines = [`Weights in ${sourceLabel} do not fit model "${model.name}":`]
    if (missing.length > 0) {
      lines.push(
        `  missing layers (${missing.length}): ${missing.slice(0, 20).join(', ')}${missing.length > 20 ? ', ...' : ''}`
      )
      if (ignoredLayers.length > 0)
        lines.push(
          `  unexpected layers in the source (${ignoredLayers.length}): ${ignoredLayers.slice(0, 20).join(', ')}${ignoredLayers.length > 20 ? ', ...' : ''}`
        )
    }
    for (const p of problems.slice(0, 20)) lines.push(`  ${p}`)
    if (problems.length > 20) lines.push(`  ... and ${problems.length - 20} more`)
    throw new Error(lines.join('\n'))
  }
  for (const { layer, values } of plan) {
    const tensors = values.map((v) => tf.tensor(v.values, v.shape, 'float32'))
    layer.setWeights(tensors)
    tf.dispose(tensors)
  }
  return { assignedLayers: plan.length, ignoredLayers }
}
