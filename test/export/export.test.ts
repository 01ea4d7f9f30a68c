import * as tf from '@tensorflow/tfjs'
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  META_FILE,
  MODEL_FILE,
  WEIGHTS_FILE,
  exportModel,
  fileSystemModelLoader,
  isFailed,
  loadExportedModel,
  predictFiles,
  type ExportMeta,
  type LoadedModel,
  type PredictedFile
} from '@core/export'
import { tempDir } from '../helpers/synthetic'
import {
  MOBILENET_ID,
  SIZE,
  decodeFiles,
  mobileNetBase,
  trainFixture,
  useWasmBackend,
  type TrainedFixture
} from '@test/helpers/exportFixtures'

// Every class a Keras/TF.js layers model may use without custom code (the subset our bases + head need).
const STANDARD_LAYERS = new Set([
  'InputLayer',
  'Conv2D',
  'DepthwiseConv2D',
  'BatchNormalization',
  'ReLU',
  'Activation',
  'ZeroPadding2D',
  'Add',
  'MaxPooling2D',
  'GlobalAveragePooling2D',
  'Dense',
  'Dropout',
  'Model',
  'Functional'
])

const tmp = tempDir('tunelab-export-')
let fx: TrainedFixture
let exportDir: string

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length)
  let m = 0
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)))
  return m
}

function probsOf(preds: PredictedFile[], classes: string[]): number[] {
  return preds.flatMap((p) => classes.map((c) => p.probabilities[c] as number))
}

/** Copies the export to a new folder and lets the test edit tunelab.json there. */
function editedCopy(name: string, edit: (meta: ExportMeta & Record<string, unknown>) => void): string {
  const dir = join(tmp.dir, name)
  cpSync(exportDir, dir, { recursive: true })
  const meta = JSON.parse(readFileSync(join(dir, META_FILE), 'utf8')) as ExportMeta & Record<string, unknown>
  edit(meta)
  writeFileSync(join(dir, META_FILE), JSON.stringify(meta))
  return dir
}

/** Checks model.json's layer classes and that a consumer's plain tf.loadLayersModel predicts like `model`. */
async function expectPlainLayersModel(dir: string, model: tf.LayersModel, size: number): Promise<Set<string>> {
  const json = JSON.parse(readFileSync(join(dir, MODEL_FILE), 'utf8')) as {
    format: string
    modelTopology: { class_name: string; config: { layers: { class_name: string }[] } }
    weightsManifest: tf.io.WeightsManifestConfig
  }
  expect(json.format).toBe('layers-model')
  expect(json.weightsManifest.flatMap((g) => g.paths)).toEqual([WEIGHTS_FILE])
  const classNames = new Set(json.modelTopology.config.layers.map((l) => l.class_name))
  expect([...classNames].filter((c) => !STANDARD_LAYERS.has(c))).toEqual([])
  expect(classNames.has('Conv2D') && classNames.has('DepthwiseConv2D') && classNames.has('Dense')).toBe(true)

  // Independent of our loader: model.json + weights.bin handed to tf.io.fromMemory as a consumer would.
  const bin = readFileSync(join(dir, WEIGHTS_FILE))
  const specs = json.weightsManifest.flatMap((g) => g.weights)
  const plain = await tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology,
      weightSpecs: specs,
      weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.length) as ArrayBuffer
    })
  )
  const viaFs = await tf.loadLayersModel(fileSystemModelLoader(dir))
  const x = tf.randomUniform([3, size, size, 3], -1, 1, 'float32', 5)
  const want = (model.predict(x) as tf.Tensor).dataSync()
  expect(maxDiff((plain.predict(x) as tf.Tensor).dataSync(), want)).toBeLessThan(1e-5)
  expect(maxDiff((viaFs.predict(x) as tf.Tensor).dataSync(), want)).toBeLessThan(1e-5)
  tf.dispose(x)
  plain.dispose()
  viaFs.dispose()
  return classNames
}

beforeAll(async () => {
  await useWasmBackend()
  fx = await trainFixture(join(tmp.dir, 'project'), ['cats', 'dogs'], 'center-crop', 3)
  exportDir = join(tmp.dir, 'export')
  await exportModel(
    {
      model: fx.result.model,
      classes: ['cats', 'dogs'],
      base: fx.base.spec,
      resizeMode: fx.resizeMode,
      preprocessing: fx.base.spec.preprocessing,
      outputUnits: fx.result.outputUnits,
      runId: 'run-7',
      metrics: { val: { accuracy: 0.5 } }
    },
    exportDir,
    { now: new Date('2025-01-02T03:04:05Z') }
  )
})
afterAll(() => {
  fx?.result.dispose()
  fx?.base.model.dispose()
  tmp.cleanup()
})

describe('exportModel', () => {
  it('writes model.json, weights.bin and tunelab.json with what prediction needs', () => {
    for (const f of [MODEL_FILE, WEIGHTS_FILE, META_FILE]) expect(existsSync(join(exportDir, f))).toBe(true)
    const meta = JSON.parse(readFileSync(join(exportDir, META_FILE), 'utf8')) as ExportMeta
    expect(meta).toEqual({
      format: 'tunelab-classifier',
      formatVersion: 1,
      classes: ['cats', 'dogs'],
      inputSize: SIZE,
      resizeMode: 'center-crop',
      preprocessing: { kind: 'scale', scale: 1 / 127.5, offset: -1 },
      activation: 'sigmoid',
      outputUnits: 1,
      base: { id: 'small_conv_48' },
      created: '2025-01-02T03:04:05.000Z',
      runId: 'run-7',
      metrics: { val: { accuracy: 0.5 } },
      modelFile: 'model.json'
    })
    const paramBytes = fx.result.model.weights.reduce(
      (a, w) => a + w.shape.reduce<number>((x, y) => x * (y ?? 1), 1) * 4,
      0
    )
    expect(statSync(join(exportDir, WEIGHTS_FILE)).size).toBe(paramBytes)
  })

  it('is a plain TF.js layers model: standard layer classes only, loads with tf.loadLayersModel and predicts the same', async () => {
    await expectPlainLayersModel(exportDir, fx.result.model, SIZE)
  })

  it('exports a code-built MobileNetV2 classifier in the same plain format', async () => {
    const mfx = await trainFixture(join(tmp.dir, 'mnet-project'), ['a', 'b', 'c'], 'squash', 4, mobileNetBase())
    const dir = join(tmp.dir, 'mnet-export')
    const r = await exportModel(
      {
        model: mfx.result.model,
        classes: ['a', 'b', 'c'],
        base: mfx.base.spec,
        resizeMode: 'squash',
        preprocessing: mfx.base.spec.preprocessing,
        outputUnits: mfx.result.outputUnits
      },
      dir
    )
    expect(r.meta).toMatchObject({
      activation: 'softmax',
      outputUnits: 3,
      inputSize: 96,
      base: { id: MOBILENET_ID },
      runId: null,
      metrics: null
    })
    const names = await expectPlainLayersModel(dir, mfx.result.model, 96)
    expect(names.has('ZeroPadding2D') && names.has('Add') && names.has('ReLU')).toBe(true)
    mfx.result.dispose()
    mfx.base.model.dispose()
  })

  it('refuses to overwrite an existing export and rejects a model that outputs logits', async () => {
    const input = {
      model: fx.result.model,
      classes: ['cats', 'dogs'],
      base: fx.base.spec,
      resizeMode: fx.resizeMode,
      preprocessing: fx.base.spec.preprocessing,
      outputUnits: 1
    }
    const before = readFileSync(join(exportDir, META_FILE), 'utf8')
    await expect(exportModel(input, exportDir)).rejects.toThrow(
      /already holds an export \(tunelab\.json, model\.json, weights\.bin\)/
    )
    expect(readFileSync(join(exportDir, META_FILE), 'utf8')).toBe(before)
    const head = fx.result.model.getLayer('head_logits')
    // Node 0 is the head built on pooled features; the last node is its use inside the full model.
    const logits = tf.model({
      inputs: fx.result.model.inputs,
      outputs: head.getOutputAt(head.inboundNodes.length - 1) as tf.SymbolicTensor
    })
    await expect(exportModel({ ...input, model: logits }, join(tmp.dir, 'logits'))).rejects.toThrow(
      /activation "linear", expected 'sigmoid'/
    )
    await expect(exportModel({ ...input, classes: ['a', 'b', 'c'] }, join(tmp.dir, 'three'))).rejects.toThrow(
      /3 classes do not fit a model with 1 output unit/
    )
    await expect(exportModel({ ...input, base: { id: 'x', size: 128 } }, join(tmp.dir, 'size'))).rejects.toThrow(
      /input shape \[null,48,48,3\] does not match base 'x' size 128/
    )
    expect(existsSync(join(tmp.dir, 'logits'))).toBe(false)
  })
})

describe('loadExportedModel + predictFiles', () => {
  let loaded: LoadedModel
  beforeAll(async () => {
    loaded = await loadExportedModel(exportDir)
  })
  afterAll(() => loaded?.model.dispose())

  it('predicts files exactly like TrainResult.predict on the same decoded pixels', async () => {
    const pixels = await decodeFiles(fx.absPaths, SIZE, 'center-crop')
    const want = await fx.result.predict(pixels, fx.absPaths.length)
    const progress: number[] = []
    const preds = await predictFiles(loaded, fx.absPaths, { batchSize: 5, onProgress: (d) => progress.push(d) })
    expect(progress).toEqual([5, 10, 12])
    expect(preds.map((p) => p.path)).toEqual(fx.absPaths)
    const ok = preds.filter((p): p is PredictedFile => !isFailed(p))
    expect(ok).toHaveLength(12)
    expect(maxDiff(probsOf(ok, ['cats', 'dogs']), want)).toBeLessThan(1e-5)
    for (const p of ok) {
      const best = (p.probabilities['dogs'] as number) > (p.probabilities['cats'] as number) ? 'dogs' : 'cats'
      expect(p.predictedClass).toBe(best)
      expect(p.confidence).toBe(p.probabilities[best])
      expect((p.probabilities['cats'] as number) + (p.probabilities['dogs'] as number)).toBeCloseTo(1, 6)
    }
  })

  it('guards the preprocessing pitfall: 1/255 scaling gives other outputs, and tunelab.json decides which runs', async () => {
    const paths = fx.absPaths.slice(0, 6)
    const pixels = await decodeFiles(paths, SIZE, 'center-crop')
    const right = probsOf((await predictFiles(loaded, paths)) as PredictedFile[], ['cats', 'dogs'])
    const wrong = tf.tidy(() => {
      const x = tf.tensor4d(pixels, [6, SIZE, SIZE, 3], 'int32').toFloat().div(255)
      const p = fx.result.model.predict(x) as tf.Tensor2D
      return tf.concat([tf.sub(1, p), p], 1).dataSync()
    })
    expect(maxDiff(right, wrong)).toBeGreaterThan(1e-3)

    const dir = editedCopy('scaled-255', (m) => {
      m.preprocessing = { kind: 'scale', scale: 1 / 255, offset: 0 }
    })
    const other = await loadExportedModel(dir)
    const viaMeta = probsOf((await predictFiles(other, paths)) as PredictedFile[], ['cats', 'dogs'])
    other.model.dispose()
    expect(maxDiff(viaMeta, wrong)).toBeLessThan(1e-5)
  })

  it('uses the stored resize mode', async () => {
    const dir = editedCopy('squash', (m) => {
      m.resizeMode = 'pad'
    })
    const other = await loadExportedModel(dir)
    // Synthetic files are square, so write one wide image: pad and center-crop see different pixels.
    const wide = join(tmp.dir, 'wide.png')
    const sharp = (await import('sharp')).default
    const raw = Buffer.alloc(160 * 80 * 3)
    for (let i = 0; i < 160 * 80; i++) raw.set(i % 160 < 40 ? [250, 20, 20] : [20, 20, 250], i * 3)
    await sharp(raw, { raw: { width: 160, height: 80, channels: 3 } })
      .png()
      .toFile(wide)
    const [pad] = (await predictFiles(other, [wide])) as PredictedFile[]
    const [crop] = (await predictFiles(loaded, [wide])) as PredictedFile[]
    other.model.dispose()
    const padWant = await fx.result.predict(await decodeFiles([wide], SIZE, 'pad'), 1)
    const cropWant = await fx.result.predict(await decodeFiles([wide], SIZE, 'center-crop'), 1)
    expect(maxDiff([pad?.probabilities['cats'] as number, pad?.probabilities['dogs'] as number], padWant)).toBeLessThan(
      1e-5
    )
    expect(
      maxDiff([crop?.probabilities['cats'] as number, crop?.probabilities['dogs'] as number], cropWant)
    ).toBeLessThan(1e-5)
    expect(maxDiff(padWant, cropWant)).toBeGreaterThan(1e-6)
  })

  it('reports unreadable and missing files per file and predicts the rest', async () => {
    const corrupt = join(tmp.dir, 'corrupt.jpg')
    writeFileSync(corrupt, Buffer.from('not really a jpeg'))
    const empty = join(tmp.dir, 'empty.png')
    writeFileSync(empty, Buffer.alloc(0))
    const paths = [
      fx.absPaths[0] as string,
      corrupt,
      join(tmp.dir, 'nope.jpg'),
      empty,
      tmp.dir,
      fx.absPaths[1] as string
    ]
    const preds = await predictFiles(loaded, paths, { batchSize: 4 })
    expect(preds.map((p) => p.path)).toEqual(paths)
    expect(preds.map((p) => (isFailed(p) ? p.error : 'ok'))).toEqual([
      'ok',
      'not a recognised image format (corrupt or not an image)',
      'file not found',
      'empty file (0 bytes)',
      'is a folder, not an image file',
      'ok'
    ])
  })
})

describe('loadExportedModel errors', () => {
  it('names the problem: missing folder, files, wrong format or version, shape mismatch, truncated weights', async () => {
    await expect(loadExportedModel(join(tmp.dir, 'absent'))).rejects.toThrow(/absent: export folder does not exist/)
    const noMeta = join(tmp.dir, 'no-meta')
    mkdirSync(noMeta)
    copyFileSync(join(exportDir, MODEL_FILE), join(noMeta, MODEL_FILE))
    await expect(loadExportedModel(noMeta)).rejects.toThrow(/tunelab\.json: missing/)

    const noWeights = editedCopy('no-weights', () => undefined)
    rmSync(join(noWeights, WEIGHTS_FILE))
    await expect(loadExportedModel(noWeights)).rejects.toThrow(
      /weights\.bin: a weights file named in model\.json is missing/
    )
    const truncated = editedCopy('truncated', () => undefined)
    writeFileSync(join(truncated, WEIGHTS_FILE), readFileSync(join(exportDir, WEIGHTS_FILE)).subarray(0, 1000))
    await expect(loadExportedModel(truncated)).rejects.toThrow(/hold 1000 bytes but model\.json describes \d+ bytes/)

    await expect(loadExportedModel(editedCopy('v2', (m) => void (m.formatVersion = 2 as 1)))).rejects.toThrow(
      /format version 2 is not supported .*newer TuneLab/
    )
    await expect(
      loadExportedModel(editedCopy('fmt', (m) => void (m.format = 'keras' as 'tunelab-classifier')))
    ).rejects.toThrow(/not a TuneLab export/)
    await expect(loadExportedModel(editedCopy('size', (m) => void (m.inputSize = 128)))).rejects.toThrow(
      /input shape \[null,48,48,3\] does not match tunelab\.json inputSize 128/
    )
    await expect(
      loadExportedModel(
        editedCopy('softmax3', (m) =>
          Object.assign(m, { classes: ['a', 'b', 'c'], activation: 'softmax', outputUnits: 3 })
        )
      )
    ).rejects.toThrow(/output shape \[null,1\] does not match tunelab\.json: 3 classes, softmax/)
    await expect(
      loadExportedModel(editedCopy('bad-mode', (m) => void (m.resizeMode = 'stretch' as 'pad')))
    ).rejects.toThrow(/invalid field "resizeMode"/)
    const broken = editedCopy('broken-json', () => undefined)
    writeFileSync(join(broken, META_FILE), '{"format": ')
    await expect(loadExportedModel(broken)).rejects.toThrow(/tunelab\.json: not valid JSON/)
  })
})
