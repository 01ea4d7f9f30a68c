/** One weight tensor as read from a file, before it becomes a tf variable. */
export interface WeightTensor {
  shape: number[]
  values: Float32Array
}

/** Weights of one file grouped by Keras layer name, then by short weight name ('kernel', 'gamma', ...). */
export type LayerWeights = Map<string, Map<string, WeightTensor>>

/**
 * 'conv1_bn/gamma:0', 'model/conv1_bn/gamma', 'gamma:0' -> 'gamma'.
 * Keras uses ':0' suffixes; TF.js adds '_1' suffixes to duplicate variable
 * names, which we strip only for names we know.
 */
export function shortWeightName(fullName: string): string {
  const last = fullName.split('/').pop() ?? fullName
  const noColon = last.replace(/:\d+$/, '')
  const m = /^(.*)_\d+$/.exec(noColon)
  if (m && m[1] !== undefined && KNOWN_WEIGHT_NAMES.has(m[1])) return m[1]
  return noColon
}

const KNOWN_WEIGHT_NAMES = new Set([
  'kernel',
  'bias',
  'gamma',
  'beta',
  'moving_mean',
  'moving_variance',
  'depthwise_kernel',
  'pointwise_kernel'
])

export function countValues(w: LayerWeights): number {
  let n = 0
  for (const layer of w.values()) for (const t of layer.values()) n += t.values.length
  return n
}
