/**
 * A trainable twin of FusedConv for fine-tuning with BatchNorm in inference mode: conv + BN (+ ReLU / ReLU6)
 * as one fused convolution whose kernel and bias are recomputed from the source layers' variables on every call,
 *   s = gamma / sqrt(moving_variance + eps),  w' = w * s,  b' = beta + (b - moving_mean) * s,
 * so gradients reach the source's kernel, gamma and beta through those small per-channel ops while the
 * activations see one pass forward (oneDNN applies bias and activation in the convolution) and one masked pass
 * backward, instead of separate BatchNorm, ReLU6 and their gradient passes. Built by foldBatchNorm with
 * `shareWeights`; holds no weights of its own, so disposing the folded model leaves the source's intact.
 */
import * as tf from '@tensorflow/tfjs'
import type { FusedActivation, FusedPadding } from './fusedConvLayer'
import { CHANNEL_SUMS, hasKernel, MASK_GRAD, nativeChannelSums } from './nativeTraining'

export interface LiveFusedConvArgs {
  name: string
  depthwise: boolean
  strides: [number, number]
  padding: FusedPadding
  activation: FusedActivation
  /** The source's variables, read on every call. */
  kernel: tf.LayerVariable
  convBias: tf.LayerVariable | null
  gamma: tf.LayerVariable | null
  beta: tf.LayerVariable | null
  movingMean: tf.LayerVariable
  movingVariance: tf.LayerVariable
  epsilon: number
}

type Shape = Array<number | null>
type Pad = 'same' | 'valid' | tf.backend_util.ExplicitPadding

export class LiveFusedConv extends tf.layers.Layer {
  static className = 'TuneLabLiveFusedConv'
  private readonly a: LiveFusedConvArgs

  constructor(args: LiveFusedConvArgs) {
    super({ name: args.name, trainable: false })
    this.a = args
  }

  override build(): void {
    this.built = true
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const [n, h, w] = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape
    const k = this.a.kernel.shape
    const filters = this.a.depthwise ? (k[2] as number) * (k[3] as number) : (k[3] as number)
    return [n ?? null, outSize(h ?? null, 0, this.a), outSize(w ?? null, 1, this.a), filters]
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D
      const a = this.a
      const mean = a.movingMean.read()
      const scale = tf.div(
        a.gamma ? a.gamma.read() : tf.onesLike(mean),
        tf.sqrt(tf.add(a.movingVariance.read(), a.epsilon))
      )
      const kernel = a.kernel.read() as tf.Tensor4D
      // Depthwise kernel [kh, kw, in, mult]: output channel in*mult + m, so the scale is reshaped to [in, mult].
      const filter = tf.mul(kernel, a.depthwise ? tf.reshape(scale, kernel.shape.slice(2)) : scale) as tf.Tensor4D
      const shift = tf.mul(a.convBias ? tf.sub(a.convBias.read(), mean) : tf.neg(mean), scale)
      const bias = a.beta ? tf.add(a.beta.read(), shift) : shift
      const pad: Pad = typeof a.padding === 'string' ? a.padding : [[0, 0], a.padding[0], a.padding[1], [0, 0]]
      return fusedConvWithGradient(x, filter, bias as tf.Tensor1D, {
        depthwise: a.depthwise,
        strides: a.strides,
        pad,
        activation: a.activation
      })
    })
  }

  override getConfig(): tf.serialization.ConfigDict {
    // Training-time only: never saved (the source model is what gets saved and exported).
    return { ...super.getConfig(), depthwise: this.a.depthwise, activation: this.a.activation }
  }
}

interface ConvOp {
  depthwise: boolean
  strides: [number, number]
  pad: Pad
  activation: FusedActivation
}

/**
 * act(conv(x, filter) + bias) with its own gradient: tfjs' fused conv gradient does not take relu6, and this one
 * masks dy once by the output (0 < y, and y < 6 for relu6: a unit clipped at 6 passes no gradient).
 */
export function fusedConvWithGradient(x: tf.Tensor4D, filter: tf.Tensor4D, bias: tf.Tensor1D, op: ConvOp): tf.Tensor4D {
  const f = tf.customGrad((...args: (tf.Tensor | ((t: tf.Tensor[]) => void))[]) => {
    const [xi, fi, bi] = args as [tf.Tensor4D, tf.Tensor4D, tf.Tensor1D]
    const save = args[3] as (t: tf.Tensor[]) => void
    // The kernel itself: tf.fused.* would split into conv, add and activation while a gradient is being taken.
    const y = tf
      .engine()
      .runKernel(op.depthwise ? tf.FusedDepthwiseConv2D : tf.FusedConv2D, { x: xi, filter: fi, bias: bi }, {
        strides: op.strides,
        pad: op.pad,
        dataFormat: 'NHWC',
        dilations: [1, 1],
        activation: op.activation,
        leakyreluAlpha: 0
      } as unknown as tf.NamedAttrMap) as tf.Tensor4D
    save([xi, fi, y])
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sf, sy] = saved as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D]
        const dyAct = activationGrad(dy as tf.Tensor4D, sy, op.activation)
        const attrs = { strides: op.strides, pad: op.pad, dataFormat: 'NHWC', dilations: [1, 1] }
        const e = tf.engine()
        const dx = op.depthwise
          ? e.runKernel(tf.DepthwiseConv2dNativeBackpropInput, { dy: dyAct, filter: sf }, {
              ...attrs,
              inputShape: sx.shape
            } as unknown as tf.NamedAttrMap)
          : e.runKernel(tf.Conv2DBackpropInput, { dy: dyAct, filter: sf }, {
              ...attrs,
              inputShape: sx.shape
            } as unknown as tf.NamedAttrMap)
        const df = op.depthwise
          ? e.runKernel(tf.DepthwiseConv2dNativeBackpropFilter, { x: sx, dy: dyAct }, {
              ...attrs,
              filterShape: sf.shape
            } as unknown as tf.NamedAttrMap)
          : e.runKernel(tf.Conv2DBackpropFilter, { x: sx, dy: dyAct }, {
              ...attrs,
              filterShape: sf.shape
            } as unknown as tf.NamedAttrMap)
        return [dx as tf.Tensor, df as tf.Tensor, channelSum(dyAct)]
      }
    }
  })
  return f(x, filter, bias) as tf.Tensor4D
}

function activationGrad(dy: tf.Tensor4D, y: tf.Tensor4D, activation: FusedActivation): tf.Tensor4D {
  if (activation === 'linear') return dy
  // Below 6 by one float32 step: y == 6 means clipped.
  const hi = activation === 'relu6' ? BELOW_SIX : Infinity
  if (hasKernel(MASK_GRAD) && dy.dtype === 'float32')
    return tf.engine().runKernel(MASK_GRAD, { x: y, dy }, {
      lo: 0,
      hi,
      loInclusive: false
    } as unknown as tf.NamedAttrMap) as tf.Tensor4D
  return tf.tidy(() => {
    const pass = activation === 'relu6' ? tf.logicalAnd(tf.greater(y, 0), tf.less(y, 6)) : tf.greater(y, 0)
    return tf.mul(dy, tf.cast(pass, 'float32'))
  })
}

/** Sum over every axis but the channels (wasm's Sum transposes first: 56 ms a step for the upper part). */
function channelSum(t: tf.Tensor4D): tf.Tensor1D {
  if (!hasKernel(CHANNEL_SUMS)) return tf.sum(t, [0, 1, 2])
  const [sum, sumSquares] = nativeChannelSums(t, t)
  sumSquares.dispose()
  return sum
}

const BELOW_SIX = 5.999999523162842 // the float32 just below 6

function outSize(size: number | null, axis: 0 | 1, a: LiveFusedConvArgs): number | null {
  if (size === null) return null
  const k = a.kernel.shape[axis] as number
  const s = a.strides[axis]
  if (a.padding === 'same') return Math.ceil(size / s)
  if (a.padding === 'valid') return Math.ceil((size - k + 1) / s)
  const [before, after] = a.padding[axis]
  return Math.floor((size + before + after - k) / s) + 1
}
