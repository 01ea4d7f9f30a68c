import { beforeAll, describe, expect, it } from 'vitest'
import { NO_AUGMENTATION } from '@shared/domain'
import { trainRun } from '@core/training/trainer'
import type { TrainEvent, TrainParams } from '@core/training/types'
import { colourImages, countingBase, memorySet, tinyBase, useCpu } from '@test/helpers/trainingFixtures'

const S = 32
beforeAll(useCpu)

function params(over: Partial<TrainParams> = {}): TrainParams {
  return {
    classes: ['red', 'blue'],
    epochs: 6,
    batchSize: 4,
    lr: 0.05,
    optimizer: 'adam',
    dropout: 0,
    seed: 9,
    augment: NO_AUGMENTATION,
    ...over
  }
}

describe('cancel and early stopping', () => {
  it('cancel mid-epoch ends the run as cancelled, keeping the finished epochs', async () => {
    const ac = new AbortController()
    const written: number[] = []
    const r = await trainRun(
      params(),
      {
        base: tinyBase(S),
        train: memorySet(colourImages(2, 8, S, 101), S),
        validation: memorySet(colourImages(2, 2, S, 102), S),
        onEvent: (e) => {
          if (e.type === 'batch' && e.epoch === 3 && e.batch === 2) ac.abort()
        },
        onEpochEnd: (e) => void written.push(e.epoch)
      },
      ac.signal
    )
    expect(r.status).toBe('cancelled')
    expect(r.epochs.map((e) => e.epoch)).toEqual([1, 2])
    expect(written).toEqual([1, 2])
    r.dispose()
  })

  it('cancel during phase 2 keeps phase 1 and the finished phase-2 epochs', async () => {
    const ac = new AbortController()
    const r = await trainRun(
      params({ epochs: 2, fineTuneAt: 13, fineTuneEpochs: 3 }),
      {
        base: tinyBase(S),
        train: memorySet(colourImages(2, 4, S, 103), S),
        onEvent: (e) => {
          if (e.type === 'batch' && e.epoch === 4 && e.batch === 1) ac.abort()
        }
      },
      ac.signal
    )
    expect(r.status).toBe('cancelled')
    expect(r.epochs.map((e) => `${e.phase}:${e.epoch}`)).toEqual(['head:1', 'head:2', 'fine-tune:3'])
    r.dispose()
  })

  it('epochs: 0 skips phase 1 entirely (no base forward for features) and fine-tunes from epoch 1', async () => {
    const base = countingBase(tinyBase(S))
    const r = await trainRun(params({ epochs: 0, fineTuneAt: 13, fineTuneEpochs: 1 }), {
      base,
      train: memorySet(colourImages(2, 2, S, 105), S)
    })
    expect(r.epochs.map((e) => `${e.phase}:${e.epoch}`)).toEqual(['fine-tune:1'])
    // Only the phase-2 activation cache ran the lower part once per image.
    expect(base.calls.images).toBe(4)
    r.dispose()
  })

  it('a signal aborted before the start cancels during feature extraction with no epochs', async () => {
    const ac = new AbortController()
    ac.abort()
    const r = await trainRun(
      params(),
      { base: tinyBase(S), train: memorySet(colourImages(2, 8, S, 104), S) },
      ac.signal
    )
    expect(r.status).toBe('cancelled')
    expect(r.epochs).toEqual([])
    r.dispose()
  })

  it('early stopping stops after `patience` worse epochs and restores the best weights', async () => {
    // Validation labels are the opposite of training labels: the better the model fits train,
    // the worse val_loss gets, so epoch 1 is the best.
    const train = memorySet(colourImages(2, 8, S, 111), S)
    const v = colourImages(2, 4, S, 112)
    const validation = memorySet({ pixels: v.pixels, labels: v.labels.map((y) => 1 - y) }, S)
    const events: TrainEvent[] = []
    const r = await trainRun(params({ epochs: 10, earlyStopPatience: 2 }), {
      base: tinyBase(S),
      train,
      validation,
      onEvent: (e) => events.push(e)
    })
    expect(r.status).toBe('completed')
    expect(r.stoppedEarly).toBe(true)
    expect(r.epochs.map((e) => e.epoch)).toEqual([1, 2, 3])
    const [e1, e2, e3] = r.epochs.map((e) => e.valLoss ?? NaN)
    expect(e2).toBeGreaterThan(e1 as number)
    expect(e3).toBeGreaterThan(e1 as number)
    expect(r.restoredEpoch).toBe(1)
    expect(events.find((e) => e.type === 'early-stop')).toMatchObject({ epoch: 3, bestEpoch: 1 })

    // The model now holds epoch 1's weights: its validation loss is epoch 1's, not epoch 3's.
    const pixels = await validation.load(validation.keys.map((_, i) => i))
    const probs = await r.predict(pixels, validation.keys.length)
    const loss =
      validation.labels.reduce((s, y, i) => s - Math.log(probs[i * 2 + y] as number), 0) / validation.labels.length
    expect(loss).toBeCloseTo(e1 as number, 4)
    r.dispose()
  })

  it('rejects bad parameters with specific errors', async () => {
    const io = { base: tinyBase(S), train: memorySet(colourImages(2, 2, S, 120), S) }
    await expect(trainRun(params({ classes: ['a'] }), io)).rejects.toThrow(/classes: need at least 2/)
    await expect(trainRun(params({ batchSize: 0 }), io)).rejects.toThrow(/batchSize: must be an integer >= 1/)
    await expect(trainRun(params({ lr: -1 }), io)).rejects.toThrow(/lr: must be a positive number/)
    await expect(trainRun(params({ dropout: 1 }), io)).rejects.toThrow(/dropout: must be in \[0, 1\)/)
    await expect(trainRun(params({ fineTuneEpochs: 1, fineTuneAt: 99 }), io)).rejects.toThrow(
      /fineTuneAt: layer index must be an integer in \[1, 15\]/
    )
    const badLabels = { ...io, train: { ...io.train, labels: [0, 1, 2, 0] } }
    await expect(trainRun(params(), badLabels)).rejects.toThrow(
      /train: label 2 of image [0-9a-f]+ is not a class index in \[0, 1\]/
    )
  })
})
