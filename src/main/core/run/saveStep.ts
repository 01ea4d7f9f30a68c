// Run step 6, save: the trained model (TF.js layers + tunelab.json) into the run's model folder.
import type { SplitName } from '@shared/domain'
import type { BaseNetwork } from '../models'
import { exportModel } from '../export/exportModel'
import type { TrainResult } from '../training/types'
import type { SplitMetrics } from '../eval/types'
import { runModelDir } from '../store/runModelDir'
import type { RunEventListener } from './events'
import type { TrainOptions } from './options'

export type MetricsSummary = Partial<Record<SplitName, { accuracy: number; loss: number; count: number }>>

export function summarize(metrics: Partial<Record<SplitName, SplitMetrics>>): MetricsSummary {
  return Object.fromEntries(
    Object.entries(metrics).map(([s, m]) => [s, { accuracy: m.accuracy, loss: m.loss, count: m.count }])
  )
}

export async function saveStep(
  modelsDir: string,
  runId: number,
  opts: TrainOptions,
  classes: string[],
  base: BaseNetwork,
  result: TrainResult,
  summary: MetricsSummary,
  emit: RunEventListener
): Promise<string> {
  const dir = runModelDir(modelsDir, runId)
  emit({ type: 'stage', stage: 'save', detail: dir })
  await exportModel(
    {
      model: result.model,
      classes,
      base: { id: base.spec.id, size: base.spec.size },
      resizeMode: opts.resizeMode,
      preprocessing: base.spec.preprocessing,
      outputUnits: result.outputUnits,
      runId: String(runId),
      metrics: summary
    },
    dir,
    { overwrite: true }
  )
  return dir
}
