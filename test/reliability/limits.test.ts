// Limits the engine cannot honour are refused before anything starts or is stored, and cancel wins over a
// failure that happens while a cancelled run stops. Real CLI, real SQLite, real TF.js on a tiny random base.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { checkTrainingFits, headMemoryEstimate, TrainingLimitError } from '@core/training/limits'
import { trainProject } from '@core/run/trainProject'
import { DEFAULT_TRAIN_OPTIONS } from '@core/run/options'
import { openProjectState } from '@core/store/projectState'
import { makeProject, tempDir } from '@test/helpers/synthetic'

const REPO = resolve(__dirname, '../..')

describe('limits and cancel', () => {
  const tmp = tempDir('tunelab-limits-')
  afterAll(() => tmp.cleanup())

  it('the estimate refuses the head that failed (dense 65536 on MobileNetV2) and allows ordinary ones', () => {
    expect(() => checkTrainingFits({ baseId: 'mobilenet_v2_1.0_160', dense: 65_536, classes: 2 })).toThrow(
      TrainingLimitError
    )
    expect(() => checkTrainingFits({ baseId: 'mobilenet_v2_1.0_160', dense: 65_536, classes: 2 })).toThrow(
      /--dense 65536 is too large .* use --dense \d+ or less/
    )
    for (const dense of [0, 64, 1024, 8192])
      expect(() => checkTrainingFits({ baseId: 'mobilenet_v2_1.0_160', dense, classes: 10 })).not.toThrow()
    // The reported failure: 84 M parameters, a 4.7 GB peak, over the WebAssembly heap.
    const failed = headMemoryEstimate({ baseId: 'mobilenet_v2_1.0_160', dense: 65_536, classes: 2 })
    expect(failed.parameters).toBeGreaterThan(83e6)
    expect(failed.needed).toBeGreaterThan(4.5e9)
  })

  it('train --dense 65536 fails at once in one line and stores nothing', async () => {
    const root = join(tmp.dir, 'dense')
    await makeProject(root, { classes: ['a', 'b'], perClass: 3, size: 24 })
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/cli/index.ts',
        'train',
        root,
        '--base',
        'mobilenet_v2_1.0_96',
        '--random-weights',
        '--dense',
        '65536'
      ],
      {
        cwd: REPO,
        encoding: 'utf8'
      }
    )
    expect(r.status).toBe(1)
    expect(r.stderr.trim().split('\n').pop()).toMatch(
      /^tunelab: error: --dense 65536 is too large for mobilenet_v2_1.0_96: .* use --dense \d+ or less$/
    )
    // Refused before the scan: nothing is written into the folder.
    expect(existsSync(join(root, '.tunelab'))).toBe(false)
  })

  it('cancel wins: a run cancelled and then failing while it stops ends cancelled, not failed', async () => {
    const root = join(tmp.dir, 'cancel')
    await makeProject(root, { classes: ['a', 'b'], perClass: 6, size: 32 })
    const controller = new AbortController()
    const opts = {
      ...DEFAULT_TRAIN_OPTIONS,
      baseId: 'mobilenet_v2_0.35_96',
      weights: { kind: 'random' as const },
      epochs: 5,
      batchSize: 4
    }
    let runId = 0
    const outcome = trainProject(
      root,
      { ...opts, split: { kind: 'ratios', ratios: [0.5, 0.5, 0], seed: 1 } },
      (e) => {
        if (e.type === 'run-created') runId = e.runId
        if (e.type === 'epoch') {
          controller.abort()
          throw new Error('out of memory while stopping')
        }
      },
      controller.signal
    )
    await expect(outcome).rejects.toThrow(/out of memory while stopping/)
    const state = openProjectState(root)
    try {
      expect(state.store.getRun(runId)?.status).toBe('cancelled')
    } finally {
      state.store.close()
    }
  })
})
