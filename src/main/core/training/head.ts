// The classification head: GAP -> [Dense(units, relu)] -> Dropout -> Dense(logits).
// Training runs on GAP-pooled features; the same layer objects are reused in the full model.
import * as tf from '@tensorflow/tfjs'

export interface HeadOptions {
  featureDim: number
  numClasses: number
  dense?: number
  dropout: number
  /** L2 penalty on the kernels (see penalty()); omitted or 0 = none. */
  l2?: number
  seed: number
}

export class ClassifierHead {
  readonly outputUnits: number
  readonly gap: tf.layers.Layer
  readonly hidden: tf.layers.Layer | null
  readonly dropoutLayer: tf.layers.Layer
  readonly logits: tf.layers.Layer
  readonly activation: tf.layers.Layer
  readonly dropoutRate: number
  readonly l2: number

  constructor(opts: HeadOptions) {
    if (opts.numClasses < 2) throw new Error(`classes: need at least 2 classes, got ${opts.numClasses}`)
    if (!(opts.dropout >= 0 && opts.dropout < 1)) throw new Error(`dropout: must be in [0, 1), got ${opts.dropout}`)
    if (opts.dense !== undefined && (!Number.isInteger(opts.dense) || opts.dense < 0)) {
      throw new Error(`dense: must be a non-negative integer, got ${opts.dense}`)
    }
    this.outputUnits = opts.numClasses === 2 ? 1 : opts.numClasses
    this.dropoutRate = opts.dropout
    this.l2 = opts.l2 ?? 0
    const init = (k: number): ReturnType<typeof tf.initializers.glorotUniform> =>
      tf.initializers.glorotUniform({ seed: opts.seed + k })
    this.gap = tf.layers.globalAveragePooling2d({ name: 'head_gap' })
    this.hidden = opts.dense
      ? tf.layers.dense({
          units: opts.dense,
          activation: 'relu',
          kernelInitializer: init(1),
          biasInitializer: 'zeros',
          name: 'head_dense'
        })
      : null
    this.dropoutLayer = tf.layers.dropout({ rate: opts.dropout, seed: opts.seed + 2, name: 'head_dropout' })
    this.logits = tf.layers.dense({
      units: this.outputUnits,
      kernelInitializer: init(3),
      biasInitializer: 'zeros',
      name: 'head_logits'
    })
    this.activation = tf.layers.activation({
      activation: this.outputUnits === 1 ? 'sigmoid' : 'softmax',
      name: 'head_probabilities'
    })
    // Build the weights once on a symbolic pooled-feature input.
    const input = tf.input({ shape: [opts.featureDim] })
    this.applySymbolic(input)
  }

  private applySymbolic(x: tf.SymbolicTensor): tf.SymbolicTensor {
    let h = x
    if (this.hidden) h = this.hidden.apply(h) as tf.SymbolicTensor
    h = this.dropoutLayer.apply(h) as tf.SymbolicTensor
    return this.logits.apply(h) as tf.SymbolicTensor
  }

  /** Logits for pooled features [n, C]. Dropout only when a seed is given (training), with a fresh mask per seed. */
  forward(features: tf.Tensor2D, dropoutSeed?: number): tf.Tensor2D {
    return tf.tidy(() => {
      let h: tf.Tensor = features
      if (this.hidden) h = this.hidden.apply(h) as tf.Tensor
      if (dropoutSeed !== undefined && this.dropoutRate > 0) h = tf.dropout(h, this.dropoutRate, undefined, dropoutSeed)
      return this.logits.apply(h) as tf.Tensor2D
    })
  }

  /** l2 * the sum of the squared kernel weights (biases are not penalised, as Keras' kernel_regularizer); null when l2 is 0. */
  penalty(): tf.Scalar | null {
    if (this.l2 === 0) return null
    const l2 = this.l2
    const kernels = [this.hidden, this.logits].flatMap((l) => (l ? [l.trainableWeights[0]!.read()] : []))
    return tf.tidy(() => tf.mul(l2, tf.addN(kernels.map((k) => tf.sum(tf.square(k))))) as tf.Scalar)
  }

  /** Trainable variables of the head (kernel/bias of the dense layers). */
  variables(): tf.Variable[] {
    const layers = this.hidden ? [this.hidden, this.logits] : [this.logits]
    return layers.flatMap((l) => l.trainableWeights.map((w) => w.read() as tf.Variable))
  }

  /** base.model output -> GAP -> head -> probabilities, as one LayersModel sharing all weights. */
  buildFullModel(baseModel: tf.LayersModel, name = 'classifier'): tf.LayersModel {
    const featureMap = baseModel.outputs[0]
    if (!featureMap || baseModel.outputs.length !== 1)
      throw new Error('base model: expected exactly one output (the no-top feature map)')
    const pooled = this.gap.apply(featureMap) as tf.SymbolicTensor
    const probs = this.activation.apply(this.applySymbolic(pooled)) as tf.SymbolicTensor
    return tf.model({ inputs: baseModel.inputs, outputs: probs, name })
  }

  dispose(): void {
    for (const l of [this.hidden, this.logits]) {
      if (!l) continue
      for (const w of l.weights) if (!w.read().isDisposed) w.read().dispose()
    }
  }
}
