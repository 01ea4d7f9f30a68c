/**
 * Gradient kernels the stock wasm backend lacks (Conv2DBackpropFilter, DepthwiseConv2dNativeBackpropFilter,
 * DepthwiseConv2dNativeBackpropInput), plus a faster 1x1 Conv2DBackpropInput. Each is composed of ops the
 * wasm backend runs natively (slice, pad, multiply, matMul, transpose, depthwiseConv2d): tf ops called
 * inside a kernel dispatch to the active backend and are not recorded on the gradient tape.
 *
 * Layout: NHWC only. Dilation 1 only. Depthwise: channel multiplier 1 only. Padding: 'same', 'valid',
 * a number or explicit [[0,0],[t,b],[l,r],[0,0]] (all go through backend_util.computeConv2DInfo).
 */
import * as tf from '@tensorflow/tfjs'
import { registerFastBatchNormGrad } from './batchNormGrad'
import { replaceWasmKernel, type KernelArgs } from './wasmKernels'
import { registerSharedIdentity } from './wasmIdentity'

type Tensor4D = tf.Tensor4D
type PadAttr = 'same' | 'valid' | number | tf.backend_util.ExplicitPadding
type RoundingMode = 'floor' | 'round' | 'ceil' | undefined

interface ConvAttrs {
  strides: number | [number, number]
  pad: PadAttr
  dataFormat?: 'NHWC' | 'NCHW'
  dilations?: number | [number, number]
  dimRoundingMode?: RoundingMode
}

let registered = false

/**
 * Register the kernels for backend 'wasm' (and the leaner FusedBatchNorm gradient, which is global).
 * Idempotent; call after '@tensorflow/tfjs-backend-wasm' is imported (initBackend does).
 */
export function registerWasmGradKernels(): void {
  if (registered) return
  registerFastBatchNormGrad()
  const nativeBackpropInput = tf.getKernel(tf.Conv2DBackpropInput, 'wasm')
  if (!nativeBackpropInput) {
    throw new Error(
      "registerWasmGradKernels: the wasm backend is not loaded (import '@tensorflow/tfjs-backend-wasm' first)"
    )
  }
  replaceWasmKernel(tf.Conv2DBackpropFilter, () => (a) => conv2DBackpropFilterKernel(a))
  replaceWasmKernel(tf.DepthwiseConv2dNativeBackpropFilter, () => (a) => depthwiseBackpropFilterKernel(a))
  replaceWasmKernel(tf.DepthwiseConv2dNativeBackpropInput, () => (a) => depthwiseBackpropInputKernel(a))
  // The native kernel stays for everything but 1x1 (replaceWasmKernel keeps its setupFunc, which binds its wasm function).
  replaceWasmKernel(
    tf.Conv2DBackpropInput,
    () => (a) => conv2DBackpropInput1x1Kernel(a) ?? nativeBackpropInput.kernelFunc(a)
  )
  registerSharedIdentity()
  registered = true
}

// ---------------------------------------------------------------------------------------------------------
// Kernel entry points: unpack inputs/attrs, validate, delegate to the tensor-level functions below.

function conv2DBackpropFilterKernel({ inputs, attrs }: KernelArgs): tf.Tensor {
  const x = asTensor4D(inputs['x'], 'Conv2DBackpropFilter', 'x')
  const dy = asTensor4D(inputs['dy'], 'Conv2DBackpropFilter', 'dy')
  const a = attrs as unknown as ConvAttrs & { filterShape: [number, number, number, number] }
  checkLayout('Conv2DBackpropFilter', a)
  return conv2dFilterGrad(x, dy, a.filterShape, a.strides, a.pad, a.dimRoundingMode)
}

function depthwiseBackpropFilterKernel({ inputs, attrs }: KernelArgs): tf.Tensor {
  const x = asTensor4D(inputs['x'], 'DepthwiseConv2dNativeBackpropFilter', 'x')
  const dy = asTensor4D(inputs['dy'], 'DepthwiseConv2dNativeBackpropFilter', 'dy')
  const a = attrs as unknown as ConvAttrs & { filterShape: [number, number, number, number] }
  checkLayout('DepthwiseConv2dNativeBackpropFilter', a)
  checkMultiplier('DepthwiseConv2dNativeBackpropFilter', a.filterShape)
  return depthwiseFilterGrad(x, dy, a.filterShape, a.strides, a.pad, a.dimRoundingMode)
}

function depthwiseBackpropInputKernel({ inputs, attrs }: KernelArgs): tf.Tensor {
  const dy = asTensor4D(inputs['dy'], 'DepthwiseConv2dNativeBackpropInput', 'dy')
  const filter = asTensor4D(inputs['filter'], 'DepthwiseConv2dNativeBackpropInput', 'filter')
  const a = attrs as unknown as ConvAttrs & { inputShape: [number, number, number, number] }
  checkLayout('DepthwiseConv2dNativeBackpropInput', a)
  checkMultiplier('DepthwiseConv2dNativeBackpropInput', filter.shape)
  return depthwiseInputGrad(a.inputShape, dy, filter, a.strides, a.pad, a.dimRoundingMode)
}

/** 1x1, stride 1, unpadded: dx = dy · W^T, one matMul. Returns null for every other case (native kernel). */
function conv2DBackpropInput1x1Kernel(args: KernelArgs): tf.Tensor | null {
  const { inputs, attrs } = args
  const a = attrs as unknown as ConvAttrs & { inputShape: [number, number, number, number] }
  const filterInfo = inputs['filter']
  const dyInfo = inputs['dy']
  if (!filterInfo || !dyInfo || (a.dataFormat ?? 'NHWC') !== 'NHWC') return null
  const [kh, kw] = filterInfo.shape
  if (kh !== 1 || kw !== 1 || !allOnes(a.strides) || !allOnes(a.dilations ?? 1)) return null
  if (Array.isArray(a.pad) && a.pad.some(([p, q]) => p !== 0 || q !== 0)) return null
  if (typeof a.pad === 'number' && a.pad !== 0) return null
  const dy = asTensor4D(dyInfo, 'Conv2DBackpropInput', 'dy')
  const filter = asTensor4D(filterInfo, 'Conv2DBackpropInput', 'filter')
  return conv1x1InputGrad(a.inputShape, dy, filter)
}

// ---------------------------------------------------------------------------------------------------------
// Tensor-level implementations (exported for tests and benchmarks; they work on any backend).

/**
 * Filter gradient of conv2d (NHWC, dilation 1).
 * 1x1: x^T · dy, one matMul. kxk: dW[i,j,ci,co] = sum_{n,o,p} x_pad[n, o*s+i, p*s+j, ci] * dy[n,o,p,co], which is
 * itself a conv2d with x_pad as [Ci, Hp, Wp, N] (batch <-> channels) and dy as an [OH, OW, N, Co] filter dilated
 * by the stride; output [Ci, kh, kw, Co]. 2-5x faster on wasm than im2col (k*k slices + concat + matMul).
 */
export function conv2dFilterGrad(
  x: Tensor4D,
  dy: Tensor4D,
  filterShape: [number, number, number, number],
  strides: number | [number, number],
  pad: PadAttr,
  dimRoundingMode?: RoundingMode
): Tensor4D {
  const info = tf.backend_util.computeConv2DInfo(
    x.shape,
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    'channelsLast'
  )
  const [kh, kw, cin, cout] = filterShape
  checkOutShape('Conv2DBackpropFilter', dy, info)
  const { outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw } = info
  return tf.tidy(() => {
    const hp = (oh - 1) * sh + kh
    const wp = (ow - 1) * sw + kw
    const { top, left } = info.padInfo
    const xp = padOrCrop(x, [top, hp - top - info.inHeight], [left, wp - left - info.inWidth])
    if (kh === 1 && kw === 1) {
      const m = info.batchSize * oh * ow
      const cols = tf.reshape(tapSlice(xp, 0, 0, info), [m, cin])
      const dy2 = tf.reshape(dy, [m, cout])
      // wasm's matMul with a transpose flag is ~10x slower than transposing first; transpose the smaller side.
      const dw = cin <= cout ? tf.matMul(tf.transpose(cols), dy2) : tf.transpose(tf.matMul(tf.transpose(dy2), cols))
      return tf.reshape(dw, filterShape)
    }
    const xt = tf.transpose(xp, [3, 1, 2, 0]) as Tensor4D
    const f = tf.transpose(dy, [1, 2, 0, 3]) as Tensor4D
    const out = tf.conv2d(xt, f, 1, 'valid', 'NHWC', [sh, sw])
    return tf.transpose(out, [1, 2, 0, 3]) as Tensor4D
  })
}

/**
 * Filter gradient of a depthwise conv (multiplier 1). dW[i,j,c] = sum_n correlate(x_pad[n,:,:,c], dy[n,:,:,c])[i,j],
 * i.e. one depthwise conv over N*C "channels": input x_pad as [1, Hp, Wp, N*C], filter dy as [OH, OW, N*C, 1]
 * dilated by the stride, output [1, kh, kw, N*C], then a sum over N. ~3x faster on wasm than a
 * slice + multiply + reduce per tap (wasm's Slice and transposing Sum are the slow parts).
 */
export function depthwiseFilterGrad(
  x: Tensor4D,
  dy: Tensor4D,
  filterShape: [number, number, number, number],
  strides: number | [number, number],
  pad: PadAttr,
  dimRoundingMode?: RoundingMode
): Tensor4D {
  const info = tf.backend_util.computeConv2DInfo(
    x.shape,
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
    true,
    'channelsLast'
  )
  const [kh, kw, c] = filterShape
  checkOutShape('DepthwiseConv2dNativeBackpropFilter', dy, info)
  const { batchSize: n, outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw } = info
  return tf.tidy(() => {
    // Exactly the rows/cols the taps read: (out-1)*stride + k.
    const hp = (oh - 1) * sh + kh
    const wp = (ow - 1) * sw + kw
    const { top, left } = info.padInfo
    const xp = padOrCrop(x, [top, hp - top - info.inHeight], [left, wp - left - info.inWidth])
    const xt = tf.reshape(tf.transpose(xp, [1, 2, 0, 3]), [1, hp, wp, n * c]) as Tensor4D
    const f = tf.reshape(tf.transpose(dy, [1, 2, 0, 3]), [oh, ow, n * c, 1]) as Tensor4D
    const out = tf.depthwiseConv2d(xt, f, 1, 'valid', 'NHWC', [sh, sw])
    return tf.reshape(tf.sum(tf.reshape(out, [kh, kw, n, c]), 2), filterShape)
  })
}

/** Input gradient of a depthwise conv (multiplier 1): dilate dy by the stride, pad, correlate with the flipped filter. */
export function depthwiseInputGrad(
  inputShape: [number, number, number, number],
  dy: Tensor4D,
  filter: Tensor4D,
  strides: number | [number, number],
  pad: PadAttr,
  dimRoundingMode?: RoundingMode
): Tensor4D {
  const info = tf.backend_util.computeConv2DInfo(
    inputShape,
    filter.shape,
    strides,
    1,
    pad,
    dimRoundingMode,
    true,
    'channelsLast'
  )
  checkOutShape('DepthwiseConv2dNativeBackpropInput', dy, info)
  const { strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw } = info
  const [, h, w] = inputShape
  return tf.tidy(() => {
    const dilated = dilate(dy, sh, sw) // length out*s along each spatial axis (s-1 trailing zeros)
    // dx[h] = sum_k dyd[h + top - k] w[k]  ==  valid correlation of dyd padded by kh-1-top with reversed w
    const front = [kh - 1 - info.padInfo.top, kw - 1 - info.padInfo.left]
    const back = [h + kh - 1 - front[0]! - dilated.shape[1], w + kw - 1 - front[1]! - dilated.shape[2]]
    const framed = padOrCrop(dilated, [front[0]!, back[0]!], [front[1]!, back[1]!])
    return tf.depthwiseConv2d(framed, tf.reverse(filter, [0, 1]) as Tensor4D, 1, 'valid')
  })
}

/** Input gradient of a 1x1 stride-1 conv2d: dy · W^T. */
export function conv1x1InputGrad(
  inputShape: [number, number, number, number],
  dy: Tensor4D,
  filter: Tensor4D
): Tensor4D {
  const [, , cin, cout] = filter.shape
  return tf.tidy(() => {
    const dy2 = tf.reshape(dy, [-1, cout])
    const wt = tf.transpose(tf.reshape(filter, [cin, cout]))
    return tf.reshape(tf.matMul(dy2, wt), inputShape)
  })
}

// ---------------------------------------------------------------------------------------------------------
// helpers

/** x_pad[:, i::sh, j::sw, :] limited to the output size: the input pixels that meet filter tap (i, j). */
function tapSlice(xp: Tensor4D, i: number, j: number, info: tf.backend_util.Conv2DInfo): Tensor4D {
  const { outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw } = info
  const [n, , , c] = xp.shape
  if (sh === 1 && sw === 1) {
    if (i === 0 && j === 0 && xp.shape[1] === oh && xp.shape[2] === ow) return xp
    return tf.slice(xp, [0, i, j, 0], [n, oh, ow, c])
  }
  return tf.stridedSlice(
    xp,
    [0, i, j, 0],
    [n, i + (oh - 1) * sh + 1, j + (ow - 1) * sw + 1, c],
    [1, sh, sw, 1]
  ) as Tensor4D
}

/** Insert stride-1 zeros after every row/column: [n, h, w, c] -> [n, h*sh, w*sw, c]. */
function dilate(t: Tensor4D, sh: number, sw: number): Tensor4D {
  if (sh === 1 && sw === 1) return t
  const [n, h, w, c] = t.shape
  const t6 = tf.reshape(t, [n, h, 1, w, 1, c])
  const padded = tf.pad(t6, [
    [0, 0],
    [0, 0],
    [0, sh - 1],
    [0, 0],
    [0, sw - 1],
    [0, 0]
  ])
  return tf.reshape(padded, [n, h * sh, w * sw, c])
}

/** Pad (positive) or crop (negative) the two spatial axes at front/back. */
function padOrCrop(t: Tensor4D, [ht, hb]: [number, number], [wl, wr]: [number, number]): Tensor4D {
  let out = t
  if (ht < 0 || hb < 0 || wl < 0 || wr < 0) {
    const [n, h, w, c] = out.shape
    const t0 = Math.max(0, -ht)
    const l0 = Math.max(0, -wl)
    out = tf.slice(out, [0, t0, l0, 0], [n, h - t0 - Math.max(0, -hb), w - l0 - Math.max(0, -wr), c])
  }
  const p = [Math.max(0, ht), Math.max(0, hb), Math.max(0, wl), Math.max(0, wr)] as const
  if (p.some((v) => v > 0))
    out = tf.pad(out, [
      [0, 0],
      [p[0], p[1]],
      [p[2], p[3]],
      [0, 0]
    ])
  return out
}

function asTensor4D(info: tf.TensorInfo | undefined, kernel: string, name: string): Tensor4D {
  if (!info) throw new Error(`${kernel} (wasm): missing input '${name}'`)
  if (info.shape.length !== 4)
    throw new Error(`${kernel} (wasm): '${name}' must be rank 4 (NHWC), got shape [${info.shape.join(', ')}]`)
  const t = info instanceof tf.Tensor ? info : tf.engine().makeTensorFromTensorInfo(info)
  return t as Tensor4D
}

function checkLayout(kernel: string, a: ConvAttrs): void {
  if (a.dataFormat !== undefined && a.dataFormat !== 'NHWC') {
    throw new Error(`${kernel} (wasm): only NHWC is supported, got dataFormat ${a.dataFormat}`)
  }
  if (a.dilations !== undefined && !allOnes(a.dilations)) {
    throw new Error(`${kernel} (wasm): only dilation 1 is supported, got dilations ${JSON.stringify(a.dilations)}`)
  }
}

function checkMultiplier(kernel: string, filterShape: readonly number[]): void {
  if (filterShape[3] !== 1) {
    throw new Error(
      `${kernel} (wasm): only depth multiplier 1 is supported, got filter shape [${filterShape.join(', ')}]`
    )
  }
}

function checkOutShape(kernel: string, dy: Tensor4D, info: tf.backend_util.Conv2DInfo): void {
  const want = [info.batchSize, info.outHeight, info.outWidth, info.outChannels]
  if (dy.shape.some((d, i) => d !== want[i])) {
    throw new Error(`${kernel} (wasm): dy has shape [${dy.shape.join(', ')}], expected [${want.join(', ')}]`)
  }
}

function allOnes(v: number | readonly number[]): boolean {
  return typeof v === 'number' ? v === 1 : v.every((d) => d === 1)
}
