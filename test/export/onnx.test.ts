// The ONNX converter on every base TuneLab offers and every head shape: the file is a valid ModelProto (opset 13,
// BatchNorms folded, named NHWC input) and ONNX Runtime computes what TF.js computes.
import * as tf from '@tensorflow/tfjs'
import * as ort from 'onnxruntime-node'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { applyPreprocessing, buildBase } from '@core/models'
import { ClassifierHead } from '@core/training/head'
import { decodeModel } from '@core/export/onnx/proto'
import { layersModelToOnnx, writeBaseOnnx } from '@core/export/onnx/write'
import { smallConvBase, useWasmBackend } from '@test/helpers/exportFixtures'

function pixels(n: number, S: number, seed: number): Float32Array {
  let x = seed
  return Float32Array.from({ length: n * S * S * 3 }, () => {
    x = (x * 1103515245 + 12345) % 2147483648
    return Math.floor((x / 2147483648) * 256)
  })
}

async function runOnnx(
  bytes: Uint8Array,
  input: Float32Array,
  shape: number[],
  output: string
): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const session = await ort.InferenceSession.create(bytes)
  try {
    const r = await session.run({ image: new ort.Tensor('float32', input, shape) })
    const t = r[output]!
    return { data: t.data as Float32Array, dims: t.dims }
  } finally {
    await session.release()
  }
}

function tfjsOutput(model: tf.LayersModel, input: Float32Array, S: number, n: number): Float32Array {
  return tf.tidy(
    () =>
      (
        model.predict(
          applyPreprocessing(tf.tensor4d(input, [n, S, S, 3]), { kind: 'scale', scale: 1 / 127.5, offset: -1 })
        ) as tf.Tensor
      ).dataSync() as Float32Array
  )
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!))
  return m
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length)
  let m = 0
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!))
  return m
}

beforeAll(useWasmBackend)

describe('ONNX export of every base (random weights: structure and arithmetic)', () => {
  const BASES = [
    'mobilenet_v2_0.35_96',
    'mobilenet_v2_0.5_96',
    'mobilenet_v2_0.75_96',
    'mobilenet_v2_1.0_96',
    'mobilenet_v2_1.3_96',
    'mobilenet_v2_1.4_96',
    'mobilenet_v1_0.25_128',
    'mobilenet_v1_1.0_128',
    'resnet50_v2_64'
  ]
  for (const id of BASES) {
    it(`${id}: ONNX Runtime gives TF.js's feature map`, async () => {
      const base = buildBase(id)
      try {
        const S = base.spec.size
        const r = layersModelToOnnx(base.model, { preprocessing: base.spec.preprocessing, output: 'features' })
        const bnCount = base.model.layers.filter((l) => l.getClassName() === 'BatchNormalization').length
        // Every BN after a conv is folded; only ResNetV2's pre-activation BNs (after an Add or the input) stay, as Mul + Add.
        expect(r.report.folded.length + r.report.affineBatchNorms.length).toBe(bnCount)
        if (!id.startsWith('resnet')) expect(r.report.affineBatchNorms).toEqual([])
        const proto = decodeModel(r.bytes)
        expect(proto.opsetImport).toEqual([{ domain: '', version: 13 }])
        expect(proto.graph.node.some((n) => n.opType === 'BatchNormalization')).toBe(false)
        expect(proto.graph.input.map((i) => i.name)).toEqual(['image'])
        const x = pixels(2, S, 5)
        const got = await runOnnx(r.bytes, x, [2, S, S, 3], 'features')
        expect(got.dims).toEqual([2, ...(base.model.outputs[0]!.shape.slice(1) as number[])])
        const want = tfjsOutput(base.model, x, S, 2)
        expect(maxDiff(got.data, want)).toBeLessThanOrEqual(1e-4 * Math.max(maxAbs(want), 1e-30))
      } finally {
        base.model.dispose()
      }
    }, 120_000)
  }
})

describe('ONNX export of every head on a base with non-trivial features', () => {
  const HEADS = [
    {
      name: 'two classes: Dropout -> one sigmoid unit (widened to [1-p, p])',
      numClasses: 2,
      dense: undefined,
      units: 1
    },
    { name: 'two classes: Dense 8 ReLU -> Dropout -> sigmoid', numClasses: 2, dense: 8, units: 1 },
    { name: 'four classes: Dropout -> softmax', numClasses: 4, dense: undefined, units: 4 },
    { name: 'four classes: Dense 8 ReLU -> Dropout 0.5 -> softmax', numClasses: 4, dense: 8, units: 4 }
  ]
  for (const h of HEADS) {
    it(
      h.name,
      async () => {
        const base = smallConvBase(40, 3)
        const head = new ClassifierHead({
          featureDim: 16,
          numClasses: h.numClasses,
          dense: h.dense,
          dropout: 0.5,
          seed: 9
        })
        const model = head.buildFullModel(base.model)
        try {
          const S = 40
          const r = layersModelToOnnx(model, { preprocessing: base.spec.preprocessing, output: 'probabilities' })
          expect(r.outputShape).toEqual(['batch', h.numClasses])
          const x = pixels(5, S, 11)
          const got = await runOnnx(r.bytes, x, [5, S, S, 3], 'probabilities')
          const raw = tfjsOutput(model, x, S, 5)
          const want = h.units === 1 ? Array.from(raw).flatMap((p) => [1 - p, p]) : Array.from(raw)
          expect(maxDiff(got.data, want)).toBeLessThanOrEqual(1e-5)
          // Not a constant model: the probabilities depend on the image.
          expect(Math.abs(want[0]! - want[want.length - h.numClasses]!)).toBeGreaterThan(1e-4)
        } finally {
          model.dispose() // holds the base's and the head's layers
        }
      },
      60_000
    )
  }

  it('writeBaseOnnx writes the bare base for benchmarks', async () => {
    const base = smallConvBase(40, 3)
    const dir = mkdtempSync(join(tmpdir(), 'tunelab-base-onnx-'))
    try {
      const path = join(dir, 'sub', 'base.onnx')
      await writeBaseOnnx(base.model, base.spec.preprocessing, path)
      const x = pixels(1, 40, 2)
      const got = await runOnnx(readFileSync(path), x, [1, 40, 40, 3], 'features')
      expect(maxDiff(got.data, tfjsOutput(base.model, x, 40, 1))).toBeLessThanOrEqual(1e-4)
    } finally {
      base.model.dispose()
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('refuses a layer it cannot convert, naming it', () => {
    const input = tf.input({ shape: [8, 8, 3] })
    const out = tf.layers
      .conv2d({ filters: 2, kernelSize: 3, dilationRate: 2, name: 'dilated' })
      .apply(input) as tf.SymbolicTensor
    const model = tf.model({ inputs: input, outputs: out })
    expect(() =>
      layersModelToOnnx(model, { preprocessing: { kind: 'scale', scale: 1, offset: 0 }, output: 'features' })
    ).toThrow(/conv 'dilated' is dilated/)
    const lstmIn = tf.input({ shape: [8, 8, 3] })
    const up = tf.layers.upSampling2d({ name: 'up' }).apply(lstmIn) as tf.SymbolicTensor
    expect(() =>
      layersModelToOnnx(tf.model({ inputs: lstmIn, outputs: up }), {
        preprocessing: { kind: 'scale', scale: 1, offset: 0 },
        output: 'features'
      })
    ).toThrow(/layer 'up' of type UpSampling2D is not supported/)
  })
})
