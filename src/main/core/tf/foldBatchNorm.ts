/**
 * Fold inference-mode BatchNormalization into the convolution that feeds it, for fast frozen forward passes.
 *
 * For a Conv2D / DepthwiseConv2D (linear activation, channels-last) whose only consumer is a
 * BatchNormalization over the channel axis:
 *   s  = gamma / sqrt(moving_variance + epsilon)           (per output channel)
 *   w' = w * s                                              (depthwise: output channel = in * multiplier + m)
 *   b' = beta + (b - moving_mean) * s                       (b = 0 without bias)
 * The pair becomes one convolution with a bias, named like the original conv; the BN layer disappears and
 * every consumer of its output reads the conv instead. Everything else is rebuilt unchanged (same names,
 * configs, trainable flags). BatchNorms that cannot be folded (e.g. ResNetV2's pre-activation BN after an
 * Add) stay as they are.
 *
 * Each folded pair becomes one FusedConv layer (fused conv + bias + activation): a ReLU / ReLU(6) that is the
 * BatchNorm's only reader is applied inside it, and a ZeroPadding2D whose only reader is the (valid-padded)
 * conv becomes its explicit padding, so those layers disappear too.
 *
 * Weights: the new model never shares Layer objects with the source (sharing would add inbound nodes to
 * the source's layers and break `layer.output` there). Unfolded weights are assigned from the source's
 * tensors (tfjs variables share the immutable buffer until one side is trained, then they diverge), so
 * the two models can be trained and disposed independently. Dispose the result with `model.dispose()`.
 */
import * as tf from '@tensorflow/tfjs'
import { FusedConv, type FusedActivation, type FusedConvArgs, type FusedPadding } from './fusedConvLayer'
import { LiveFusedConv } from './liveFusedConv'

export interface FoldBatchNormOptions {
  /**
   * Fold only BatchNorms at or below this layer (by name; its index in model.layers is the cut).
   * Layers above are rebuilt unchanged, so the part above the fine-tune cut keeps its BatchNorms.
   */
  upToLayer?: string
  /** Name of the returned model (default: `${model.name}_folded`). */
  name?: string
  /**
   * Train through the fold: each folded pair becomes a LiveFusedConv that recomputes its kernel and bias from the
   * source's variables on every call, so gradients reach the source's conv kernel, gamma and beta. Every layer
   * that is not folded must then be weightless (its weights could not be shared); otherwise this throws.
   */
  shareWeights?: boolean
}

export interface FoldReport {
  /** Conv layer name -> name of the BatchNorm folded into it, and the activation / padding layers absorbed. */
  folded: Array<{ conv: string; batchNorm: string; activation?: string; padding?: string }>
  /** BatchNorm layers kept, with why. */
  kept: Array<{ batchNorm: string; reason: string }>
}

type Sym = tf.SymbolicTensor
type LayerNode = tf.layers.Layer['inboundNodes'][number]
type ConfigDict = tf.serialization.ConfigDict

const FOLDABLE = new Set(['Conv2D', 'DepthwiseConv2D'])

/** Return a new inference model with BatchNorms folded into their convs; see the file comment. */
export function foldBatchNorm(model: tf.LayersModel, opts: FoldBatchNormOptions = {}): tf.LayersModel {
  return foldBatchNormWithReport(model, opts).model
}

class NotShareableError extends Error {}

/**
 * The trainable part above a fine-tune cut, for training with BatchNorm in inference mode: each conv + BN (+ ReLU)
 * as one LiveFusedConv on the source's variables (fine-tune step from layer 100 of MobileNetV2 0.35 @224: upper
 * part ~20 % faster). Null when a layer with weights cannot be folded (e.g. ResNetV2's pre-activation BatchNorms):
 * then train the source as it is. Dispose the result with `model.dispose()` (the source's weights stay).
 */
export function foldForTraining(model: tf.LayersModel): tf.LayersModel | null {
  try {
    return foldBatchNorm(model, { shareWeights: true, name: `${model.name}_fused` })
  } catch (err) {
    if (err instanceof NotShareableError) return null
    throw err
  }
}

/** foldBatchNorm that also says which pairs were folded and which BatchNorms were kept (and why). */
export function foldBatchNormWithReport(
  model: tf.LayersModel,
  opts: FoldBatchNormOptions = {}
): { model: tf.LayersModel; report: FoldReport } {
  const layers = model.layers
  const cut = cutIndex(model, opts.upToLayer)
  const nodeOf = new Map<tf.layers.Layer, LayerNode>()
  for (const layer of layers) nodeOf.set(layer, modelNode(model, layer))

  // Who reads each symbolic tensor inside this model (model outputs count as readers).
  const readers = new Map<number, tf.layers.Layer[]>()
  for (const layer of layers) {
    for (const t of nodeOf.get(layer)!.inputTensors) readers.set(t.id, [...(readers.get(t.id) ?? []), layer])
  }
  const outputIds = new Set(model.outputs.map((t) => t.id))

  const report: FoldReport = { folded: [], kept: [] }
  const bnFor = new Map<tf.layers.Layer, tf.layers.Layer>() // conv -> bn to fold into it
  layers.forEach((layer, index) => {
    if (layer.getClassName() !== 'BatchNormalization') return
    const why = whyNotFoldable(layer, index, cut, nodeOf, readers, outputIds)
    if (why) report.kept.push({ batchNorm: layer.name, reason: why })
    else {
      const conv = nodeOf.get(layer)!.inboundLayers[0]!
      bnFor.set(conv, layer)
      report.folded.push({ conv: conv.name, batchNorm: layer.name })
    }
  })
  const foldedBns = new Set(bnFor.values())
  const absorbed = new Set<tf.layers.Layer>() // ReLU and ZeroPadding2D layers that become part of a FusedConv
  const fuse = new Map<tf.layers.Layer, { activation: FusedActivation; act?: tf.layers.Layer; pad?: tf.layers.Layer }>()
  const soleReader = (out: Sym): tf.layers.Layer | null => {
    const r = readers.get(out.id) ?? []
    return r.length === 1 && !outputIds.has(out.id) ? r[0]! : null
  }
  for (const [conv, bn] of bnFor) {
    const entry: { activation: FusedActivation; act?: tf.layers.Layer; pad?: tf.layers.Layer } = {
      activation: 'linear'
    }
    const reader = soleReader(nodeOf.get(bn)!.outputTensors[0]!)
    const activation = reader && layers.indexOf(reader) <= cut ? fusableActivation(reader) : null
    if (reader && activation) {
      entry.activation = activation
      entry.act = reader
      absorbed.add(reader)
    }
    const producer = nodeOf.get(conv)!.inboundLayers[0]
    if (
      producer &&
      producer.getClassName() === 'ZeroPadding2D' &&
      conv.getConfig()['padding'] === 'valid' &&
      soleReader(nodeOf.get(producer)!.outputTensors[0]!) === conv
    ) {
      if ((producer.getConfig()['dataFormat'] ?? 'channelsLast') === 'channelsLast') {
        entry.pad = producer
        absorbed.add(producer)
      }
    }
    fuse.set(conv, entry)
    const line = report.folded.find((f) => f.conv === conv.name)!
    if (entry.act) line.activation = entry.act.name
    if (entry.pad) line.padding = entry.pad.name
  }

  const built: tf.layers.Layer[] = []
  try {
    const sym = new Map<number, Sym>() // source tensor id -> rebuilt tensor
    const newInputs: Sym[] = []
    for (const layer of layers) {
      const node = nodeOf.get(layer)!
      if (layer.getClassName() === 'InputLayer') {
        const src = node.outputTensors[0]!
        const input = tf.input({ batchShape: src.shape, dtype: src.dtype, name: layer.name })
        sym.set(src.id, input)
        newInputs.push(input)
        continue
      }
      if (foldedBns.has(layer) || absorbed.has(layer)) continue // its output was mapped when its conv was rebuilt
      if (layer instanceof tf.LayersModel) {
        throw new Error(
          `foldBatchNorm: layer '${layer.name}' is a nested model; fold that model on its own and rebuild the outer one around it`
        )
      }
      const bn = bnFor.get(layer)
      const fusion = fuse.get(layer)
      const inputSources = fusion?.pad ? nodeOf.get(fusion.pad)!.inputTensors : node.inputTensors
      const inputs = inputSources.map((t) => {
        const s = sym.get(t.id)
        if (!s) throw new Error(`foldBatchNorm: internal error: input of '${layer.name}' was not rebuilt`)
        return s
      })
      if (opts.shareWeights && !(bn && fusion) && layer.weights.length > 0)
        throw new NotShareableError(
          `foldBatchNorm: layer '${layer.name}' has weights and is not folded; shareWeights cannot share them`
        )
      const clone =
        bn && fusion
          ? opts.shareWeights
            ? liveFusedConvFor(layer, bn, fusion)
            : fusedConvFor(layer, fusion)
          : cloneLayer(layer, {})
      built.push(clone)
      const out = clone.apply(inputs.length === 1 ? inputs[0]! : inputs, bn ? {} : node.callArgs) as Sym | Sym[]
      const outs = Array.isArray(out) ? out : [out]
      if (bn) {
        if (!opts.shareWeights) setFoldedWeights(clone, layer, bn)
        sym.set(nodeOf.get(bn)!.outputTensors[0]!.id, outs[0]!)
        if (fusion?.act) sym.set(nodeOf.get(fusion.act)!.outputTensors[0]!.id, outs[0]!)
      } else {
        clone.setWeights(layer.getWeights())
      }
      node.outputTensors.forEach((t, k) => sym.set(t.id, outs[k]!))
    }
    const outputs = model.outputs.map((t) => {
      const s = sym.get(t.id)
      if (!s) throw new Error(`foldBatchNorm: internal error: output '${t.name}' was not rebuilt`)
      return s
    })
    const folded = tf.model({ inputs: newInputs, outputs, name: opts.name ?? `${model.name}_folded` })
    return { model: folded, report }
  } catch (err) {
    for (const l of built) if (l.built) disposeQuietly(l)
    throw err
  }
}

function cutIndex(model: tf.LayersModel, upToLayer: string | undefined): number {
  if (upToLayer === undefined) return model.layers.length - 1
  const index = model.layers.findIndex((l) => l.name === upToLayer)
  if (index < 0) throw new Error(`foldBatchNorm: upToLayer '${upToLayer}' is not a layer of model '${model.name}'`)
  return index
}

/** The node through which `layer` takes part in `model` (layers of a cut model may have several). */
function modelNode(model: tf.LayersModel, layer: tf.layers.Layer): LayerNode {
  const keys = (model as unknown as { containerNodes?: Set<string> }).containerNodes
  const nodes = layer.inboundNodes.filter((_, i) => !keys || keys.has(`${layer.name}_ib-${i}`))
  if (nodes.length !== 1) {
    throw new Error(
      `foldBatchNorm: layer '${layer.name}' is applied ${nodes.length} times in model '${model.name}'; shared layers are not supported`
    )
  }
  return nodes[0]!
}

function whyNotFoldable(
  bn: tf.layers.Layer,
  index: number,
  cut: number,
  nodeOf: Map<tf.layers.Layer, LayerNode>,
  readers: Map<number, tf.layers.Layer[]>,
  outputIds: Set<number>
): string | null {
  if (index > cut) return 'above upToLayer'
  const bnConfig = bn.getConfig()
  const axis = bnConfig['axis']
  const node = nodeOf.get(bn)!
  const input = node.inputTensors[0]!
  if (!(axis === -1 || axis === input.shape.length - 1)) return `normalises axis ${String(axis)}, not the channel axis`
  const producer = node.inboundLayers[0]
  if (!producer || !FOLDABLE.has(producer.getClassName()))
    return `input comes from ${producer ? producer.getClassName() : 'nothing'}, not a Conv2D/DepthwiseConv2D`
  const conv = producer.getConfig()
  if ((conv['activation'] ?? 'linear') !== 'linear')
    return `conv '${producer.name}' has activation ${String(conv['activation'])}`
  if ((conv['dataFormat'] ?? 'channelsLast') !== 'channelsLast') return `conv '${producer.name}' is channelsFirst`
  const dilation = conv['dilationRate'] ?? 1
  if ((Array.isArray(dilation) ? dilation : [dilation]).some((d) => Number(d) !== 1))
    return `conv '${producer.name}' is dilated`
  const convOut = nodeOf.get(producer)!.outputTensors[0]!
  if ((readers.get(convOut.id) ?? []).length !== 1 || outputIds.has(convOut.id))
    return `output of '${producer.name}' is also used elsewhere`
  return null
}

/** ReLU, ReLU(max 6) or Activation('relu'/'relu6') with default slopes and threshold: what FusedConv can apply. */
function fusableActivation(layer: tf.layers.Layer): FusedActivation | null {
  const c = layer.getConfig()
  if (layer.getClassName() === 'ReLU') {
    if (Number(c['negativeSlope'] ?? 0) !== 0 || Number(c['threshold'] ?? 0) !== 0) return null
    if (c['maxValue'] === null || c['maxValue'] === undefined) return 'relu'
    return Number(c['maxValue']) === 6 ? 'relu6' : null
  }
  if (layer.getClassName() === 'Activation' && (c['activation'] === 'relu' || c['activation'] === 'relu6'))
    return c['activation']
  return null
}

function liveFusedConvFor(
  conv: tf.layers.Layer,
  bn: tf.layers.Layer,
  fusion: { activation: FusedActivation; pad?: tf.layers.Layer }
): LiveFusedConv {
  const shape = fusedConvArgs(conv, fusion)
  const variable = (layer: tf.layers.Layer, suffix: string): tf.LayerVariable | null =>
    layer.weights.find((w) => w.originalName.endsWith(`/${suffix}`)) ?? null
  const kernel = variable(conv, shape.depthwise ? 'depthwise_kernel' : 'kernel')
  const movingMean = variable(bn, 'moving_mean')
  const movingVariance = variable(bn, 'moving_variance')
  if (!kernel || !movingMean || !movingVariance)
    throw new Error(`foldBatchNorm: '${conv.name}' + '${bn.name}' lack a kernel or moving statistics`)
  return new LiveFusedConv({
    name: conv.name,
    depthwise: shape.depthwise,
    strides: shape.strides,
    padding: shape.padding,
    activation: shape.activation,
    kernel,
    convBias: variable(conv, 'bias'),
    gamma: variable(bn, 'gamma'),
    beta: variable(bn, 'beta'),
    movingMean,
    movingVariance,
    epsilon: Number(bn.getConfig()['epsilon'] ?? 1e-3)
  })
}

function fusedConvFor(
  conv: tf.layers.Layer,
  fusion: { activation: FusedActivation; pad?: tf.layers.Layer }
): FusedConv {
  return new FusedConv(fusedConvArgs(conv, fusion))
}

function fusedConvArgs(
  conv: tf.layers.Layer,
  fusion: { activation: FusedActivation; pad?: tf.layers.Layer }
): FusedConvArgs {
  const c = conv.getConfig()
  const depthwise = conv.getClassName() === 'DepthwiseConv2D'
  const kernel = weightByName(conv, depthwise ? 'depthwise_kernel' : 'kernel')
  if (!kernel) throw new Error(`foldBatchNorm: conv '${conv.name}' has no kernel weight`)
  const [kh, kw, inC, outC] = kernel.shape as [number, number, number, number]
  const pair = (v: unknown): [number, number] =>
    Array.isArray(v) ? [Number(v[0]), Number(v[1] ?? v[0])] : [Number(v), Number(v)]
  let padding: FusedPadding = c['padding'] === 'same' ? 'same' : 'valid'
  if (fusion.pad) {
    const p = fusion.pad.getConfig()['padding']
    const rows = Array.isArray(p) && Array.isArray(p[0]) ? (p as number[][]) : [pair(p), pair(p)]
    padding = [pair(rows[0]), pair(rows[1])]
  }
  return {
    name: conv.name,
    depthwise,
    filters: depthwise ? inC * outC : outC,
    kernelSize: [kh, kw],
    strides: pair(c['strides'] ?? 1),
    padding,
    activation: fusion.activation
  }
}

function cloneLayer(layer: tf.layers.Layer, overrides: ConfigDict): tf.layers.Layer {
  const cls = layer.constructor as tf.serialization.SerializableConstructor<tf.layers.Layer>
  const config: ConfigDict = { ...layer.getConfig(), ...overrides, name: layer.name }
  return cls.fromConfig(cls, config)
}

function weightByName(layer: tf.layers.Layer, suffix: string): tf.Tensor | null {
  const v = layer.weights.find((w) => w.originalName.endsWith(`/${suffix}`))
  return v ? v.read() : null
}

function setFoldedWeights(target: tf.layers.Layer, conv: tf.layers.Layer, bn: tf.layers.Layer): void {
  const eps = Number(bn.getConfig()['epsilon'] ?? 1e-3)
  const weights = tf.tidy(() => {
    const kernel = weightByName(conv, conv.getClassName() === 'DepthwiseConv2D' ? 'depthwise_kernel' : 'kernel')
    if (!kernel) throw new Error(`foldBatchNorm: conv '${conv.name}' has no kernel weight`)
    const mean = weightByName(bn, 'moving_mean')
    const variance = weightByName(bn, 'moving_variance')
    if (!mean || !variance) throw new Error(`foldBatchNorm: BatchNorm '${bn.name}' has no moving statistics`)
    const gamma = weightByName(bn, 'gamma') ?? tf.onesLike(mean)
    const beta = weightByName(bn, 'beta') ?? tf.zerosLike(mean)
    const bias = weightByName(conv, 'bias') ?? tf.zerosLike(mean)
    const scale = tf.div(gamma, tf.sqrt(tf.add(variance, eps)))
    // Depthwise kernel [kh, kw, in, mult]: output channel in*mult + m, so reshape the scale to [in, mult].
    const kScale = conv.getClassName() === 'DepthwiseConv2D' ? tf.reshape(scale, kernel.shape.slice(2)) : scale
    return [tf.mul(kernel, kScale), tf.add(beta, tf.mul(tf.sub(bias, mean), scale))]
  })
  try {
    target.setWeights(weights)
  } finally {
    tf.dispose(weights)
  }
}

function disposeQuietly(layer: tf.layers.Layer): void {
  try {
    layer.dispose()
  } catch {
    // already disposed or never built: nothing to free
  }
}
