// The stock wasm Identity copies its input into a new buffer; the backends that count references (cpu, webgl)
// share the input's data instead, as the wasm backend's own Reshape does. Tensors are immutable and a variable's
// assign takes a new buffer, so sharing is safe. A fine-tuning step calls Identity ~220 times (gradients of Add,
// tape bookkeeping): ~10 % of a MobileNetV2 0.35 step from layer 100 in kernels (bench/profile.ts).
import * as tf from '@tensorflow/tfjs'
import { replaceWasmKernel } from './wasmKernels'

interface RefCountingBackend {
  incRef(dataId: tf.DataId): void
}

export function registerSharedIdentity(): void {
  replaceWasmKernel(tf.Identity, (previous) => (args) => {
    const x = args.inputs['x'] as tf.TensorInfo
    if (x.dtype === 'string' && previous) return previous.kernelFunc(args)
    ;(args.backend as unknown as RefCountingBackend).incRef(x.dataId)
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype }
  })
}
