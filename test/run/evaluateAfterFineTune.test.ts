// After fine-tuning, evaluation runs the whole classifier again (BatchNorm folded, on this thread for small
// projects). Its validation loss must be the one the training loop measured for the epoch the run kept: a
// stale base, the wrong preprocessing or a bad fold would all move it.
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { trainOptionsFromConfig } from '@core/run/fromConfig'
import { trainProject } from '@core/run/trainProject'
import type { RunConfig } from '@shared/runConfig'
import { makeProject, tempDir } from '@test/helpers/synthetic'

describe('evaluation after fine-tuning', () => {
  const tmp = tempDir('tunelab-evalft-')
  const root = join(tmp.dir, 'shapes')

  beforeAll(async () => {
    await makeProject(root, { layout: 'presplit', perClass: { train: 12, validation: 6 }, seed: 9 })
  })
  afterAll(() => tmp.cleanup())

  it('stores the validation loss of the epoch the run kept', async () => {
    const config: RunConfig = {
      recipe: 'tf-tutorial',
      baseId: 'mobilenet_v1_0.25_32',
      weights: 'random',
      backend: 'wasm',
      epochs: 1,
      lr: 0.01,
      fineTuneAt: 40,
      fineTuneEpochs: 2,
      fineTuneLr: 0.01
    }
    const outcome = await trainProject(root, trainOptionsFromConfig(config))
    try {
      expect(outcome.status).toBe('completed')
      const { epochs, restoredEpoch, baseChanged } = outcome.result
      expect(baseChanged).toBe(true)
      const kept = epochs.find((e) => e.epoch === (restoredEpoch ?? epochs[epochs.length - 1]?.epoch))
      expect(kept?.phase).toBe('fine-tune')
      const stored = outcome.metrics.validation
      expect(stored).toBeDefined()
      expect(stored?.loss).toBeCloseTo(kept?.valLoss ?? NaN, 4)
      expect(stored?.accuracy).toBeCloseTo(kept?.valAccuracy ?? NaN, 6)
    } finally {
      outcome.result.dispose()
    }
  })
})
