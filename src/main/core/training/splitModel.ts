// Split a functional LayersModel at a Keras layer index N into lower (layers < N) and upper (layers >= N).
// Residual connections can make several tensors cross the cut: all of them become the lower model's
// outputs and the upper model's inputs, in the same order. Both halves reuse the original layer objects.
import * as tf from '@tensorflow/tfjs'

export interface SplitModel {
  /** Input -> boundary tensors; null when N = 1 (nothing below the cut but the InputLayer). */
  lower: tf.LayersModel | null
  /** Boundary tensors -> the original output. */
  upper: tf.LayersModel
  /** Shapes of the boundary tensors (batch dim null). */
  boundaryShapes: (number | null)[][]
  at: number
}

type Layer = tf.layers.Layer

function firstNode(layer: Layer): {
  inputTensors: tf.SymbolicTensor[]
  outputTensors: tf.SymbolicTensor[]
  callArgs?: Record<string, unknown>
} {
  const node = layer.inboundNodes[0]
  if (!node) throw new Error(`split: layer '${layer.name}' has no inbound node (not part of a functional graph)`)
  return node as unknown as {
    inputTensors: tf.SymbolicTensor[]
    outputTensors: tf.SymbolicTensor[]
    callArgs?: Record<string, unknown>
  }
}

/** The tensors produced below layer `at` and read at or above it (what crosses the cut), in a stable order. */
export function cutTensors(model: tf.LayersModel, at: number): tf.SymbolicTensor[] {
  const layers = model.layers
  if (!Number.isInteger(at) || at < 1 || at >= layers.length) {
    throw new Error(
      `fineTuneAt: layer index must be an integer in [1, ${layers.length - 1}] for '${model.name}', got ${at}`
    )
  }
  const index = new Map<Layer, number>(layers.map((l, i) => [l, i]))
  const indexOf = (l: Layer): number => {
    const i = index.get(l)
    if (i === undefined) throw new Error(`split: layer '${l.name}' is not in model '${model.name}'`)
    return i
  }

  // Tensors produced below the cut and consumed at or above it.
  const boundary: tf.SymbolicTensor[] = []
  const seen = new Set<number>()
  for (let i = at; i < layers.length; i++) {
    const layer = layers[i] as Layer
    for (const t of firstNode(layer).inputTensors) {
      if (indexOf(t.sourceLayer as Layer) < at && !seen.has(t.id)) {
        seen.add(t.id)
        boundary.push(t)
      }
    }
  }
  for (const out of model.outputs) {
    if (indexOf(out.sourceLayer as Layer) < at)
      throw new Error(`fineTuneAt: ${at} is above the model output layer '${out.sourceLayer.name}'`)
  }
  return boundary
}

export function splitModelAt(model: tf.LayersModel, at: number): SplitModel {
  const layers = model.layers
  const boundary = cutTensors(model, at)

  const onlyInputs = boundary.every((t) => model.inputs.some((inp) => inp.id === t.id))
  const lower = onlyInputs
    ? null
    : tf.model({ inputs: model.inputs, outputs: boundary, name: `${model.name}_below_${at}` })

  const mapped = new Map<number, tf.SymbolicTensor>()
  const upperInputs = boundary.map((t, k) => {
    const inp = tf.input({ shape: t.shape.slice(1) as number[], name: `${model.name}_cut${at}_${k}` })
    mapped.set(t.id, inp)
    return inp
  })
  let pending = layers.slice(at) as Layer[]
  while (pending.length > 0) {
    const next: Layer[] = []
    for (const layer of pending) {
      const node = firstNode(layer)
      const ins = node.inputTensors.map((t) => mapped.get(t.id))
      if (ins.some((t) => t === undefined)) {
        next.push(layer)
        continue
      }
      const args = ins as tf.SymbolicTensor[]
      const out = layer.apply(args.length === 1 ? (args[0] as tf.SymbolicTensor) : args, node.callArgs ?? {})
      const outs = Array.isArray(out) ? out : [out]
      node.outputTensors.forEach((t, k) => mapped.set(t.id, outs[k] as tf.SymbolicTensor))
    }
    if (next.length === pending.length)
      throw new Error(`split: cannot order layers above ${at} (first stuck: '${next[0]?.name}')`)
    pending = next
  }
  const outputs = model.outputs.map((t) => {
    const m = mapped.get(t.id)
    if (!m) throw new Error(`split: output '${t.name}' not reachable from the cut at ${at}`)
    return m
  })
  const upper = tf.model({ inputs: upperInputs, outputs, name: `${model.name}_from_${at}` })
  return { lower, upper, boundaryShapes: boundary.map((t) => t.shape.slice() as (number | null)[]), at }
}
