// Phase 1 vs phase 2: the weights at the end of phase 1 come back when fine-tuning did not lower the validation
// loss, and stay changed when it did.
import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { ClassifierHead } from '@core/training/head'
import { bestEpoch, keepBetter, snapshotForPhase2 } from '@core/training/keepBetterPhase'
import type { RunContext } from '@core/training/context'
import type { EpochRecord, TrainEvent } from '@core/training/types'
import { tinyBase, useCpu } from '@test/helpers/trainingFixtures'

beforeAll(useCpu)

const record = (phase: EpochRecord['phase'], epoch: number, valLoss: number | null): EpochRecord => ({
  phase,
  epoch,
  loss: 1,
  accuracy: 0.5,
  valLoss,
  valAccuracy: null,
  lr: 1e-3,
  seconds: 0,
  imagesPerSec: 0
})

function setUp(): { ctx: RunContext; events: TrainEvent[]; weights: () => number[][]; perturb: () => void } {
  const base = tinyBase(32)
  const head = new ClassifierHead({ featureDim: 8, numClasses: 2, dropout: 0, seed: 1 })
  const events: TrainEvent[] = []
  const ctx = { params: { fineTuneAt: 7 }, io: { base }, head, emit: (e: TrainEvent) => events.push(e) }
  const vars = (): tf.Variable[] => [
    ...base.model.layers.slice(7).flatMap((l) => l.weights.map((w) => w.read() as tf.Variable)),
    ...head.variables()
  ]
  return {
    ctx: ctx as unknown as RunContext,
    events,
    weights: () => vars().map((v) => Array.from(v.dataSync())),
    perturb: () => vars().forEach((v) => v.assign(tf.add(v, 0.25)))
  }
}

describe('keep the better phase', () => {
  it('puts phase 1 back when fine-tuning did not lower the validation loss', () => {
    const { ctx, events, weights, perturb } = setUp()
    const before = weights()
    const snap = snapshotForPhase2(ctx)
    perturb()
    const kept = keepBetter(ctx, snap, [record('head', 1, 0.3), record('head', 2, 0.2)], [record('fine-tune', 3, 0.25)])
    expect(kept).toBe('head')
    expect(weights()).toEqual(before)
    expect(events.at(-2)).toMatchObject({ type: 'info', message: expect.stringMatching(/^kept phase 1/) })
    // ...and says which epoch's weights the model now holds (phase 1's lowest validation loss).
    expect(events.at(-1)).toMatchObject({ type: 'restored-best', phase: 'head' })
  })

  it('keeps the fine-tuned weights when they validated better', () => {
    const { ctx, weights, perturb } = setUp()
    const snap = snapshotForPhase2(ctx)
    perturb()
    const after = weights()
    const kept = keepBetter(
      ctx,
      snap,
      [record('head', 1, 0.3)],
      [record('fine-tune', 2, 0.31), record('fine-tune', 3, 0.1)]
    )
    expect(kept).toBe('fine-tune')
    expect(weights()).toEqual(after)
  })

  it('names the epoch with the lowest validation loss', () => {
    expect(bestEpoch([record('head', 1, 0.5), record('head', 2, 0.2), record('head', 3, 0.4)])).toBe(2)
    expect(bestEpoch([record('head', 1, null)])).toBeNull()
  })
})
