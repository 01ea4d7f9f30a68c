import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { initBackend } from '@core/tf/backend'
import { foldBatchNorm, foldBatchNormWithReport } from '@core/tf/foldBatchNorm'
import { buildMobileNetV2 } from '@core/models/architectures/mobilenetV2'
import { randomArray, randomTensor, relErr } from '@test/helpers/tf'

/** Give every BatchNorm non-trivial statistics (fresh ones fold to almost the identity) and convs random biases. */
function randomiseBatchNorms(model: tf.LayersModel, seed: number): void {
  let s = seed
  const values = model.weights.map((w) => {
    const name = w.originalName
    const shape = w.shape.map((d) => d ?? 1)
    const size = shape.reduce((a, b) => a * b, 1)
    const r = randomArray(size, s++)
    const v = (lo: number, hi: number): Float32Array => r.map((u) => lo + ((u + 1) / 2) * (hi - lo))
    if (name.endsWith('/gamma')) return tf.tensor(v(0.5, 1.5), shape)
    if (name.endsWith('/beta') || name.endsWith('/moving_mean') || name.endsWith('/bias'))
      return tf.tensor(v(-0.5, 0.5), shape)
    if (name.endsWith('/moving_variance')) return tf.tensor(v(0.3, 2), shape)
    return null
  })
  model.weights.forEach((w, k) => {
    const t = values[k]
    if (t) w.write(t)
  })
  tf.dispose(values.filter((t): t is tf.Tensor => t !== null))
}

function predict(model: tf.LayersModel, x: tf.Tensor): Float32Array {
  // Read outside tidy: tidy walks a returned TypedArray element by element looking for tensors (very slow).
  const y = model.predict(x) as tf.Tensor
  const values = y.dataSync() as Float32Array
  y.dispose()
  return values
}

describe('foldBatchNorm on MobileNetV2 (alpha 0.35, 96x96)', () => {
  let base: tf.LayersModel
  let x: tf.Tensor

  beforeAll(async () => {
    await initBackend({ prefer: 'wasm' })
    base = buildMobileNetV2(0.35, 96)
    randomiseBatchNorms(base, 11)
    x = randomTensor([2, 96, 96, 3], 5)
  })

  it('gives the same outputs with no BatchNorm layers left, fuses ReLU6 and ZeroPadding into the convs, and keeps every other layer name', () => {
    const before = tf.memory().numTensors
    const { model: folded, report } = foldBatchNormWithReport(base)
    const bnCount = base.layers.filter((l) => l.getClassName() === 'BatchNormalization').length
    expect(report.folded.length).toBe(bnCount) // every MobileNetV2 BN follows a conv
    expect(report.kept).toEqual([])
    expect(folded.layers.filter((l) => l.getClassName() === 'BatchNormalization')).toEqual([])
    const absorbed = new Set(report.folded.flatMap((f) => [f.activation, f.padding].filter((n): n is string => !!n)))
    // Every ReLU6 follows a folded BN; every ZeroPadding2D feeds a valid-padded stride-2 depthwise conv.
    expect([...absorbed].sort()).toEqual(
      base.layers
        .filter((l) => ['ReLU', 'ZeroPadding2D'].includes(l.getClassName()))
        .map((l) => l.name)
        .sort()
    )
    const kept = base.layers.filter((l) => l.getClassName() !== 'BatchNormalization' && !absorbed.has(l.name))
    expect(folded.layers.map((l) => l.name)).toEqual(kept.map((l) => l.name))
    expect(() => folded.getLayer('out_relu')).toThrow(/No such layer/) // inside Conv_1 now
    expect(folded.getLayer('Conv_1').getClassName()).toBe('TuneLabFusedConv')
    expect(folded.outputs[0]!.shape).toEqual(base.outputs[0]!.shape)

    const ref = predict(base, x)
    const got = predict(folded, x)
    expect(relErr(got, ref)).toBeLessThan(1e-4)
    expect(relErr(ref, new Float32Array(ref.length))).toBeGreaterThan(0) // a non-degenerate output

    folded.dispose()
    expect(tf.memory().numTensors).toBe(before)
    // the source model is untouched and still usable
    expect(base.getLayer('block_5_add').inboundNodes.length).toBe(1)
    expect(relErr(predict(base, x), ref)).toBe(0)
  })

  it('upToLayer folds only the frozen part below the cut', () => {
    const cutName = 'block_12_add'
    const cut = base.layers.findIndex((l) => l.name === cutName)
    const { model: folded, report } = foldBatchNormWithReport(base, { upToLayer: cutName })
    const bnsAbove = base.layers
      .slice(cut + 1)
      .filter((l) => l.getClassName() === 'BatchNormalization')
      .map((l) => l.name)
    expect(bnsAbove.length).toBeGreaterThan(0)
    expect(report.kept.map((k) => k.batchNorm)).toEqual(bnsAbove)
    for (const k of report.kept) expect(k.reason).toBe('above upToLayer')
    expect(folded.layers.filter((l) => l.getClassName() === 'BatchNormalization').map((l) => l.name)).toEqual(bnsAbove)
    // folded convs are inference-only; layers above the cut keep their trainable flags
    expect(folded.getLayer('block_3_expand').trainable).toBe(false)
    expect(folded.getLayer('block_14_expand').trainable).toBe(true)
    expect(relErr(predict(folded, x), predict(base, x))).toBeLessThan(1e-4)
    folded.dispose()
  })

  it('names the layer when upToLayer does not exist', () => {
    expect(() => foldBatchNorm(base, { upToLayer: 'block_99_add' })).toThrow(
      /upToLayer 'block_99_add' is not a layer of model/
    )
  })
})

describe('foldBatchNorm on conv variants', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'wasm' })
  })

  it('folds convs with bias, depthwise with multiplier 2, keeps BNs that follow an Add or a conv whose output is also read elsewhere', () => {
    const input = tf.input({ shape: [9, 9, 4] })
    const a = tf.layers
      .conv2d({ filters: 6, kernelSize: 3, strides: 2, padding: 'same', useBias: true, name: 'c1' })
      .apply(input) as tf.SymbolicTensor
    const aBn = tf.layers.batchNormalization({ name: 'c1_bn', epsilon: 1e-5 }).apply(a) as tf.SymbolicTensor
    const d = tf.layers
      .depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'same', useBias: true, name: 'dw' })
      .apply(aBn) as tf.SymbolicTensor
    const dBn = tf.layers.batchNormalization({ name: 'dw_bn' }).apply(d) as tf.SymbolicTensor
    const p = tf.layers
      .conv2d({ filters: 6, kernelSize: 1, useBias: false, name: 'pw' })
      .apply(dBn) as tf.SymbolicTensor
    const pBn = tf.layers.batchNormalization({ name: 'pw_bn' }).apply(p) as tf.SymbolicTensor
    const sum = tf.layers.add({ name: 'add' }).apply([pBn, aBn]) as tf.SymbolicTensor
    const post = tf.layers.batchNormalization({ name: 'post_bn' }).apply(sum) as tf.SymbolicTensor
    const q = tf.layers.conv2d({ filters: 5, kernelSize: 1, name: 'q' }).apply(post) as tf.SymbolicTensor
    const qBn = tf.layers.batchNormalization({ name: 'q_bn' }).apply(q) as tf.SymbolicTensor
    const qOther = tf.layers.reLU({ name: 'q_relu' }).apply(q) as tf.SymbolicTensor
    const out = tf.layers.concatenate({ name: 'cat' }).apply([qBn, qOther]) as tf.SymbolicTensor
    const model = tf.model({ inputs: input, outputs: out })
    randomiseBatchNorms(model, 21)

    const { model: folded, report } = foldBatchNormWithReport(model)
    expect(report.folded).toEqual([
      { conv: 'c1', batchNorm: 'c1_bn' },
      { conv: 'dw', batchNorm: 'dw_bn' },
      { conv: 'pw', batchNorm: 'pw_bn' }
    ])
    expect(report.kept.map((k) => k.batchNorm)).toEqual(['post_bn', 'q_bn'])
    expect(report.kept.find((k) => k.batchNorm === 'post_bn')?.reason).toMatch(/not a Conv2D/)
    expect(report.kept.find((k) => k.batchNorm === 'q_bn')?.reason).toMatch(/used elsewhere/)
    const x = randomTensor([3, 9, 9, 4], 9)
    expect(relErr(predict(folded, x), predict(model, x))).toBeLessThan(1e-4)
    folded.dispose()
    model.dispose()
    x.dispose()
  })
})
