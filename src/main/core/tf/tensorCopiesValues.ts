import * as tf from '@tensorflow/tfjs'

/**
 * Whether tf.tensor(values) copies the values on the current backend, so the caller may reuse the array for the
 * next batch: WebAssembly writes them into its heap at once; cpu and tfjs-node keep a reference to the array.
 */
export function tensorCopiesValues(): boolean {
  return tf.getBackend() === 'wasm'
}
