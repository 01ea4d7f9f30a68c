// A command that fails on its split stores nothing: a `train --ratios` whose split leaves a class without a training
// image must not leave that split behind for the next default run to reuse (real SQLite, real images, real scan).
import { afterAll, describe, expect, it } from 'vitest'
import { join } from 'node:path'
import { trainProject } from '@core/run/trainProject'
import { trainOptionsFromConfig } from '@core/run/fromConfig'
import { openProjectState } from '@core/store/projectState'
import { makeProject, tempDir } from '@test/helpers/synthetic'

describe('a failed split stores nothing', () => {
  const tmp = tempDir('tunelab-failed-split-')
  afterAll(() => tmp.cleanup())

  it('train with ratios that leave a class out of train fails clearly and stores no split', async () => {
    const root = join(tmp.dir, 'p')
    await makeProject(root, { classes: ['a', 'b'], perClass: 1, size: 24 })
    const opts = trainOptionsFromConfig({
      recipe: 'tf-tutorial',
      baseId: 'mobilenet_v2_0.35_96',
      weights: 'random',
      epochs: 1
    })
    await expect(
      trainProject(root, { ...opts, split: { kind: 'ratios', ratios: [0.5, 0.5, 0], seed: 1 } })
    ).rejects.toThrow(
      /split: class 'a', 'b' has no image in the train split \(nothing stored\)|the train split is empty/
    )
    const state = openProjectState(root)
    try {
      expect(state.store.getSplit(state.project.id)).toBeNull()
    } finally {
      state.store.close()
    }
  })
})
