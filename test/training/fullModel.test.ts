import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { NO_AUGMENTATION } from '@shared/domain'
import { trainRun } from '@core/training/trainer'
import { colourImages, memorySet, tinyBase, useCpu } from '@test/helpers/trainingFixtures'

const S = 32
beforeAll(useCpu)

describe('full model (base + head)', () => {
  it('serialises after fine-tuning and reloads with identical predictions', async () => {
    const base = tinyBase(S)
    const data = colourImages(3, 4, S, 301)
    const train = memorySet(data, S)
    const r = await trainRun(
      {
        classes: ['a', 'b', 'c'],
        epochs: 1,
        batchSize: 4,
        lr: 0.01,
        optimizer: 'sgd',
        momentum: 0.9,
        dense: 8,
        dropout: 0.5,
        seed: 2,
        fineTuneAt: 7,
        fineTuneEpochs: 1,
        augment: NO_AUGMENTATION
      },
      { base, train }
    )
    expect(r.model.layers.map((l) => l.name).slice(-5)).toEqual([
      'head_gap',
      'head_dense',
      'head_dropout',
      'head_logits',
      'head_probabilities'
    ])
    let artifacts: tf.io.ModelArtifacts | null = null
    await r.model.save(
      tf.io.withSaveHandler(async (a) => {
        artifacts = a
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }
      })
    )
    expect(artifacts).not.toBeNull()
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts as unknown as tf.io.ModelArtifacts))
    const x = base.preprocess(tf.tensor4d(data.pixels, [12, S, S, 3], 'int32').toFloat() as tf.Tensor4D)
    const a = r.model.predict(x) as tf.Tensor
    const b = loaded.predict(x) as tf.Tensor
    expect(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]).toBeLessThan(1e-6)
    // predict() = preprocess + model, probabilities sum to 1.
    const probs = await r.predict(data.pixels, 12)
    const direct = a.dataSync()
    probs.forEach((p, i) => expect(p).toBeCloseTo(direct[i] as number, 6))
    tf.dispose([x, a, b])
    loaded.dispose()
    r.dispose()
  })
})
