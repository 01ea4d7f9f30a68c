// Messages between ForwardPool (main thread) and forwardWorker (one per worker thread).
import type { PreprocessingSpec } from '../models/preprocessing'

/** 'pooled': global-average-pool a 4D output to [n, C]; 'raw': the model's output per image, flattened. */
export type ForwardOutput = 'pooled' | 'raw'

export interface InitMessage {
  type: 'init'
  /** modelTopology from model.save (JSON-serialisable). */
  modelTopology: object
  weightSpecs: Array<{ name: string; shape: number[]; dtype: string }>
  /** All weights concatenated as model.save lays them out; shared, read-only. */
  weights: SharedArrayBuffer
  preprocessing: PreprocessingSpec
  output: ForwardOutput
  backend: 'wasm' | 'cpu'
  wasmDir?: string
}

export interface RunMessage {
  type: 'run'
  id: number
  /** RGB uint8 [count, S, S, 3]; transferred. */
  pixels: ArrayBuffer
  count: number
}

/** Fault injection for tests: the worker thread exits at once with this code. */
export interface CrashMessage {
  type: 'crash'
  code: number
}

export type ToWorker = InitMessage | RunMessage | CrashMessage

export interface ReadyMessage {
  type: 'ready'
  backend: string
  /** [S, S, 3] of the rebuilt model. */
  inputShape: number[]
  /** Floats per image in a result. */
  outputDim: number
  /** Floats per image of each further model output (ResultMessage.extra), in model output order. */
  extraDims: number[]
}

export interface ResultMessage {
  type: 'result'
  id: number
  /** Float32 [count, outputDim]; transferred. */
  data: ArrayBuffer
  /** Float32 [count, extraDims[k]] per further model output, flattened per image; transferred. */
  extra: ArrayBuffer[]
}

export interface ErrorMessage {
  type: 'error'
  /** The run that failed; absent for an init failure. */
  id?: number
  message: string
}

export type FromWorker = ReadyMessage | ResultMessage | ErrorMessage
