// Done-when of the ONNX export: on every test image of cats_and_dogs_filtered (the TF tutorial's split), the ONNX
// file run by ONNX Runtime gives TuneLab's probabilities to 1e-4 with 100 % class agreement, for MobileNetV2 0.35
// (Teachable Machine weights) and MobileNet v1 0.25 (Keras .h5) with trained heads.
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { NO_AUGMENTATION } from '@shared/domain'
import { exportRun } from '@core/export/exportRun'
import { trainProject } from '@core/run/trainProject'
import { openProjectState } from '@core/store/projectState'
import { DATA, TM_V2, V1_H5 } from '@test/helpers/photos'
import { tempDir } from '../helpers/synthetic'
import { useWasmBackend } from '@test/helpers/exportFixtures'

const CATS_DOGS = join(DATA, 'cats_and_dogs_filtered')
const HAVE_DATA = existsSync(CATS_DOGS) && existsSync(TM_V2) && existsSync(V1_H5)

const CASES = [
  {
    name: 'MobileNetV2 0.35 @224, Teachable Machine weights, dense-free head',
    baseId: 'mobilenet_v2_0.35_224',
    weights: TM_V2,
    dense: 0,
    dropout: 0.2
  },
  {
    name: 'MobileNet v1 0.25 @224, Keras .h5, Dense 64 + Dropout 0.5 head',
    baseId: 'mobilenet_v1_0.25_224',
    weights: V1_H5,
    dense: 64,
    dropout: 0.5
  }
] as const

describe.skipIf(!HAVE_DATA)('ONNX export on cats_and_dogs_filtered (needs the shared data)', () => {
  const tmp = tempDir('tunelab-onnx-real-')
  const previous = process.env['TUNELAB_DATA_DIR']
  beforeAll(async () => {
    process.env['TUNELAB_DATA_DIR'] = join(tmp.dir, 'state')
    await useWasmBackend()
  })
  afterAll(() => {
    if (previous === undefined) delete process.env['TUNELAB_DATA_DIR']
    else process.env['TUNELAB_DATA_DIR'] = previous
    tmp.cleanup()
  })

  for (const c of CASES) {
    it(`${c.name}: ONNX and TF.js files match TuneLab on every test image`, async () => {
      const outcome = await trainProject(CATS_DOGS, {
        baseId: c.baseId,
        weights: { kind: 'file', path: c.weights },
        resizeMode: 'squash',
        split: { kind: 'folder', testFromVal: 0.2, seed: 42 },
        augment: NO_AUGMENTATION,
        epochs: 3,
        batchSize: 32,
        lr: 1e-3,
        optimizer: 'adam',
        dense: c.dense,
        dropout: c.dropout,
        seed: 1
      })
      outcome.result.dispose()
      const state = openProjectState(CATS_DOGS)
      try {
        const testCount = state.store.getPredictions(outcome.runId, { split: 'test' }).length
        expect(testCount).toBeGreaterThanOrEqual(150)
        const out = join(tmp.dir, `export-${c.baseId}`)
        const r = await exportRun(state, outcome.runId, { out, formats: ['tfjs', 'onnx'] })
        const onnx = r.checks.find((k) => k.format === 'onnx')!
        const tfjs = r.checks.find((k) => k.format === 'tfjs')!
        console.log(
          `${c.name}: test images ${onnx.images}; ONNX max |dp| ${onnx.maxAbsDiff.toExponential(3)}, agreement ${onnx.agreement}; TF.js reload max |dp| ${tfjs.maxAbsDiff.toExponential(3)}, agreement ${tfjs.agreement}`
        )
        expect(onnx.images).toBe(testCount)
        expect(onnx.maxAbsDiff).toBeLessThanOrEqual(1e-4)
        expect(onnx.agreement).toBe(1)
        expect(tfjs.maxAbsDiff).toBeLessThanOrEqual(1e-4)
        expect(tfjs.agreement).toBe(1)
        const card = readFileSync(join(out, 'README.md'), 'utf8')
        expect(card).toContain(onnx.maxAbsDiff.toExponential(2))
        expect(card).toContain('onnxruntime')
        const meta = JSON.parse(readFileSync(join(out, 'tunelab.json'), 'utf8')) as {
          checks: unknown[]
          imagePipeline: { resize: { kernel: string } }
        }
        expect(meta.checks).toHaveLength(2)
        expect(meta.imagePipeline.resize.kernel).toBe('lanczos3')
      } finally {
        state.store.close()
      }
    }, 900_000)
  }
})
