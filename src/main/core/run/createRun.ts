// Run step 3, create the run (or complete the row the caller began): the runs row with the config as received, as
// resolved and the recipe's choices,
// owned by this process; from here on every epoch and prediction is stored against its id.
import type { ProjectStore } from '../store/projectStore'
import type { JsonValue, RunRow } from '../store/rows'
import type { BaseNetwork } from '../models'
import type { BackendInfo } from '../tf/backend'
import type { RunEventListener } from './events'
import type { TrainOptions } from './options'
import type { PreparedData, SplitSets } from './prepareData'
import { labelStore } from '../labels/projectLabels'
import { storedRunConfig } from './storedConfig'
import type { RunChoice } from '@shared/runConfig'

export function createRunStep(
  store: ProjectStore,
  dbPath: string,
  opts: TrainOptions,
  data: PreparedData,
  sets: SplitSets,
  base: BaseNetwork,
  backend: BackendInfo,
  emit: RunEventListener,
  choices: RunChoice[] = [],
  target?: { runId: number }
): RunRow {
  const { classes, split, strategy } = data
  const stored = storedRunConfig(opts, { baseId: base.spec.id, classes, splitId: split.id, strategy }, choices)
  const config = stored as unknown as JsonValue
  const details = {
    config,
    classes,
    splitId: split.id,
    baseId: base.spec.id,
    weightsSource: base.weightsSource.path ?? base.weightsSource.kind,
    weightsChecksum: base.weightsSource.sha256 ?? null,
    backend: backend.name,
    backendNotes: backend as unknown as JsonValue,
    seed: opts.seed
  }
  const run = target
    ? store.resolveRun(target.runId, details)
    : store.createRun({ projectId: data.projectId, ...details })
  labelStore(store).recordRun(run.id, data.overridesUsed)
  store.markRunStarted(run.id, { backend: backend.name, notes: backend as unknown as JsonValue })
  emit({ type: 'run-created', runId: run.id, dbPath, classes, counts: sets.counts })
  return run
}
