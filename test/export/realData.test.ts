import { existsSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs'
import { basename, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { NO_AUGMENTATION } from '@shared/domain'
import {
  exportModel,
  isFailed,
  loadExportedModel,
  parseCsv,
  predictFiles,
  predictFolder,
  type LoadedModel,
  type PredictedFile
} from '@core/export'
import { loadBase, type BaseNetwork } from '@core/models'
import { trainRun } from '@core/training/trainer'
import type { TrainResult } from '@core/training/types'
import { CATS, DOGS, TM_V2 } from '@test/helpers/photos'
import { tempDir } from '../helpers/synthetic'
import { decodeFiles, useWasmBackend } from '@test/helpers/exportFixtures'

const HAVE_DATA = existsSync(TM_V2) && existsSync(CATS) && existsSync(DOGS)
const S = 224

function photos(dir: string, from: number, n: number, prefix: string): string[] {
  return Array.from({ length: n }, (_, i) => join(dir, `${prefix}.${from + i}.jpg`))
}

describe.skipIf(!HAVE_DATA)(
  'export on real photos (needs /work/shared/data: Teachable Machine MobileNetV2 0.35 + cats_and_dogs_filtered)',
  () => {
    const tmp = tempDir('tunelab-export-real-')
    let base: BaseNetwork
    let result: TrainResult
    let loaded: LoadedModel
    const test = [...photos(CATS, 2000, 10, 'cat'), ...photos(DOGS, 2000, 10, 'dog')]

    beforeAll(async () => {
      await useWasmBackend()
      base = await loadBase('mobilenet_v2_0.35_224', { path: TM_V2 })
      const train = [...photos(CATS, 2400, 24, 'cat'), ...photos(DOGS, 2400, 24, 'dog')]
      const labels = train.map((_, i) => (i < 24 ? 0 : 1))
      result = await trainRun(
        {
          classes: ['cats', 'dogs'],
          epochs: 15,
          batchSize: 16,
          lr: 0.01,
          optimizer: 'adam',
          dropout: 0.2,
          seed: 1,
          augment: NO_AUGMENTATION
        },
        {
          base,
          train: {
            keys: train,
            labels,
            load: (idx) =>
              decodeFiles(
                idx.map((i) => train[i] as string),
                S,
                'squash'
              )
          }
        }
      )
      await exportModel(
        {
          model: result.model,
          classes: ['cats', 'dogs'],
          base: base.spec,
          resizeMode: 'squash',
          preprocessing: base.spec.preprocessing,
          outputUnits: result.outputUnits
        },
        join(tmp.dir, 'export')
      )
      loaded = await loadExportedModel(join(tmp.dir, 'export'))
    })
    afterAll(() => {
      loaded?.model.dispose()
      result?.dispose()
      base?.model.dispose()
      tmp.cleanup()
    })

    it('classifies held-out photos like the trained model, and well', async () => {
      const preds = (await predictFiles(loaded, test)) as PredictedFile[]
      const want = await result.predict(await decodeFiles(test, S, 'squash'), test.length)
      preds.forEach((p, i) => {
        expect(Math.abs((p.probabilities['dogs'] as number) - (want[2 * i + 1] as number))).toBeLessThan(1e-5)
      })
      const correct = preds.filter((p, i) => p.predictedClass === (i < 10 ? 'cats' : 'dogs')).length
      expect(correct).toBeGreaterThanOrEqual(16)
    })

    it('writes the CSV for a folder of (symlinked) photos', async () => {
      const dir = join(tmp.dir, 'folder')
      mkdirSync(dir)
      for (const p of [test[0], test[1], test[10]] as string[]) symlinkSync(p, join(dir, basename(p)))
      const r = await predictFolder(loaded, dir, join(tmp.dir, 'out.csv'))
      expect(r.failed).toBe(0)
      const rows = parseCsv(readFileSync(r.csvPath, 'utf8'))
      expect(rows.map((row) => row[0])).toEqual(['path', 'cat.2000.jpg', 'cat.2001.jpg', 'dog.2000.jpg'])
      expect(r.predictions.every((p) => !isFailed(p))).toBe(true)
    })
  }
)
