import * as tf from '@tensorflow/tfjs'

// Thin wrappers so the architecture files read like the Keras source they mirror.

type Sym = tf.SymbolicTensor

export function apply(layer: tf.layers.Layer, x: Sym | Sym[]): Sym {
  return layer.apply(x) as Sym
}

export function conv(
  x: Sym,
  o: { filters: number; kernel: number; strides?: number; padding?: 'same' | 'valid'; useBias: boolean; name: string }
): Sym {
  return apply(
    tf.layers.conv2d({
      filters: o.filters,
      kernelSize: o.kernel,
      strides: o.strides ?? 1,
      padding: o.padding ?? 'valid',
      useBias: o.useBias,
      name: o.name
    }),
    x
  )
}

export function depthwise(x: Sym, o: { strides: number; padding: 'same' | 'valid'; name: string }): Sym {
  return apply(
    tf.layers.depthwiseConv2d({
      kernelSize: 3,
      strides: o.strides,
      padding: o.padding,
      depthMultiplier: 1,
      useBias: false,
      name: o.name
    }),
    x
  )
}

export function batchNorm(x: Sym, name: string, epsilon: number, momentum: number): Sym {
  return apply(tf.layers.batchNormalization({ axis: -1, epsilon, momentum, name }), x)
}

export function relu6(x: Sym, name: string): Sym {
  return apply(tf.layers.reLU({ maxValue: 6, name }), x)
}

export function relu(x: Sym, name: string): Sym {
  return apply(tf.layers.activation({ activation: 'relu', name }), x)
}

export function zeroPad(x: Sym, padding: [[number, number], [number, number]], name: string): Sym {
  return apply(tf.layers.zeroPadding2d({ padding, name }), x)
}

export function add(a: Sym, b: Sym, name: string): Sym {
  return apply(tf.layers.add({ name }), [a, b])
}

/** Spatial size (rows, cols) of a channels-last symbolic tensor. */
export function spatial(x: Sym): [number, number] {
  const [, h, w] = x.shape
  if (typeof h !== 'number' || typeof w !== 'number')
    throw new Error('Internal error: spatial dims must be known when building a base')
  return [h, w]
}

/** Channel count of a channels-last symbolic tensor. */
export function channels(x: Sym): number {
  const c = x.shape[x.shape.length - 1]
  if (typeof c !== 'number') throw new Error('Internal error: channel dim must be known when building a base')
  return c
}
