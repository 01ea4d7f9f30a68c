import * as tf from '@tensorflow/tfjs'
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'

// Local stand-in until every test uses src/main/core/tf/backend.ts.
export async function useWasm(): Promise<void> {
  if (tf.getBackend() === 'wasm') return
  const dir = dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json'))
  setWasmPaths(join(dir, 'dist') + '/')
  await tf.setBackend('wasm')
  await tf.ready()
}
