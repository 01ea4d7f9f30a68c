import * as tf from '@tensorflow/tfjs'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  assignWeightsByLayerName,
  buildBase,
  cutModelAt,
  loadBase,
  loadTfjsLayersModel,
  readTfjsLayersWeights,
  type LayerWeights
} from '@core/models'
import { maxAbsDiff } from '@test/helpers/photos'
import { useWasm } from '@test/helpers/wasm'

// Synthetic round trips: no shared data needed.

const dirs: string[] = []
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'tunelab-models-'))
  dirs.push(d)
  return d
}

/** Saves a layers model as a TF.js folder (model.json + one shard), like tfjs' file:// handler. */
async function saveTfjsFolder(model: tf.LayersModel, dir: string): Promise<void> {
  await model.save(
    tf.io.withSaveHandler(async (art) => {
      const data = art.weightData
      if (!(data instanceof ArrayBuffer)) throw new Error('expected one ArrayBuffer of weights')
      writeFileSync(join(dir, 'weights.bin'), Buffer.from(data))
      writeFileSync(
        join(dir, 'model.json'),
        JSON.stringify({
          modelTopology: art.modelTopology,
          weightsManifest: [{ paths: ['weights.bin'], weights: art.weightSpecs }]
        })
      )
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }
    })
  )
}

function weightsOf(model: tf.LayersModel): LayerWeights {
  const out: LayerWeights = new Map()
  for (const l of model.layers) {
    if (l.weights.length === 0) continue
    out.set(
      l.name,
      new Map(
        l.weights.map((w) => [
          w.originalName.split('/').pop() ?? '',
          { shape: w.shape as number[], values: w.read().dataSync() as Float32Array }
        ])
      )
    )
  }
  return out
}

/** Random non-trivial BN statistics so a wrong mapping shows in the outputs. */
function randomiseBatchNorm(model: tf.LayersModel): void {
  for (const l of model.layers) {
    if (l.getClassName() !== 'BatchNormalization') continue
    const n = l.weights[0]?.shape[0] ?? 0
    l.setWeights([
      tf.randomUniform([n], 0.5, 1.5),
      tf.randomUniform([n], -0.2, 0.2),
      tf.randomUniform([n], -0.2, 0.2),
      tf.randomUniform([n], 0.5, 2)
    ])
  }
}

beforeAll(useWasm)
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))

describe('weights by layer name', () => {
  it('copies every weight of a base into a fresh one (same outputs)', () => {
    const a = buildBase('mobilenet_v2_0.35_96')
    randomiseBatchNorm(a.model)
    const b = buildBase('mobilenet_v2_0.35_96')
    const report = assignWeightsByLayerName(b.model, weightsOf(a.model), 'model a')
    expect(report).toEqual({
      assignedLayers: a.model.layers.filter((l) => l.weights.length > 0).length,
      ignoredLayers: []
    })
    const x = tf.randomUniform([2, 96, 96, 3], -1, 1)
    expect(maxAbsDiff(a.model.predict(x) as tf.Tensor, b.model.predict(x) as tf.Tensor)).toBe(0)
    a.model.dispose()
    b.model.dispose()
  })

  it('names missing layers, unexpected layers and wrong shapes, and writes nothing', () => {
    const a = buildBase('mobilenet_v1_0.25_64')
    const w = weightsOf(a.model)
    const target = buildBase('mobilenet_v1_0.5_64')
    const before = target.model.getLayer('conv1').getWeights()[0]!.dataSync().slice()
    expect(() => assignWeightsByLayerName(target.model, w, 'a.h5')).toThrow(
      /a\.h5.*\n.*layer "conv1" weight "kernel": source shape \[3,3,3,8\] but the model expects \[3,3,3,16\]/
    )
    expect(Array.from(target.model.getLayer('conv1').getWeights()[0]!.dataSync())).toEqual(Array.from(before))

    const renamed: LayerWeights = new Map(
      [...w].map(([k, v]) => [k === 'conv_pw_13_bn' ? 'conv_pw_13_batchnorm' : k, v])
    )
    const same = buildBase('mobilenet_v1_0.25_64')
    expect(() => assignWeightsByLayerName(same.model, renamed, 'b.h5')).toThrow(
      /missing layers \(1\): conv_pw_13_bn\n.*unexpected layers in the source \(1\): conv_pw_13_batchnorm/
    )
    for (const m of [a.model, target.model, same.model]) m.dispose()
  })

  it('loads a base from a nested TF.js folder (Sequential > Sequential > functional + head), taking only the base part', async () => {
    const src = buildBase('mobilenet_v1_0.25_64')
    randomiseBatchNorm(src.model)
    const inner = tf.sequential({
      name: 'wrapper',
      layers: [src.model, tf.layers.globalAveragePooling2d({ name: 'gap' })]
    })
    const outer = tf.sequential({
      name: 'outer',
      layers: [inner, tf.layers.dense({ units: 3, name: 'head', activation: 'softmax' })]
    })
    const dir = tempDir()
    await saveTfjsFolder(outer, dir)

    const w = await readTfjsLayersWeights(dir)
    expect(w.get('conv_pw_13_bn')?.get('moving_variance')?.shape).toEqual([256])
    const base = await loadBase('mobilenet_v1_0.25_64', { path: dir })
    expect(base.weightsSource).toEqual({ kind: 'tfjs-layers', path: dir, ignoredLayers: ['head'] })

    const loaded = await loadTfjsLayersModel(dir)
    const cut = cutModelAt(loaded, 'conv_pw_13_relu')
    const x = tf.randomUniform([2, 64, 64, 3], -1, 1)
    const ours = base.model.predict(x) as tf.Tensor
    expect(maxAbsDiff(ours, src.model.predict(x) as tf.Tensor)).toBe(0)
    expect(maxAbsDiff(ours, cut.predict(x) as tf.Tensor)).toBe(0)
    expect(() => cutModelAt(loaded, 'no_such_layer')).toThrow(/Layer "no_such_layer" not found in model "outer"/)
    for (const m of [outer, base.model, loaded]) m.dispose()
  })

  it('gives clear errors for bad paths', async () => {
    const dir = tempDir()
    await expect(loadBase('mobilenet_v1_0.25_64', { path: join(dir, 'nope.h5') })).rejects.toThrow(
      /Weights path .*nope\.h5 does not exist/
    )
    await expect(loadBase('mobilenet_v1_0.25_64', { path: dir })).rejects.toThrow(/has no model\.json/)
    const notH5 = join(dir, 'fake.h5')
    writeFileSync(notH5, 'not hdf5 at all')
    await expect(loadBase('mobilenet_v1_0.25_64', { path: notH5 })).rejects.toThrow(
      /fake\.h5: not a readable HDF5 file/
    )
    writeFileSync(
      join(dir, 'model.json'),
      JSON.stringify({
        modelTopology: {},
        weightsManifest: [{ paths: ['missing.bin'], weights: [{ name: 'a/kernel', shape: [2], dtype: 'float32' }] }]
      })
    )
    await expect(loadBase('mobilenet_v1_0.25_64', { path: dir })).rejects.toThrow(
      /weight shard .*missing\.bin cannot be read/
    )
  })
})
