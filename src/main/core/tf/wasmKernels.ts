/**
 * Putting our own kernels in front of the wasm backend's: shared by the JS gradient kernels (wasmGradKernels.ts)
 * and the oneDNN ones (nativeConv.ts, nativeTraining.ts).
 */
import * as tf from '@tensorflow/tfjs'

/** The parts of tfjs-backend-wasm's BackendWasm that kernels writing the wasm heap directly use. */
export interface WasmBackendLike {
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array
  disposeData(dataId: tf.DataId, force?: boolean): boolean
}

export type KernelArgs = Parameters<tf.KernelFunc>[0]

export const wasmBackendOf = (args: KernelArgs): WasmBackendLike => args.backend as unknown as WasmBackendLike

/**
 * Register `make(previous)` as the wasm kernel `name`. The kernel registered before (if any) is handed to
 * `make` as a fallback, and its setupFunc / disposeFunc stay: the engine runs setupFunc when the backend
 * initialises, and the stock kernels bind their wasm functions there.
 */
export function replaceWasmKernel(name: string, make: (previous: tf.KernelConfig | undefined) => tf.KernelFunc): void {
  const previous = tf.getKernel(name, 'wasm')
  const config: tf.KernelConfig = {
    kernelName: name,
    backendName: 'wasm',
    kernelFunc: make(previous),
    ...(previous?.setupFunc ? { setupFunc: previous.setupFunc } : {}),
    ...(previous?.disposeFunc ? { disposeFunc: previous.disposeFunc } : {})
  }
  // Unregister first: re-registering an existing key logs a warning.
  if (previous) tf.unregisterKernel(name, 'wasm')
  tf.registerKernel(config)
}
