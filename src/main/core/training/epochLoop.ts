// The epoch loop shared by both phases: seeded shuffle, batches, events, validation,
// early stopping with best-weight restore, cancellation between batches.
import { eventYielder } from '../util/eventYield'
import { WeightCheckpoint } from './checkpoint'
import { permutation, type Rng } from './random'
import type { StepResult } from './step'
import type { EpochRecord, TrainEvent, TrainPhase } from './types'
import type * as tf from '@tensorflow/tfjs'

export interface PhaseLoopOptions {
  phase: TrainPhase
  /** 1-based number of this phase's first epoch. */
  firstEpoch: number
  epochs: number
  trainCount: number
  batchSize: number
  random: Rng
  lr: number
  patience?: number
  /** Variables trained in this phase (checkpointed for early stopping). */
  vars: tf.Variable[]
  step(indices: number[], epoch: number): Promise<StepResult>
  /** Told the batch after the one about to be stepped, so its images can be read ahead (ImageSet.hint). */
  prefetch?(nextIndices: number[]): void
  validate(): Promise<{ loss: number; accuracy: number } | null>
  emit(e: TrainEvent): void
  onEpochEnd?(e: EpochRecord): void | Promise<void>
  signal?: AbortSignal
}

export interface PhaseLoopResult {
  records: EpochRecord[]
  cancelled: boolean
  stoppedEarly: boolean
  restoredEpoch: number | null
}

export async function runPhase(o: PhaseLoopOptions): Promise<PhaseLoopResult> {
  const records: EpochRecord[] = []
  const batches = Math.ceil(o.trainCount / o.batchSize)
  const checkpoint = o.patience !== undefined ? new WeightCheckpoint(o.vars) : null
  let best = Infinity
  let sinceBest = 0
  let stoppedEarly = false
  let restoredEpoch: number | null = null
  const phaseStart = performance.now()
  let batchesDone = 0
  const letEventsIn = eventYielder()
  try {
    for (let e = 0; e < o.epochs; e++) {
      const epoch = o.firstEpoch + e
      const order = permutation(o.trainCount, o.random)
      const t0 = performance.now()
      let lossSum = 0
      let correct = 0
      let seen = 0
      for (let b = 0; b < batches; b++) {
        await letEventsIn() // a cancel request is an event: it must get a turn before the check below
        if (o.signal?.aborted) return { records, cancelled: true, stoppedEarly, restoredEpoch }
        const idx = order.slice(b * o.batchSize, (b + 1) * o.batchSize)
        if (o.prefetch && b + 1 < batches) o.prefetch(order.slice((b + 1) * o.batchSize, (b + 2) * o.batchSize))
        const r = await o.step(idx, epoch)
        lossSum += r.loss * idx.length
        correct += r.correct
        seen += idx.length
        batchesDone++
        const elapsed = (performance.now() - t0) / 1000
        const perBatch = (performance.now() - phaseStart) / 1000 / batchesDone
        o.emit({
          type: 'batch',
          phase: o.phase,
          epoch,
          batch: b + 1,
          batches,
          loss: lossSum / seen,
          accuracy: correct / seen,
          imagesPerSec: seen / Math.max(elapsed, 1e-9),
          etaSeconds: perBatch * (o.epochs * batches - batchesDone)
        })
      }
      const trainSeconds = (performance.now() - t0) / 1000
      const val = await o.validate()
      const record: EpochRecord = {
        phase: o.phase,
        epoch,
        loss: lossSum / seen,
        accuracy: correct / seen,
        valLoss: val ? val.loss : null,
        valAccuracy: val ? val.accuracy : null,
        lr: o.lr,
        seconds: (performance.now() - t0) / 1000,
        imagesPerSec: seen / Math.max(trainSeconds, 1e-9)
      }
      records.push(record)
      // Stored before it is shown: an epoch anyone has seen survives a crash right after it.
      await o.onEpochEnd?.(record)
      o.emit({ type: 'epoch', ...record })

      if (checkpoint && val) {
        if (val.loss < best) {
          best = val.loss
          sinceBest = 0
          checkpoint.save(epoch)
        } else if (++sinceBest >= (o.patience ?? Infinity)) {
          stoppedEarly = true
          o.emit({ type: 'early-stop', phase: o.phase, epoch, bestEpoch: checkpoint.epoch ?? epoch, bestValLoss: best })
          break
        }
      }
    }
    // Keep the best epoch's weights when the last epoch is not the best one.
    const last = records[records.length - 1]
    if (checkpoint && checkpoint.epoch !== null && last && checkpoint.epoch !== last.epoch && checkpoint.restore()) {
      restoredEpoch = checkpoint.epoch
      o.emit({ type: 'restored-best', phase: o.phase, bestEpoch: checkpoint.epoch })
    }
    return { records, cancelled: false, stoppedEarly, restoredEpoch }
  } finally {
    checkpoint?.clear()
  }
}
