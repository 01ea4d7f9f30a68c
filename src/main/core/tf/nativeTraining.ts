/**
 * The rest of a fine-tuning step on oneDNN's side (native/dnnl): the elementwise work that the wasm backend
 * runs on one core with several passes each.
 *
 * - FusedBatchNorm (inference BN in the trainable upper part): one pass y = x * s + t, s and t per channel.
 * - Its gradient's per-channel sums of dy and dy * x: kernel 'TuneLabChannelSums' (used by batchNormGrad.ts).
 * - The gradients of Relu, Relu6 and ClipByValue (Keras' ReLU(6) is Relu then ClipByValue): one masked copy
 *   of dy each (kernel 'TuneLabMaskGrad') instead of Step/GreaterEqual/LessEqual/LogicalAnd/Select/Multiply.
 *
 * Gradients are global in tfjs (per kernel, not per backend), so the replacements fall back to the original
 * gradient on every backend that lacks the native kernels.
 */
import * as tf from '@tensorflow/tfjs'
import type { DnnlAddon } from '../native/dnnl'
import { replaceWasmKernel, wasmBackendOf, type KernelArgs } from './wasmKernels'

export const CHANNEL_SUMS = 'TuneLabChannelSums'
export const MASK_GRAD = 'TuneLabMaskGrad'
export const ADAM_UPDATE = 'TuneLabAdamUpdate'
export const MASK_GRAD_SUMS = 'TuneLabMaskGradSums'

/** True when the active backend has the native kernel `name` (so a gradient may call it). */
export function hasKernel(name: string): boolean {
  return tf.getKernel(name, tf.getBackend()) !== undefined
}

/** Per-channel [sum(dy), sum(dy * x)] over every axis but the last, by the native kernel. */
export function nativeChannelSums(dy: tf.Tensor, x: tf.Tensor): [tf.Tensor1D, tf.Tensor1D] {
  return tf.engine().runKernel(CHANNEL_SUMS, { dy, x }, {}) as unknown as [tf.Tensor1D, tf.Tensor1D]
}

function maskGrad(x: tf.Tensor, dy: tf.Tensor, lo: number, hi: number, loInclusive: boolean): tf.Tensor {
  return tf.engine().runKernel(MASK_GRAD, { x, dy }, { lo, hi, loInclusive } as unknown as tf.NamedAttrMap) as tf.Tensor
}

/** Scalars of one Adam step, each already a float32 value as tfjs' own ops would use it. */
export interface AdamAttrs {
  beta1: number
  oneMinusBeta1: number
  beta2: number
  oneMinusBeta2: number
  /** 1 - beta1^t and 1 - beta2^t. */
  c1: number
  c2: number
  epsilon: number
  negLr: number
}

let registered = false

/** Register the kernels (backend 'wasm') and the gradients that use them. Idempotent; before activation. */
export function registerNativeTrainingKernels(addon: DnnlAddon): void {
  if (registered) return
  registerBatchNormKernel(addon)
  tf.registerKernel({
    kernelName: CHANNEL_SUMS,
    backendName: 'wasm',
    kernelFunc: (args) => {
      const { dy, x } = args.inputs as Record<string, tf.TensorInfo>
      const c = dy!.shape[dy!.shape.length - 1]!
      const b = wasmBackendOf(args)
      const sumDy = b.makeOutput([c], 'float32')
      const sumDyX = b.makeOutput([c], 'float32')
      addon.channelSums(
        b.typedArrayFromHeap(dy!),
        b.typedArrayFromHeap(x!),
        b.typedArrayFromHeap(sumDy),
        b.typedArrayFromHeap(sumDyX)
      )
      return [sumDy, sumDyX]
    }
  })
  tf.registerKernel({
    kernelName: MASK_GRAD,
    backendName: 'wasm',
    kernelFunc: (args) => {
      const { x, dy } = args.inputs as Record<string, tf.TensorInfo>
      const a = args.attrs as unknown as { lo: number; hi: number; loInclusive: boolean }
      const b = wasmBackendOf(args)
      const out = b.makeOutput([...dy!.shape], 'float32')
      addon.maskGrad(
        b.typedArrayFromHeap(x!),
        b.typedArrayFromHeap(dy!),
        a.lo,
        a.hi,
        a.loInclusive,
        b.typedArrayFromHeap(out)
      )
      return out
    }
  })
  const maskSums = addon.maskGradSums?.bind(addon)
  if (maskSums) {
    tf.registerKernel({
      kernelName: MASK_GRAD_SUMS,
      backendName: 'wasm',
      kernelFunc: (args) => {
        const { y, dy } = args.inputs as Record<string, tf.TensorInfo>
        const a = args.attrs as unknown as { lo: number; hi: number }
        const b = wasmBackendOf(args)
        const out = b.makeOutput([...dy!.shape], 'float32')
        const sums = b.makeOutput([dy!.shape[dy!.shape.length - 1]!], 'float32')
        maskSums(
          b.typedArrayFromHeap(y!),
          b.typedArrayFromHeap(dy!),
          a.lo,
          a.hi,
          b.typedArrayFromHeap(out),
          b.typedArrayFromHeap(sums)
        )
        return [out, sums]
      }
    })
  }
  const adam = addon.adamUpdate?.bind(addon)
  if (adam) {
    tf.registerKernel({
      kernelName: ADAM_UPDATE,
      backendName: 'wasm',
      kernelFunc: (args) => {
        const { w, m, v, g } = args.inputs as Record<string, tf.TensorInfo>
        const a = args.attrs as unknown as AdamAttrs
        const b = wasmBackendOf(args)
        const outs = [w!, m!, v!].map((t) => b.makeOutput([...t.shape], 'float32'))
        const [wOut, mOut, vOut] = outs.map((t) => b.typedArrayFromHeap(t))
        adam(
          b.typedArrayFromHeap(w!),
          b.typedArrayFromHeap(m!),
          b.typedArrayFromHeap(v!),
          b.typedArrayFromHeap(g!),
          wOut!,
          mOut!,
          vOut!,
          a.beta1,
          a.oneMinusBeta1,
          a.beta2,
          a.oneMinusBeta2,
          a.c1,
          a.c2,
          a.epsilon,
          a.negLr
        )
        return outs
      }
    })
  }
  overrideGradient(tf.Relu, ['x'], (dy, [x]) => maskGrad(x!, dy, 0, Infinity, false))
  overrideGradient(tf.Relu6, ['x'], (dy, [x]) => maskGrad(x!, dy, 0, 6, false))
  overrideGradient(tf.ClipByValue, ['x'], (dy, [x], attrs) => {
    const { clipValueMin, clipValueMax } = attrs as unknown as { clipValueMin: number; clipValueMax: number }
    return maskGrad(x!, dy, clipValueMin, clipValueMax, true)
  })
  registered = true
}

function overrideGradient(
  kernelName: string,
  inputsToSave: string[],
  dx: (dy: tf.Tensor, saved: tf.Tensor[], attrs: tf.NamedAttrMap) => tf.Tensor
): void {
  const original = tf.getGradient(kernelName)
  if (!original) throw new Error(`registerNativeTrainingKernels: tfjs-core has no ${kernelName} gradient to replace`)
  tf.registerGradient({
    kernelName,
    inputsToSave,
    gradFunc: (dy, saved, attrs) => {
      const dyT = Array.isArray(dy) ? dy[0]! : dy
      if (!hasKernel(MASK_GRAD) || dyT.dtype !== 'float32' || saved[0]?.dtype !== 'float32')
        return original.gradFunc(dy, saved, attrs)
      return { x: () => dx(dyT, saved, attrs) }
    }
  })
}

function registerBatchNormKernel(addon: DnnlAddon): void {
  const previous = tf.getKernel(tf.FusedBatchNorm, 'wasm')
  if (!previous)
    throw new Error(
      "registerNativeTrainingKernels: the wasm backend is not loaded (import '@tensorflow/tfjs-backend-wasm' first)"
    )
  const kernelFunc = (args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] => {
    const { x, mean, variance, offset, scale } = args.inputs as Record<string, tf.TensorInfo | undefined>
    const c = x!.shape[x!.shape.length - 1]!
    const perChannel = (t: tf.TensorInfo | undefined): boolean => !t || (t.shape.length === 1 && t.shape[0] === c)
    if (x!.dtype !== 'float32' || ![mean, variance, offset, scale].every(perChannel) || !mean || !variance)
      return previous.kernelFunc(args)
    const eps = (args.attrs as unknown as { varianceEpsilon: number }).varianceEpsilon
    const b = wasmBackendOf(args)
    const out = b.makeOutput([...x!.shape], 'float32')
    const m = b.typedArrayFromHeap(mean)
    const v = b.typedArrayFromHeap(variance)
    const g = scale ? b.typedArrayFromHeap(scale) : null
    const beta = offset ? b.typedArrayFromHeap(offset) : null
    const s = new Float32Array(c)
    const t = new Float32Array(c)
    for (let i = 0; i < c; i++) {
      s[i] = (g ? g[i]! : 1) / Math.sqrt(v[i]! + eps)
      t[i] = (beta ? beta[i]! : 0) - m[i]! * s[i]!
    }
    addon.affineChannels(b.typedArrayFromHeap(x!), s, t, b.typedArrayFromHeap(out))
    return out
  }
  replaceWasmKernel(tf.FusedBatchNorm, () => kernelFunc)
}
