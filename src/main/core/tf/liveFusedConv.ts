/**
 * A trainable twin of FusedConv for fine-tuning with BatchNorm in inference mode: conv + BN (+ ReLU / ReLU6)
 * as one fused convolution whose kernel and bias are recomputed from the source layers' variables on every call,
 *   s = gamma / sqrt(moving_variance + eps),  w' = w * s,  b' = beta + (b - moving_mean) * s,
 * so gradients reach the source's kernel, gamma and beta through those small per-channel ops while the
 * activations see one pass forward (oneDNN applies bias and activation in the convolution) and one masked pass
 * backward, instead of separate BatchNorm, ReLU6 and their gradient passes. The moving statistics are read once
 * (they do not change while BatchNorm is in inference mode). Built by foldBatchNorm with `shareWeights`; holds no
 * weights of its own, so disposing the folded model leaves the source's intact.
 */
import * as tf from '@tensorflow/tfjs'
import type { FusedActivation, FusedPadding } from './fusedConvLayer'
import { CHANNEL_SUMS, hasKernel, MASK_GRAD, MASK_GRAD_SUMS, nativeChannelSums } from './nativeTraining'

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

  private frozen: FrozenStats | null = null

  /** 1 / sqrt(moving_variance + eps) and -moving_mean of that: constant while BatchNorm is in inference mode. */
  private frozenStats(): FrozenStats {
    this.frozen ??= tf.tidy(() => {
      const inv = tf.rsqrt(tf.add(this.a.movingVariance.read(), this.a.epsilon)) as tf.Tensor1D
      return { inv: tf.keep(inv), shift: tf.keep(tf.mul(tf.neg(this.a.movingMean.read()), inv) as tf.Tensor1D) }
    })
    return this.frozen
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D
      const a = this.a
      const channels = a.movingMean.shape[0] as number
      const pad: Pad = typeof a.padding === 'string' ? a.padding : [[0, 0], a.padding[0], a.padding[1], [0, 0]]
      return convBatchNormAct(
        x,
        {
          kernel: a.kernel.read() as tf.Tensor4D,
          gamma: (a.gamma?.read() ?? tf.ones([channels])) as tf.Tensor1D,
          beta: (a.beta?.read() ?? tf.zeros([channels])) as tf.Tensor1D,
          convBias: (a.convBias?.read() ?? null) as tf.Tensor1D | null
        },
        this.frozenStats(),
        { depthwise: a.depthwise, strides: a.strides, pad, activation: a.activation }
      )
    })
  }

  override dispose(): ReturnType<tf.layers.Layer['dispose']> {
    if (this.frozen) tf.dispose([this.frozen.inv, this.frozen.shift])
    this.frozen = null
    return super.dispose()
  }

  override getConfig(): tf.serialization.ConfigDict {
    // Training-time only: never saved (the source model is what gets saved and exported).
    return { ...super.getConfig(), depthwise: this.a.depthwise, activation: this.a.activation }
  }
}

interface FrozenStats {
  inv: tf.Tensor1D
  shift: tf.Tensor1D
}

interface ConvOp {
  depthwise: boolean
  strides: [number, number]
  pad: Pad
  activation: FusedActivation
}

interface ConvBnWeights {
  kernel: tf.Tensor4D
  gamma: tf.Tensor1D
  beta: tf.Tensor1D
  convBias: tf.Tensor1D | null
}

/**
 * act(conv(x, kernel * s) + beta + gamma * shift (+ convBias * s)), s = gamma * inv, as one tape entry with its own
 * gradient: tfjs' fused conv gradient does not take relu6, and composing the fold from tfjs ops cost ~20 small
 * ops per layer and step (17 ms a step above layer 100 of MobileNetV2 0.35, 40 ms for 1.0). dy is masked once by
 * the output (0 < y, and y < 6 for relu6: a unit clipped at 6 passes no gradient).
 */
export function convBatchNormAct(x: tf.Tensor4D, w: ConvBnWeights, frozen: FrozenStats, op: ConvOp): tf.Tensor4D {
  const { inv, shift } = frozen
  const perChannel = (t: tf.Tensor1D, kernel: tf.Tensor4D): tf.Tensor =>
    op.depthwise ? tf.reshape(t, kernel.shape.slice(2)) : t
  const f = tf.customGrad((...args: (tf.Tensor | ((t: tf.Tensor[]) => void))[]) => {
    const [xi, kernel, gamma, beta, convBias] = args.slice(0, w.convBias ? 5 : 4) as [
      tf.Tensor4D,
      tf.Tensor4D,
      tf.Tensor1D,
      tf.Tensor1D,
      tf.Tensor1D | undefined
    ]
    const save = args[args.length - 1] as (t: tf.Tensor[]) => void
    const s = tf.mul(gamma, inv) as tf.Tensor1D
    const filter = tf.mul(kernel, perChannel(s, kernel)) as tf.Tensor4D
    let bias = tf.add(beta, tf.mul(gamma, shift)) as tf.Tensor1D
    if (convBias) bias = tf.add(bias, tf.mul(convBias, s))
    // The kernel itself: tf.fused.* would split into conv, add and activation while a gradient is being taken.
    const y = tf.engine().runKernel(op.depthwise ? tf.FusedDepthwiseConv2D : tf.FusedConv2D, { x: xi, filter, bias }, {
      ...convAttrs(op),
      activation: op.activation,
      leakyreluAlpha: 0
    } as unknown as tf.NamedAttrMap) as tf.Tensor4D
    save([xi, kernel, filter, y, s])
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sKernel, sFilter, sy, sS] = saved as [
          tf.Tensor4D,
          tf.Tensor4D,
          tf.Tensor4D,
          tf.Tensor4D,
          tf.Tensor1D
        ]
        const [dyAct, dBias] = activationGradAndSums(dy as tf.Tensor4D, sy, op.activation)
        const e = tf.engine()
        const attrs = convAttrs(op)
        const dx = e.runKernel(
          op.depthwise ? tf.DepthwiseConv2dNativeBackpropInput : tf.Conv2DBackpropInput,
          { dy: dyAct, filter: sFilter },
          { ...attrs, inputShape: sx.shape } as unknown as tf.NamedAttrMap
        ) as tf.Tensor
        const dFilter = e.runKernel(
          op.depthwise ? tf.DepthwiseConv2dNativeBackpropFilter : tf.Conv2DBackpropFilter,
          { x: sx, dy: dyAct },
          { ...attrs, filterShape: sFilter.shape } as unknown as tf.NamedAttrMap
        ) as tf.Tensor4D
        const dKernel = tf.mul(dFilter, perChannel(sS, sKernel))
        // d filter / d gamma = kernel * inv; d bias / d gamma = shift (+ convBias * inv).
        let dGamma = tf.add(tf.mul(channelDot(dFilter, sKernel, op.depthwise), inv), tf.mul(dBias, shift))
        if (convBias) dGamma = tf.add(dGamma, tf.mul(tf.mul(dBias, convBias), inv))
        const grads = [dx, dKernel, dGamma, dBias]
        if (convBias) grads.push(tf.mul(dBias, sS))
        return grads
      }
    }
  })
  const inputs = [x, w.kernel, w.gamma, w.beta, ...(w.convBias ? [w.convBias] : [])]
  return (f as (...t: tf.Tensor[]) => tf.Tensor)(...inputs) as tf.Tensor4D
}

function convAttrs(op: ConvOp): Record<string, unknown> {
  return { strides: op.strides, pad: op.pad, dataFormat: 'NHWC', dilations: [1, 1] }
}

/** Per output channel sum of a * b over a kernel's other axes (depthwise: channel = in * mult + m). */
function channelDot(a: tf.Tensor4D, b: tf.Tensor4D, depthwise: boolean): tf.Tensor1D {
  return tf.tidy(() => {
    const c = depthwise ? b.shape[2] * b.shape[3] : b.shape[3]
    const flat = (t: tf.Tensor): tf.Tensor2D => tf.reshape(t, [-1, c])
    if (!hasKernel(CHANNEL_SUMS)) return tf.sum(tf.mul(flat(a), flat(b)), 0) as tf.Tensor1D
    const [sum, dot] = nativeChannelSums(flat(a), flat(b))
    sum.dispose()
    return dot
  })
}

/** The activation's gradient and its per-channel sums (the bias gradient): one native pass where available. */
function activationGradAndSums(
  dy: tf.Tensor4D,
  y: tf.Tensor4D,
  activation: FusedActivation
): [tf.Tensor4D, tf.Tensor1D] {
  if (activation !== 'linear' && hasKernel(MASK_GRAD_SUMS) && dy.dtype === 'float32') {
    const hi = activation === 'relu6' ? BELOW_SIX : Infinity
    return tf.engine().runKernel(MASK_GRAD_SUMS, { y, dy }, { lo: 0, hi } as unknown as tf.NamedAttrMap) as [
      tf.Tensor4D,
      tf.Tensor1D
    ]
  }
  const dyAct = activationGrad(dy, y, activation)
  return [dyAct, channelSum(dyAct)]
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
