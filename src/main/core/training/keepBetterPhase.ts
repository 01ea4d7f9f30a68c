// Phase 1 vs phase 2: the weights at the end of phase 1 are kept aside, and restored when fine-tuning did not reach a
// lower validation loss than the head alone (fine-tuning a small data set can make things worse).
import type * as tf from '@tensorflow/tfjs'
import { WeightCheckpoint } from './checkpoint'
import type { RunContext } from './context'
import type { EpochRecord, TrainPhase } from './types'

export interface Phase1Snapshot {
  checkpoint: WeightCheckpoint
}

/** Saves the head and every base variable phase 2 may change (all layers from the cut on). */
export function snapshotForPhase2(ctx: RunContext): Phase1Snapshot {
  const at = ctx.params.fineTuneAt ?? ctx.io.base.spec.defaultFineTuneAt ?? 0
  const baseVars = ctx.io.base.model.layers.slice(at).flatMap((l) => l.weights.map((w) => w.read() as tf.Variable))
  const checkpoint = new WeightCheckpoint([...baseVars, ...ctx.head.variables()])
  checkpoint.save(0)
  return { checkpoint }
}

function bestValLoss(records: readonly EpochRecord[]): number {
  return Math.min(...records.map((r) => r.valLoss ?? Infinity))
}

/** 1-based epoch of the lowest validation loss (the one early stopping kept), or null. */
export function bestEpoch(records: readonly EpochRecord[]): number | null {
  let best: EpochRecord | null = null
  for (const r of records) if (r.valLoss !== null && (best === null || r.valLoss < (best.valLoss ?? Infinity))) best = r
  return best?.epoch ?? null
}

/** Restores phase 1's weights unless phase 2 validated better; returns the phase the model now holds. */
export function keepBetter(
  ctx: RunContext,
  phase1: Phase1Snapshot,
  p1: readonly EpochRecord[],
  p2: readonly EpochRecord[]
): TrainPhase {
  const a = bestValLoss(p1)
  const b = bestValLoss(p2)
  if (b < a) {
    ctx.emit({
      type: 'info',
      message: `kept phase 2: fine-tuning lowered the validation loss from ${a.toFixed(4)} to ${b.toFixed(4)}`
    })
    return 'fine-tune'
  }
  phase1.checkpoint.restore()
  ctx.emit({
    type: 'info',
    message: `kept phase 1: fine-tuning did not lower the validation loss (${b.toFixed(4)} vs ${a.toFixed(4)}), its weights were put back`
  })
  const kept = bestEpoch(p1)
  if (kept !== null) ctx.emit({ type: 'restored-best', phase: 'head', bestEpoch: kept })
  return 'head'
}
