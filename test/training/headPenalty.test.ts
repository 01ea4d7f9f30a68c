// The head's L2 penalty (the auto recipe's 0.01): the exact term, added to the loss a step minimises, and it keeps
// the trained kernel smaller than the same training without it.
import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { NO_AUGMENTATION } from '@shared/domain'
import { ClassifierHead } from '@core/training/head'
import { createOptimizer } from '@core/training/optimizers'
import { trainStep } from '@core/training/step'
import { trainRun } from '@core/training/trainer'
import { colourImages, memorySet, tinyBase, useCpu } from '@test/helpers/trainingFixtures'

beforeAll(useCpu)

describe('head L2 penalty', () => {
  it('is l2 times the sum of the squared kernels (dense and logits), biases left out', () => {
    const head = new ClassifierHead({ featureDim: 5, numClasses: 3, dense: 4, dropout: 0, l2: 0.5, seed: 1 })
    const [k1, b1, k2, b2] = head.variables()
    b1!.assign(tf.onesLike(b1!))
    b2!.assign(tf.onesLike(b2!))
    const expected = 0.5 * (tf.sum(tf.square(k1!)).dataSync()[0]! + tf.sum(tf.square(k2!)).dataSync()[0]!)
    expect(head.penalty()!.dataSync()[0]).toBeCloseTo(expected, 5)
    expect(new ClassifierHead({ featureDim: 5, numClasses: 3, dropout: 0, seed: 1 }).penalty()).toBeNull()
    head.dispose()
  })

  it('is part of the loss a step reports', async () => {
    const head = new ClassifierHead({ featureDim: 4, numClasses: 2, dropout: 0, l2: 2, seed: 3 })
    const x = tf.randomNormal([6, 4], 0, 1, 'float32', 9) as tf.Tensor2D
    const y = tf.tensor1d([0, 1, 0, 1, 0, 1], 'int32')
    const term = head.penalty()!.dataSync()[0]!
    const zeroRate = [{ optimizer: createOptimizer('sgd', 1e-12), vars: head.variables() }]
    const plain = await trainStep(zeroRate, () => head.forward(x), y, null)
    const penalised = await trainStep(
      zeroRate,
      () => head.forward(x),
      y,
      null,
      () => head.penalty()
    )
    expect(penalised.loss - plain.loss).toBeCloseTo(term, 4)
    head.dispose()
  })

  it('keeps the trained kernel smaller', async () => {
    const S = 32
    const norm = async (l2: number | undefined): Promise<number> => {
      const base = tinyBase(S)
      const r = await trainRun(
        {
          classes: ['red', 'blue'],
          epochs: 8,
          batchSize: 4,
          lr: 0.05,
          optimizer: 'adam',
          dropout: 0,
          seed: 3,
          augment: NO_AUGMENTATION,
          ...(l2 !== undefined ? { l2 } : {})
        },
        { base, train: memorySet(colourImages(2, 6, S, 71), S) }
      )
      const kernel = r.model.getLayer('head_logits').getWeights()[0]!
      const n = tf.sum(tf.square(kernel)).dataSync()[0]!
      r.dispose()
      return n
    }
    const without = await norm(undefined)
    const withL2 = await norm(0.1)
    expect(withL2).toBeLessThan(without * 0.8)
  })
})
