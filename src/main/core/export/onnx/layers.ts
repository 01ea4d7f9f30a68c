// TF.js layers -> ONNX nodes (NCHW inside the graph). Each Conv2D / DepthwiseConv2D whose only reader is an
// inference-mode BatchNormalization gets that BatchNorm folded into its weights and bias; a ZeroPadding2D whose
// only reader is a convolution becomes that Conv's pads. BatchNorms that cannot be folded (ResNetV2's
// pre-activation BN after an Add) become a per-channel Mul + Add with their statistics folded into two constants.
import type * as tf from '@tensorflow/tfjs'
import type { GraphBuilder } from './graph'

type Sym = tf.SymbolicTensor
type LayerNode = tf.layers.Layer['inboundNodes'][number]
type Pads2 = [[number, number], [number, number]]

const CONVS = new Set(['Conv2D', 'DepthwiseConv2D', 'TuneLabFusedConv'])

/** The node through which `layer` takes part in `model` (a layer may belong to several models). */
function modelNode(model: tf.LayersModel, layer: tf.layers.Layer): LayerNode {
  const keys = (model as unknown as { containerNodes?: Set<string> }).containerNodes
  const nodes = layer.inboundNodes.filter((_, i) => !keys || keys.has(`${layer.name}_ib-${i}`))
  if (nodes.length !== 1)
    throw new Error(
      `onnx export: layer '${layer.name}' is applied ${nodes.length} times in model '${model.name}'; shared layers are not supported`
    )
  return nodes[0]!
}

function weight(layer: tf.layers.Layer, suffix: string): { shape: number[]; data: Float32Array } | null {
  const v = layer.weights.find((w) => w.originalName.endsWith(`/${suffix}`) || w.originalName === suffix)
  if (!v) return null
  const t = v.read()
  return { shape: t.shape, data: t.dataSync() as Float32Array }
}

function required(layer: tf.layers.Layer, suffix: string): { shape: number[]; data: Float32Array } {
  const w = weight(layer, suffix)
  if (!w) throw new Error(`onnx export: layer '${layer.name}' has no '${suffix}' weight`)
  return w
}

function pair(v: unknown): [number, number] {
  return Array.isArray(v) ? [Number(v[0]), Number(v[1] ?? v[0])] : [Number(v ?? 1), Number(v ?? 1)]
}

function spatialShape(s: Sym): [number, number] {
  const [, h, w] = s.shape
  if (typeof h !== 'number' || typeof w !== 'number')
    throw new Error(`onnx export: tensor '${s.name}' has unknown spatial size ${JSON.stringify(s.shape)}`)
  return [h, w]
}

/** TF 'same' padding for one axis: (before, after). */
function samePad(size: number, kernel: number, stride: number): [number, number] {
  const out = Math.ceil(size / stride)
  const total = Math.max((out - 1) * stride + kernel - size, 0)
  return [Math.floor(total / 2), total - Math.floor(total / 2)]
}

function zeroPadding(layer: tf.layers.Layer): Pads2 {
  const p = layer.getConfig()['padding']
  if (Array.isArray(p) && Array.isArray(p[0])) return [pair(p[0]), pair(p[1])]
  const [a, b] = pair(p)
  return [
    [a, a],
    [b, b]
  ]
}

interface BnAffine {
  scale: Float64Array
  shift: Float64Array
}

/** y = x * scale + shift per channel, from a BatchNormalization's inference statistics. */
function bnAffine(bn: tf.layers.Layer): BnAffine {
  const eps = Number(bn.getConfig()['epsilon'] ?? 1e-3)
  const mean = required(bn, 'moving_mean').data
  const variance = required(bn, 'moving_variance').data
  const gamma = weight(bn, 'gamma')?.data
  const beta = weight(bn, 'beta')?.data
  const scale = new Float64Array(mean.length)
  const shift = new Float64Array(mean.length)
  for (let c = 0; c < mean.length; c++) {
    scale[c] = (gamma ? gamma[c]! : 1) / Math.sqrt(variance[c]! + eps)
    shift[c] = (beta ? beta[c]! : 0) - mean[c]! * scale[c]!
  }
  return { scale, shift }
}

export interface ConvertReport {
  folded: string[]
  affineBatchNorms: string[]
  absorbedPadding: string[]
}

/**
 * Emits the nodes of `model` into g. `input` is the ONNX name of the model input, already preprocessed and
 * in NCHW. Returns the ONNX name of the model output: NCHW for a 4-D output, [N, units] for a 2-D one.
 */
export function convertLayers(
  model: tf.LayersModel,
  g: GraphBuilder,
  input: string
): { output: string; rank: number; report: ConvertReport } {
  if (model.inputs.length !== 1 || model.outputs.length !== 1)
    throw new Error(
      `onnx export: the model must have one input and one output, has ${model.inputs.length} and ${model.outputs.length}`
    )
  const nodeOf = new Map<tf.layers.Layer, LayerNode>()
  for (const l of model.layers) nodeOf.set(l, modelNode(model, l))
  const readers = new Map<number, tf.layers.Layer[]>()
  for (const l of model.layers)
    for (const t of nodeOf.get(l)!.inputTensors) readers.set(t.id, [...(readers.get(t.id) ?? []), l])
  const outputIds = new Set(model.outputs.map((t) => t.id))
  const soleReader = (t: Sym): tf.layers.Layer | null => {
    const r = readers.get(t.id) ?? []
    return r.length === 1 && !outputIds.has(t.id) ? r[0]! : null
  }
  const names = new Map<number, string>()
  const nameOf = (t: Sym, by: tf.layers.Layer): string => {
    const n = names.get(t.id)
    if (n === undefined) throw new Error(`onnx export: internal error: input of '${by.name}' was not converted`)
    return n
  }
  const report: ConvertReport = { folded: [], affineBatchNorms: [], absorbedPadding: [] }
  const skip = new Set<tf.layers.Layer>()
  const extraPads = new Map<tf.layers.Layer, Pads2>()

  const activation = (x: string, act: string, base: string): string => {
    switch (act) {
      case 'linear':
        return x
      case 'relu':
        return g.node('Relu', [x], base)
      case 'relu6':
        return g.node('Clip', [x, g.floats(`${base}_min`, [], [0]), g.floats(`${base}_max`, [], [6])], base)
      case 'sigmoid':
        return g.node('Sigmoid', [x], base)
      case 'softmax':
        return g.node('Softmax', [x], base, { axis: -1 })
      case 'tanh':
        return g.node('Tanh', [x], base)
      default:
        throw new Error(`onnx export: activation '${act}' is not supported`)
    }
  }

  for (const layer of model.layers) {
    const node = nodeOf.get(layer)!
    const out = node.outputTensors[0]!
    const cls = layer.getClassName()
    if (cls === 'InputLayer') {
      names.set(out.id, input)
      continue
    }
    if (skip.has(layer)) continue
    const inSym = node.inputTensors[0]!
    const x = (): string => nameOf(inSym, layer)
    const c = layer.getConfig()
    switch (cls) {
      case 'ZeroPadding2D': {
        const pads = zeroPadding(layer)
        const reader = soleReader(out)
        if (
          reader &&
          CONVS.has(reader.getClassName()) &&
          (reader.getClassName() === 'TuneLabFusedConv' || reader.getConfig()['padding'] === 'valid')
        ) {
          extraPads.set(reader, pads)
          names.set(out.id, x())
          report.absorbedPadding.push(layer.name)
        } else {
          const p = g.int64s(`${layer.name}_pads`, [0, 0, pads[0][0], pads[1][0], 0, 0, pads[0][1], pads[1][1]])
          names.set(out.id, g.node('Pad', [x(), p], layer.name, { mode: 'constant' }))
        }
        break
      }
      case 'Conv2D':
      case 'DepthwiseConv2D':
      case 'TuneLabFusedConv':
        convert(layer, node)
        break
      case 'BatchNormalization': {
        const axis = c['axis']
        if (!(axis === -1 || axis === inSym.shape.length - 1) || inSym.shape.length !== 4)
          throw new Error(
            `onnx export: BatchNorm '${layer.name}' normalises axis ${String(axis)} of a rank-${inSym.shape.length} tensor; only the channel axis of images is supported`
          )
        const { scale, shift } = bnAffine(layer)
        const C = scale.length
        const mul = g.node(
          'Mul',
          [x(), g.floats(`${layer.name}_scale`, [C, 1, 1], Float32Array.from(scale))],
          `${layer.name}_mul`
        )
        names.set(
          out.id,
          g.node('Add', [mul, g.floats(`${layer.name}_shift`, [C, 1, 1], Float32Array.from(shift))], layer.name)
        )
        report.affineBatchNorms.push(layer.name)
        break
      }
      case 'ReLU': {
        if (Number(c['negativeSlope'] ?? 0) !== 0 || Number(c['threshold'] ?? 0) !== 0)
          throw new Error(`onnx export: ReLU '${layer.name}' with a slope or threshold is not supported`)
        const max = c['maxValue']
        if (max === null || max === undefined) names.set(out.id, g.node('Relu', [x()], layer.name))
        else
          names.set(
            out.id,
            g.node(
              'Clip',
              [x(), g.floats(`${layer.name}_min`, [], [0]), g.floats(`${layer.name}_max`, [], [Number(max)])],
              layer.name
            )
          )
        break
      }
      case 'Activation':
        names.set(out.id, activation(x(), String(c['activation']), layer.name))
        break
      case 'Add': {
        const ins = node.inputTensors.map((t) => nameOf(t, layer))
        let acc = ins[0]!
        for (let k = 1; k < ins.length; k++)
          acc = g.node('Add', [acc, ins[k]!], k === ins.length - 1 ? layer.name : `${layer.name}_${k}`)
        names.set(out.id, acc)
        break
      }
      case 'MaxPooling2D': {
        const [kh, kw] = pair(c['poolSize'])
        const [sh, sw] = pair(c['strides'] ?? c['poolSize'])
        const [h, w] = spatialShape(inSym)
        const [pt, pb] = c['padding'] === 'same' ? samePad(h, kh, sh) : [0, 0]
        const [pl, pr] = c['padding'] === 'same' ? samePad(w, kw, sw) : [0, 0]
        names.set(
          out.id,
          g.node('MaxPool', [x()], layer.name, { kernel_shape: [kh, kw], strides: [sh, sw], pads: [pt, pl, pb, pr] })
        )
        break
      }
      case 'GlobalAveragePooling2D': {
        const pooled = g.node('GlobalAveragePool', [x()], `${layer.name}_pool`)
        names.set(out.id, g.node('Flatten', [pooled], layer.name, { axis: 1 }))
        break
      }
      case 'Dense': {
        if (inSym.shape.length !== 2)
          throw new Error(
            `onnx export: Dense '${layer.name}' on a rank-${inSym.shape.length} input is not supported (only after pooling)`
          )
        const k = required(layer, 'kernel')
        const b = c['useBias'] === false ? null : weight(layer, 'bias')
        const units = k.shape[1]!
        const inputs = [x(), g.floats(`${layer.name}_kernel`, k.shape, k.data)]
        inputs.push(g.floats(`${layer.name}_bias`, [units], b ? b.data : new Float32Array(units)))
        const act = String(c['activation'] ?? 'linear')
        const gemm = g.node('Gemm', inputs, act === 'linear' ? layer.name : `${layer.name}_linear`)
        names.set(out.id, activation(gemm, act, layer.name))
        break
      }
      case 'Dropout':
      case 'SpatialDropout2D':
      case 'GaussianNoise':
      case 'GaussianDropout':
        names.set(out.id, x()) // identity at inference
        break
      default:
        throw new Error(
          `onnx export: layer '${layer.name}' of type ${cls} is not supported (supported: Conv2D, DepthwiseConv2D, BatchNormalization, ReLU, Activation, ZeroPadding2D, Add, MaxPooling2D, GlobalAveragePooling2D, Dense, Dropout)`
        )
    }
  }

  function convert(layer: tf.layers.Layer, node: LayerNode): void {
    const c = layer.getConfig()
    const cls = layer.getClassName()
    const fused = cls === 'TuneLabFusedConv'
    const args = fused
      ? (
          layer as unknown as {
            args: { depthwise: boolean; strides: [number, number]; padding: unknown; activation: string }
          }
        ).args
      : null
    const depthwise = fused ? args!.depthwise : cls === 'DepthwiseConv2D'
    if (!fused) {
      if ((c['dataFormat'] ?? 'channelsLast') !== 'channelsLast')
        throw new Error(`onnx export: conv '${layer.name}' is channelsFirst`)
      if (pair(c['dilationRate'] ?? 1).some((d) => d !== 1))
        throw new Error(`onnx export: conv '${layer.name}' is dilated`)
    }
    const k = required(layer, fused ? 'kernel' : depthwise ? 'depthwise_kernel' : 'kernel')
    const [kh, kw, cin, cout] = k.shape as [number, number, number, number]
    const outC = depthwise ? cin * cout : cout
    // TF [kh, kw, in, out] -> ONNX [out, in, kh, kw]; depthwise [kh, kw, in, mult] -> [in * mult, 1, kh, kw].
    const W = new Float64Array(outC * (depthwise ? 1 : cin) * kh * kw)
    for (let y = 0; y < kh; y++)
      for (let xx = 0; xx < kw; xx++)
        for (let i = 0; i < cin; i++)
          for (let o = 0; o < cout; o++) {
            const v = k.data[((y * kw + xx) * cin + i) * cout + o]!
            if (depthwise) W[((i * cout + o) * kh + y) * kw + xx] = v
            else W[((o * cin + i) * kh + y) * kw + xx] = v
          }
    const useBias = fused || c['useBias'] !== false
    const bw = useBias ? weight(layer, 'bias') : null
    const B = new Float64Array(outC)
    if (bw) B.set(bw.data)
    const outSym = node.outputTensors[0]!
    let finalSym = outSym
    const reader = soleReader(outSym)
    const actName = fused ? args!.activation : String(c['activation'] ?? 'linear')
    if (!fused && actName === 'linear' && reader && reader.getClassName() === 'BatchNormalization') {
      const axis = reader.getConfig()['axis']
      if (axis === -1 || axis === 3) {
        const { scale, shift } = bnAffine(reader)
        const per = W.length / outC
        for (let o = 0; o < outC; o++) {
          for (let j = 0; j < per; j++) W[o * per + j]! *= scale[o]!
          B[o] = B[o]! * scale[o]! + shift[o]!
        }
        skip.add(reader)
        finalSym = nodeOf.get(reader)!.outputTensors[0]!
        report.folded.push(`${layer.name}+${reader.name}`)
      }
    }
    const inSym = node.inputTensors[0]!
    const [h, w] = spatialShape(inSym)
    const [sh, sw] = fused ? args!.strides : pair(c['strides'] ?? 1)
    const padding = fused ? args!.padding : c['padding']
    let pads: Pads2 = [
      [0, 0],
      [0, 0]
    ]
    if (padding === 'same') pads = [samePad(h, kh, sh), samePad(w, kw, sw)]
    else if (Array.isArray(padding)) pads = padding as Pads2
    const extra = extraPads.get(layer)
    if (extra) {
      // The absorbed ZeroPadding2D ran first; 'same' above was computed on its (padded) output, as TF does.
      pads = [
        [pads[0][0] + extra[0][0], pads[0][1] + extra[0][1]],
        [pads[1][0] + extra[1][0], pads[1][1] + extra[1][1]]
      ]
    }
    const inputs = [
      nameOf(inSym, layer),
      g.floats(`${layer.name}_W`, [outC, depthwise ? 1 : cin, kh, kw], Float32Array.from(W)),
      g.floats(`${layer.name}_B`, [outC], Float32Array.from(B))
    ]
    const conv = g.node('Conv', inputs, actName === 'linear' ? layer.name : `${layer.name}_conv`, {
      kernel_shape: [kh, kw],
      strides: [sh, sw],
      pads: [pads[0][0], pads[1][0], pads[0][1], pads[1][1]],
      dilations: [1, 1],
      group: depthwise ? cin : 1
    })
    names.set(finalSym.id, activation(conv, actName, layer.name))
  }

  const outSym = model.outputs[0]!
  const output = names.get(outSym.id)
  if (output === undefined) throw new Error(`onnx export: internal error: the model output was not converted`)
  return { output, rank: outSym.shape.length, report }
}
