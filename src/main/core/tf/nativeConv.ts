/**
 * Convolution kernels of the wasm backend replaced by oneDNN (native/dnnl, a small N-API addon built at
 * install time where libdnnl is present). oneDNN is what PyTorch runs convolutions with on CPUs: JIT-compiled
 * AVX2/AVX-512 code, all cores through OpenMP. The addon reads and writes the wasm heap in place (Float32Array
 * views), so tensors stay where the wasm backend keeps them and every other op is unchanged.
 *
 * Covered: Conv2D, FusedConv2D (bias + linear/relu/relu6), DepthwiseConv2dNative, FusedDepthwiseConv2D and the
 * four gradient kernels, NHWC with dilation 1. Anything else (NCHW, dilations, prelu/leakyrelu/elu activations,
 * fused add) goes to the kernel that was registered before.
 */
import * as tf from '@tensorflow/tfjs'
import type { DnnlAddon, NativeConvParams } from '../native/dnnl'
import { replaceWasmKernel, wasmBackendOf, type KernelArgs, type WasmBackendLike } from './wasmKernels'

interface ConvAttrs {
  strides: number | [number, number]
  pad: 'same' | 'valid' | number | tf.backend_util.ExplicitPadding
  dataFormat?: string
  dilations?: number | [number, number]
  dimRoundingMode?: 'floor' | 'round' | 'ceil'
  activation?: string
}

const ACTIVATIONS: Record<string, number> = { linear: 0, relu: 1, relu6: 2 }

/** The addon's parameters from tfjs' conv info. */
export function paramsOf(info: tf.backend_util.Conv2DInfo, depthwise: boolean, act = 0): NativeConvParams {
  return {
    n: info.batchSize,
    ih: info.inHeight,
    iw: info.inWidth,
    ic: info.inChannels,
    oh: info.outHeight,
    ow: info.outWidth,
    oc: info.outChannels,
    kh: info.filterHeight,
    kw: info.filterWidth,
    sh: info.strideHeight,
    sw: info.strideWidth,
    pt: info.padInfo.top,
    pb: info.padInfo.bottom,
    pl: info.padInfo.left,
    pr: info.padInfo.right,
    groups: depthwise ? info.inChannels : 1,
    act
  }
}

type Shape4 = [number, number, number, number]

function convInfo(
  xShape: readonly number[],
  filterShape: readonly number[],
  a: ConvAttrs,
  depthwise: boolean
): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(
    xShape as Shape4,
    filterShape as Shape4,
    a.strides,
    a.dilations ?? 1,
    a.pad,
    a.dimRoundingMode,
    depthwise
  )
}

function supported(a: ConvAttrs): boolean {
  const dil = a.dilations ?? 1
  return (a.dataFormat ?? 'NHWC') === 'NHWC' && (typeof dil === 'number' ? dil === 1 : dil.every((d) => d === 1))
}

type Impl = (args: KernelArgs, addon: DnnlAddon, backend: WasmBackendLike) => tf.TensorInfo | null

function forwardImpl(depthwise: boolean): Impl {
  return ({ inputs, attrs }, addon, backend) => {
    const a = attrs as unknown as ConvAttrs
    const { x, filter, bias } = inputs as Record<string, tf.TensorInfo | undefined>
    if (!x || !filter || !supported(a) || inputs['preluActivationWeights']) return null
    const act = ACTIVATIONS[a.activation ?? 'linear']
    if (act === undefined) return null
    if (bias && bias.shape.length !== 1) return null
    const info = convInfo(x.shape, filter.shape, a, depthwise)
    const p = paramsOf(info, depthwise, act)
    const out = backend.makeOutput(info.outShape, 'float32')
    // Views after makeOutput: its allocation may grow the wasm memory and detach older views.
    addon.conv2dForward(
      p,
      backend.typedArrayFromHeap(x),
      backend.typedArrayFromHeap(filter),
      bias ? backend.typedArrayFromHeap(bias) : null,
      backend.typedArrayFromHeap(out)
    )
    return out
  }
}

function backpropInputImpl(depthwise: boolean): Impl {
  return ({ inputs, attrs }, addon, backend) => {
    const a = attrs as unknown as ConvAttrs & { inputShape: [number, number, number, number] }
    const { dy, filter } = inputs as Record<string, tf.TensorInfo | undefined>
    if (!dy || !filter || !supported(a)) return null
    const info = convInfo(a.inputShape, filter.shape, a, depthwise)
    const out = backend.makeOutput([...a.inputShape], 'float32')
    addon.conv2dBackwardData(
      paramsOf(info, depthwise),
      backend.typedArrayFromHeap(dy),
      backend.typedArrayFromHeap(filter),
      backend.typedArrayFromHeap(out)
    )
    return out
  }
}

function backpropFilterImpl(depthwise: boolean): Impl {
  return ({ inputs, attrs }, addon, backend) => {
    const a = attrs as unknown as ConvAttrs & { filterShape: [number, number, number, number] }
    const { x, dy } = inputs as Record<string, tf.TensorInfo | undefined>
    if (!x || !dy || !supported(a)) return null
    const info = convInfo(x.shape, a.filterShape, a, depthwise)
    const out = backend.makeOutput([...a.filterShape], 'float32')
    addon.conv2dBackwardWeights(
      paramsOf(info, depthwise),
      backend.typedArrayFromHeap(x),
      backend.typedArrayFromHeap(dy),
      backend.typedArrayFromHeap(out)
    )
    return out
  }
}

const KERNELS: Array<[string, Impl]> = [
  [tf.Conv2D, forwardImpl(false)],
  [tf.FusedConv2D, forwardImpl(false)],
  [tf.DepthwiseConv2dNative, forwardImpl(true)],
  [tf.FusedDepthwiseConv2D, forwardImpl(true)],
  [tf.Conv2DBackpropInput, backpropInputImpl(false)],
  [tf.DepthwiseConv2dNativeBackpropInput, backpropInputImpl(true)],
  [tf.Conv2DBackpropFilter, backpropFilterImpl(false)],
  [tf.DepthwiseConv2dNativeBackpropFilter, backpropFilterImpl(true)]
]

const warned = new Set<string>()

function warnOnce(kernel: string, err: unknown): void {
  if (warned.has(kernel)) return
  warned.add(kernel)
  console.warn(
    `tunelab: oneDNN ${kernel} failed, using the wasm kernel instead: ${err instanceof Error ? err.message : String(err)}`
  )
}

/** The backend, with the outputs a kernel makes freed again if the kernel throws (else they would leak on the wasm heap). */
function guardedOutputs(backend: WasmBackendLike): WasmBackendLike & { made: tf.TensorInfo[] } {
  const made: tf.TensorInfo[] = []
  return {
    made,
    makeOutput: (shape, dtype) => {
      const out = backend.makeOutput(shape, dtype)
      made.push(out)
      return out
    },
    typedArrayFromHeap: (t) => backend.typedArrayFromHeap(t),
    disposeData: (id, force) => backend.disposeData(id, force)
  }
}

/**
 * Put the oneDNN kernels in front of the wasm backend's convolution kernels. Call before the wasm backend is
 * activated and after every other wasm kernel registration (initBackend does): the kernel registered before
 * stays as the fallback, and its setupFunc still runs when the backend initialises.
 */
export function registerNativeConvKernels(addon: DnnlAddon): void {
  for (const [name, impl] of KERNELS) {
    replaceWasmKernel(name, (previous) => (args) => {
      const backend = guardedOutputs(wasmBackendOf(args))
      try {
        const out = impl(args, addon, backend)
        if (out) return out
      } catch (err) {
        for (const t of backend.made) backend.disposeData(t.dataId, true)
        // A oneDNN failure (e.g. no primitive for an odd shape) must not stop training: the wasm kernel can do it.
        if (!previous) throw err
        warnOnce(name, err)
      }
      if (!previous)
        throw new Error(`${name} (wasm + oneDNN): unsupported attributes and no wasm kernel to fall back to`)
      return previous.kernelFunc(args)
    })
  }
}
