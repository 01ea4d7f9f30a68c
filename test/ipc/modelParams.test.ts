// models.list fills params from a table counted once with buildBase; the cheap bases are rebuilt here to check it.
import { describe, expect, it } from 'vitest'
import * as tf from '@tensorflow/tfjs'
import { buildBase, describeBase, listPretrainedBaseIds } from '@core/models'
import { BASE_PARAMS, listModels } from '@main/services/modelService'

describe('base parameter counts', () => {
  it('every listed base has a count', () => {
    const models = listModels('/nonexistent-cache')
    expect(models.length).toBe(listPretrainedBaseIds().length)
    for (const m of models) expect(m.params, m.id).toBeGreaterThan(100_000)
    expect(models.find((m) => m.id === 'mobilenet_v2_1.0_160')?.params).toBe(2_257_984) // the TF tutorial's number
  })

  it('the table matches the networks as built (the MobileNets; ResNet50V2 takes seconds)', async () => {
    await tf.setBackend('cpu')
    const seen = new Set<string>()
    for (const id of listPretrainedBaseIds()) {
      const spec = describeBase(id)
      const key = `${spec.family}_${spec.alpha}`
      if (spec.family === 'resnet50_v2' || seen.has(key) || spec.alpha > 1) continue
      seen.add(key)
      const base = buildBase(id)
      expect(base.model.countParams(), id).toBe(BASE_PARAMS[key])
      base.model.dispose()
    }
    expect(seen.size).toBe(8)
  }, 60_000)
})
