// Grad-CAM on demand in the app's prediction worker (real worker thread, real exported model): the answer carries
// a PNG of the photo at the model's input size with the heatmap laid over it; a class the model lacks is refused.
import { join, resolve } from 'node:path'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { exportModel } from '@core/export'
import { TrainingRunner } from '@main/workers/trainingRunner'
import { trainFixture, useWasmBackend, type TrainedFixture } from '@test/helpers/exportFixtures'
import { tempDir } from '../helpers/synthetic'

const tmp = tempDir('tunelab-gradcam-worker-')
let fx: TrainedFixture
let modelDir: string
let runner: TrainingRunner

beforeAll(async () => {
  await useWasmBackend()
  fx = await trainFixture(join(tmp.dir, 'project'), ['cats', 'dogs'], 'squash', 4)
  modelDir = join(tmp.dir, 'model')
  const { result, base } = fx
  await exportModel(
    {
      model: result.model,
      classes: ['cats', 'dogs'],
      base: base.spec,
      resizeMode: 'squash',
      preprocessing: base.spec.preprocessing,
      outputUnits: result.outputUnits,
      runId: 'run-1',
      metrics: {}
    },
    modelDir
  )
  runner = new TrainingRunner({
    workerPath: resolve('src/main/workers/training.ts'),
    events: { progress: () => undefined, download: () => undefined }
  })
}, 120_000)

afterAll(async () => {
  await runner?.shutdown()
  fx?.result.dispose()
  tmp.cleanup()
})

describe('Grad-CAM in the prediction worker', () => {
  it('answers the prediction and a heatmap overlay PNG at the photo size (squash); each class gives its own map', async () => {
    const path = fx.absPaths[0] as string
    const plain = await runner.predict(modelDir, { kind: 'file', path })
    expect(plain.overlay).toBeUndefined()
    const cats = await runner.predict(modelDir, { kind: 'file', path }, undefined, { className: 'cats' })
    const dogs = await runner.predict(modelDir, { kind: 'file', path }, undefined, { className: 'dogs' })
    expect(cats.probabilities).toEqual(plain.probabilities)
    const photo = await sharp(path).metadata()
    expect(Math.max(photo.width, photo.height)).toBeLessThanOrEqual(1024)
    for (const r of [cats, dogs]) {
      const meta = await sharp(Buffer.from(r.overlay as Uint8Array)).metadata()
      expect([meta.format, meta.width, meta.height]).toEqual(['png', photo.width, photo.height])
    }
    expect(Buffer.from(cats.overlay as Uint8Array).equals(Buffer.from(dogs.overlay as Uint8Array))).toBe(false)
    await expect(runner.predict(modelDir, { kind: 'file', path }, undefined, { className: 'birds' })).rejects.toThrow(
      /'birds' is not one of the model's classes \(cats, dogs\)/
    )
  }, 120_000)
})
