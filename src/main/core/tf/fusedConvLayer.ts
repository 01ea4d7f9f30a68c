/**
 * One layer for a frozen convolution with its BatchNorm folded in: conv or depthwise conv + bias + activation
 * (+ the zero padding in front of it), run as a single fused op (tf.fused.conv2d / tf.fused.depthwiseConv2d).
 * Keras' Conv2D layer cannot take explicit padding or relu6, and its DepthwiseConv2D adds the bias as a second
 * op; one fused kernel saves those passes over the activations (and with oneDNN, the activation is applied
 * while the output is still in cache). Built by foldBatchNorm only; inference only (weights are not trainable).
 */
import * as tf from '@tensorflow/tfjs'

export type FusedActivation = 'linear' | 'relu' | 'relu6'
/** 'same' / 'valid' as in Keras, or explicit [[top, bottom], [left, right]] zero padding. */
export type FusedPadding = 'same' | 'valid' | [[number, number], [number, number]]

export interface FusedConvArgs {
  name: string
  depthwise: boolean
  /** Output channels (depthwise: input channels x multiplier). */
  filters: number
  kernelSize: [number, number]
  strides: [number, number]
  padding: FusedPadding
  activation: FusedActivation
}

type Shape = Array<number | null>

export class FusedConv extends tf.layers.Layer {
  static className = 'TuneLabFusedConv'
  readonly args: FusedConvArgs
  private kernel: tf.LayerVariable | null = null
  private bias: tf.LayerVariable | null = null

  constructor(args: FusedConvArgs) {
    super({ name: args.name, trainable: false })
    this.args = { ...args }
  }

  override build(inputShape: Shape | Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape
    const inChannels = shape[3]
    if (typeof inChannels !== 'number')
      throw new Error(`FusedConv '${this.name}': input channels must be known, got ${JSON.stringify(shape)}`)
    const [kh, kw] = this.args.kernelSize
    const kernelShape = this.args.depthwise
      ? [kh, kw, inChannels, this.args.filters / inChannels]
      : [kh, kw, inChannels, this.args.filters]
    this.kernel = this.addWeight('kernel', kernelShape, 'float32', tf.initializers.zeros(), undefined, false)
    this.bias = this.addWeight('bias', [this.args.filters], 'float32', tf.initializers.zeros(), undefined, false)
    this.built = true
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const [n, h, w] = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape
    return [n ?? null, outSize(h ?? null, 0, this.args), outSize(w ?? null, 1, this.args), this.args.filters]
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D
      const { depthwise, strides, padding, activation } = this.args
      const pad: 'same' | 'valid' | tf.backend_util.ExplicitPadding =
        typeof padding === 'string' ? padding : [[0, 0], padding[0], padding[1], [0, 0]]
      // The op typings leave out explicit padding, which tfjs-core's conv info and every backend's kernel take.
      const op = {
        x,
        filter: this.kernel!.read() as tf.Tensor4D,
        bias: this.bias!.read(),
        strides,
        pad: pad as 'same',
        activation
      }
      return depthwise ? tf.fused.depthwiseConv2d(op) : tf.fused.conv2d(op)
    })
  }

  override getConfig(): tf.serialization.ConfigDict {
    const { depthwise, filters, kernelSize, strides, padding, activation } = this.args
    return { ...super.getConfig(), depthwise, filters, kernelSize, strides, padding, activation }
  }

  static override fromConfig<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>,
    config: tf.serialization.ConfigDict
  ): T {
    return new cls(config) as T
  }
}

function outSize(size: number | null, axis: 0 | 1, a: FusedConvArgs): number | null {
  if (size === null) return null
  const k = a.kernelSize[axis]
  const s = a.strides[axis]
  if (a.padding === 'same') return Math.ceil(size / s)
  if (a.padding === 'valid') return Math.ceil((size - k + 1) / s)
  const [before, after] = a.padding[axis]
  return Math.floor((size + before + after - k) / s) + 1
}

tf.serialization.registerClass(FusedConv)
