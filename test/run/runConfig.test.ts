// One run config from the form to SQLite and back: a run is started from a form, stored by the real orchestrator,
// read back through the real runs.get handler, and the Training screen's store reattaches to it and shows the form
// it was started with (random weights used to come back as "ImageNet").
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { setApi } from '@renderer/stores/apiContext'
import { useProjectStore } from '@renderer/stores/project'
import { useTrainingStore } from '@renderer/stores/training'
import { recipeForm, trainingOptions, type TrainingFormValue } from '@renderer/lib/trainingForm'
import { trainOptionsFromConfig } from '@core/run/fromConfig'
import { trainProject } from '@core/run/trainProject'
import { runModelDir } from '@core/run/trainProject'
import { ProjectRegistry } from '@main/services/projects'
import { runHandlers } from '@main/services/runService'
import type { HandlerContext } from '@main/services/context'
import { storedRunConfigSchema } from '@shared/runConfig'
import { makeProject, tempDir } from '@test/helpers/synthetic'
import { createFakeApi } from '@test/helpers/fakeApi'

const BASE = 'mobilenet_v1_0.25_32'

describe('run config round trip', () => {
  const tmp = tempDir('tunelab-runconfig-')
  const root = join(tmp.dir, 'pets')
  const registry = new ProjectRegistry()

  beforeAll(async () => {
    await makeProject(root, { classes: ['cats', 'dogs'], perClass: 6 })
  })
  afterAll(() => {
    registry.closeAll()
    tmp.cleanup()
  })

  async function startFromForm(form: TrainingFormValue): Promise<number> {
    const config = {
      ...trainingOptions(form),
      resizeMode: 'squash' as const,
      backend: 'cpu' as const,
      split: { kind: 'ratios' as const, ratios: [0.6, 0.2, 0.2] as [number, number, number], seed: 3 }
    }
    const outcome = await trainProject(root, trainOptionsFromConfig(config))
    outcome.result.dispose()
    expect(outcome.status).toBe('completed')
    return outcome.runId
  }

  async function reattachedForm(runId: number): Promise<TrainingFormValue | null> {
    const project = registry.openFolder(root)
    const ctx = { projects: registry } as unknown as HandlerContext
    const fake = createFakeApi()
    // The transport answers with the real handlers over the real database.
    fake.api.project.open = async () => registry.info(project)
    fake.api.training.active = async () => ({ runs: [{ projectKey: project.key, runId, status: 'running' as const }] })
    fake.api.runs.get = (req) => runHandlers['runs.get'](req, ctx)
    setApi(fake.api)
    setActivePinia(createPinia())
    expect(await useProjectStore().open(root)).toBe(true)
    const training = useTrainingStore()
    await training.reattach()
    expect(training.error).toBeNull()
    expect(training.runId).toBe(runId)
    return training.lastForm
  }

  it('shows a random-weights run and a file-weights run as they were started', async () => {
    const random: TrainingFormValue = {
      ...recipeForm('tf-tutorial', BASE),
      weights: 'random',
      epochs: 1,
      batchSize: 4,
      lr: 1e-3,
      seed: 7
    }
    const first = await startFromForm(random)
    expect(await reattachedForm(first)).toEqual(random)

    // The first run's saved model is a TF.js layers folder: a base can take its weights by layer name.
    const weightsPath = runModelDir(join(registry.openFolder(root).state.modelsDir), first)
    const fromFile: TrainingFormValue = {
      ...recipeForm('tf-tutorial', BASE),
      weights: 'file',
      weightsPath,
      epochs: 1,
      batchSize: 4,
      lr: 2e-3,
      dense: 8,
      seed: 9
    }
    const second = await startFromForm(fromFile)
    expect(await reattachedForm(second)).toEqual(fromFile)
  }, 120_000)

  it('stores what was received next to what ran, and auto says why it chose', async () => {
    const form: TrainingFormValue = { ...recipeForm('auto', BASE), weights: 'random', epochs: 2 }
    const runId = await startFromForm(form)
    const row = registry.openFolder(root).state.store.getRun(runId)
    const stored = storedRunConfigSchema.parse(row?.config)
    expect(stored.recipe).toBe('auto')
    expect(stored.received).toEqual({
      ...trainingOptions(form),
      resizeMode: 'squash',
      backend: 'cpu',
      split: { kind: 'ratios', ratios: [0.6, 0.2, 0.2], seed: 3 }
    })
    expect(stored.received).not.toHaveProperty('lr')
    // The rate is the range test's (autoTrials.test.ts checks how it is chosen).
    expect(Number(stored.choices.find((c) => c.setting === 'learning rate')?.value)).toBe(stored.resolved.lr)
    expect(stored.resolved).toMatchObject({
      epochs: 2,
      l2: 0.01,
      batchSize: 16,
      classWeights: null,
      fineTuneEpochs: 0,
      classes: ['cats', 'dogs']
    })
    expect(stored.choices.map((c) => c.setting)).toEqual(
      expect.arrayContaining(['batch size', 'learning rate', 'class weights', 'fine-tuning'])
    )
    expect(stored.choices.find((c) => c.setting === 'fine-tuning')?.why).toContain('random weights')
    expect(await reattachedForm(runId)).toEqual(form)
  }, 120_000)
})
