// The runner's prediction worker: one real worker thread (src/main/workers/training.ts) serves every call,
// keeps the models it loaded, answers concurrent calls each with its own result, and recovers from a crash.
import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { exportModel, loadExportedModel, predictFiles } from '@core/export'
import { isFailed } from '@core/export/predict'
import { TrainingRunner } from '@main/workers/trainingRunner'
import { trainFixture, useWasmBackend, type TrainedFixture } from '@test/helpers/exportFixtures'
import { tempDir } from '../helpers/synthetic'

const tmp = tempDir('tunelab-predictor-')
let fx: TrainedFixture
let modelDir: string
let runner: TrainingRunner
let want: Map<string, number[]>

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
  // Reference: the same saved model, loaded and run on this thread.
  const loaded = await loadExportedModel(modelDir)
  const preds = await predictFiles(loaded, fx.absPaths.slice(0, 4))
  want = new Map(preds.map((p) => [p.path, isFailed(p) ? [] : [p.probabilities['cats']!, p.probabilities['dogs']!]]))
  loaded.model.dispose()
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

const close = (got: number[], expected: number[] | undefined): void => {
  expect(expected).toBeDefined()
  got.forEach((g, i) => expect(g).toBeCloseTo(expected![i]!, 4))
}

describe('TrainingRunner.predict', () => {
  it('answers concurrent calls, files and bytes, each with its own image', async () => {
    const paths = fx.absPaths.slice(0, 4)
    const answers = await Promise.all(
      paths.map((p, i) =>
        runner.predict(
          modelDir,
          i % 2 ? { kind: 'bytes', bytes: new Uint8Array(readFileSync(p)) } : { kind: 'file', path: p },
          'wasm'
        )
      )
    )
    answers.forEach((a, i) => {
      expect(a.classes).toEqual(['cats', 'dogs'])
      close(a.probabilities, want.get(paths[i]!))
    })
  })

  it('reports a bad image as bad input and goes on serving', async () => {
    await expect(
      runner.predict(modelDir, { kind: 'bytes', bytes: new Uint8Array([1, 2, 3]) }, 'wasm')
    ).rejects.toMatchObject({ code: 'bad-input' })
    await expect(
      runner.predict(join(tmp.dir, 'no-such-model'), { kind: 'file', path: fx.absPaths[0]! }, 'wasm')
    ).rejects.toMatchObject({ code: 'bad-input' })
    close(
      (await runner.predict(modelDir, { kind: 'file', path: fx.absPaths[1]! }, 'wasm')).probabilities,
      want.get(fx.absPaths[1]!)
    )
  })

  it('fails the pending call when the worker dies, and starts a new worker for the next one', async () => {
    const pending = runner.predict(modelDir, { kind: 'file', path: fx.absPaths[2]! }, 'wasm')
    await (
      runner as unknown as { predictor: { worker: { terminate(): Promise<number> } } }
    ).predictor.worker.terminate()
    await expect(pending).rejects.toMatchObject({
      code: 'internal',
      message: expect.stringMatching(/predict worker exited/)
    })
    close(
      (await runner.predict(modelDir, { kind: 'file', path: fx.absPaths[2]! }, 'wasm')).probabilities,
      want.get(fx.absPaths[2]!)
    )
  })
})
