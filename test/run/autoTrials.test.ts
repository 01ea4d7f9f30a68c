// The auto recipe's measured choices through the real orchestrator: the range test picks the head's rate, small
// projects compare squash and pad resizing by validation loss, and what was given explicitly is never tried.
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { trainOptionsFromConfig } from '@core/run/fromConfig'
import { trainProject } from '@core/run/trainProject'
import { AUTO_LR_MAX, AUTO_LR_MIN } from '@core/run/autoTrials'
import { openProjectState } from '@core/store/projectState'
import { storedRunConfigSchema, type RunConfig } from '@shared/runConfig'
import { makeProject, tempDir } from '@test/helpers/synthetic'

const BASE = 'mobilenet_v1_0.25_32'

describe('auto: range test and resize trial', () => {
  const tmp = tempDir('tunelab-autotrials-')
  const root = join(tmp.dir, 'shapes')

  beforeAll(async () => {
    await makeProject(root, { layout: 'presplit', perClass: { train: 8, validation: 4 }, seed: 5 })
  })
  afterAll(() => tmp.cleanup())

  async function train(extra: Partial<RunConfig>) {
    const infos: string[] = []
    const config: RunConfig = { baseId: BASE, weights: 'random', backend: 'cpu', epochs: 3, ...extra }
    const outcome = await trainProject(root, trainOptionsFromConfig(config), (e) => {
      if (e.type === 'info') infos.push(e.message)
    })
    outcome.result.dispose()
    expect(outcome.status).toBe('completed')
    const state = openProjectState(root)
    try {
      const run = state.store.getRun(outcome.runId)
      return { stored: storedRunConfigSchema.parse(run?.config), infos }
    } finally {
      state.store.close()
    }
  }

  it('stores the rate the range test chose and the resize mode with the lower validation loss', async () => {
    const { stored, infos } = await train({})
    const lr = stored.choices.find((c) => c.setting === 'learning rate')
    expect(lr?.why).toMatch(/range test on the cached features of the 16 training images: valley at/)
    expect(stored.resolved.lr).toBeGreaterThanOrEqual(AUTO_LR_MIN)
    expect(stored.resolved.lr).toBeLessThanOrEqual(AUTO_LR_MAX)
    expect(Number(lr?.value)).toBeCloseTo(stored.resolved.lr, 10)

    const resize = stored.choices.find((c) => c.setting === 'resizing')
    const losses = Object.fromEntries(
      [...(resize?.why.matchAll(/(squash|pad) (\d+\.\d+)/g) ?? [])].map((m) => [m[1], Number(m[2])])
    )
    expect(Object.keys(losses).sort()).toEqual(['pad', 'squash'])
    const lower = (losses['pad'] ?? Infinity) < (losses['squash'] ?? Infinity) ? 'pad' : 'squash'
    expect(resize?.value).toBe(lower)
    expect(stored.resolved.resizeMode).toBe(lower)
    expect(stored.resolved.l2).toBe(0.01)
    expect(infos.filter((m) => /^auto: trying (squash|pad) resizing$/.test(m))).toHaveLength(2)
  })

  it('tries nothing that was given explicitly', async () => {
    const { stored, infos } = await train({ lr: 0.02, resizeMode: 'pad', l2: 0 })
    expect(stored.choices.map((c) => c.setting)).not.toContain('learning rate')
    expect(stored.choices.map((c) => c.setting)).not.toContain('resizing')
    expect(infos.some((m) => m.startsWith('auto: trying'))).toBe(false)
    expect(stored.resolved).toMatchObject({ lr: 0.02, resizeMode: 'pad' })
    expect(stored.resolved.l2).toBeUndefined()
  })

  it('leaves the other recipes alone', async () => {
    const { stored } = await train({ recipe: 'tf-tutorial' })
    expect(stored.choices).toEqual([])
    expect(stored.resolved).toMatchObject({ lr: 1e-4, resizeMode: 'squash' })
    expect(stored.resolved.l2).toBeUndefined()
  })
})
