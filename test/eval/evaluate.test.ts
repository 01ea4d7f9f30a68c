import { beforeAll, describe, expect, it } from 'vitest'
import { NO_AUGMENTATION } from '@shared/domain'
import { evaluateSet } from '@core/eval/evaluate'
import { trainRun } from '@core/training/trainer'
import { colourImages, memorySet, tinyBase, useCpu } from '@test/helpers/trainingFixtures'

const S = 32
beforeAll(useCpu)

describe('evaluateSet on a trained model', () => {
  it('reproduces the validation loss/accuracy the training loop reported', async () => {
    const classes = ['r', 'b', 'g']
    const validation = memorySet(colourImages(3, 5, S, 202), S)
    const r = await trainRun(
      {
        classes,
        epochs: 3,
        batchSize: 8,
        lr: 0.05,
        optimizer: 'adam',
        dropout: 0.2,
        seed: 4,
        augment: NO_AUGMENTATION
      },
      { base: tinyBase(S), train: memorySet(colourImages(3, 6, S, 201), S), validation }
    )
    const ev = await evaluateSet(r.predict, validation, classes, { batchSize: 4 })
    const last = r.epochs.at(-1)
    expect(ev.rows.length).toBe(15)
    expect(ev.metrics.accuracy).toBeCloseTo(last?.valAccuracy ?? -1, 6)
    expect(ev.metrics.loss).toBeCloseTo(last?.valLoss ?? -1, 4)
    expect(ev.metrics.confusion.flat().reduce((a, b) => a + b, 0)).toBe(15)
    for (const row of ev.rows) expect(row.probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5)
    expect(ev.analyses.perClass.length).toBe(3)
    r.dispose()
  })
})
