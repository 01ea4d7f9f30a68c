// One forward worker: its own TF.js engine and wasm backend, the model rebuilt from topology + weights.
// Relative imports only, so the file also bundles/runs as plain JS.
import * as tf from '@tensorflow/tfjs'
import { parentPort } from 'node:worker_threads'
import { pixelsToInput } from '../models/preprocessing'
import { describeBackend, initBackend } from '../tf/backend'
// Registers the FusedConv layer class, which folded models sent to the worker use.
import '../tf/fusedConvLayer'
import type { FromWorker, InitMessage, RunMessage, ToWorker } from './protocol'
import { inferenceForward, spatialMean } from '../tf/spatialMean'

if (!parentPort) throw new Error('forwardWorker must run in a worker thread')
const port = parentPort

let model: tf.LayersModel | null = null
let init: InitMessage | null = null
let outputDim = 0
let extraDims: number[] = []

const send = (m: FromWorker, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer)
const message = (err: unknown): string => (err instanceof Error ? err.message : String(err))

async function setup(m: InitMessage): Promise<void> {
  const info = await initBackend({ prefer: m.backend, wasmDir: m.wasmDir })
  // tf.io.decodeWeights wants a plain ArrayBuffer; the copy goes into the backend anyway.
  const weightData = new Uint8Array(m.weights).slice().buffer
  model = await tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: m.modelTopology,
      weightSpecs: m.weightSpecs as tf.io.WeightsManifestEntry[],
      weightData
    })
  )
  const inShape = model.inputs[0]?.shape ?? []
  const outShape = model.outputs[0]?.shape ?? []
  if (model.inputs.length !== 1 || inShape.length !== 4 || inShape[3] !== 3)
    throw new Error(`model input must be [null,S,S,3], got ${JSON.stringify(inShape)}`)
  if (m.output === 'pooled') {
    if (outShape.length !== 4)
      throw new Error(`output 'pooled' needs a 4D feature map, the model outputs ${JSON.stringify(outShape)}`)
    outputDim = outShape[3] as number
  } else {
    outputDim = outShape.slice(1).reduce<number>((a, b) => a * (b ?? NaN), 1)
    if (!Number.isFinite(outputDim))
      throw new Error(`output 'raw' needs a fixed output shape, got ${JSON.stringify(outShape)}`)
  }
  extraDims = model.outputs.slice(1).map((t) => t.shape.slice(1).reduce<number>((a, b) => a * (b ?? NaN), 1))
  if (!extraDims.every(Number.isFinite)) throw new Error('further model outputs need fixed shapes')
  init = m
  send({
    type: 'ready',
    backend: describeBackend(info),
    inputShape: inShape.slice(1) as number[],
    outputDim,
    extraDims
  })
}

async function run(m: RunMessage): Promise<void> {
  if (!model || !init) throw new Error('worker not initialised')
  const [S] = model.inputs[0]?.shape.slice(1) as number[]
  const size = S as number
  const cfg = init
  const net = model
  const ys = tf.tidy(() => {
    const x = pixelsToInput(new Uint8Array(m.pixels), m.count, size, cfg.preprocessing)
    const outs = inferenceForward(net, x)
    const [out, ...extra] = Array.isArray(outs) ? outs : [outs]
    const main =
      cfg.output === 'pooled' ? spatialMean(out as tf.Tensor4D) : (out as tf.Tensor).reshape([m.count, outputDim])
    return [main, ...extra]
  })
  const bufs: ArrayBuffer[] = []
  try {
    for (const y of ys) {
      const data = (await y.data()) as Float32Array
      bufs.push((data.buffer.byteLength === data.byteLength ? data.buffer : data.slice().buffer) as ArrayBuffer)
    }
  } finally {
    tf.dispose(ys) // also when a read fails: the worker serves the next batch
  }
  const [data, ...extra] = bufs as [ArrayBuffer, ...ArrayBuffer[]]
  send({ type: 'result', id: m.id, data, extra }, bufs)
}

port.on('message', (m: ToWorker) => {
  switch (m.type) {
    case 'init':
      setup(m).catch((err: unknown) => send({ type: 'error', message: message(err) }))
      break
    case 'run':
      run(m).catch((err: unknown) => send({ type: 'error', id: m.id, message: message(err) }))
      break
    case 'crash':
      process.exit(m.code)
  }
})
