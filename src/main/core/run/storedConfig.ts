// The config a run stores (src/shared/runConfig.ts StoredRunConfig): what it received, what it ran with, and the
// recipe's choices. Choices made during training (e.g. which phase was kept) are appended when they are known.
import type { SplitStrategy } from '@shared/domain'
import {
  resolvedRunConfigSchema,
  storedRunConfigSchema,
  type RunChoice,
  type StoredRunConfig,
  type WeightsRequest
} from '@shared/runConfig'
import type { ProjectStore } from '../store/projectStore'
import type { JsonValue } from '../store/rows'
import type { TrainOptions, WeightsChoice } from './options'

function weightsRequestOf(w: WeightsChoice): WeightsRequest {
  return w.kind === 'random' ? 'random' : w.kind === 'file' ? { path: w.path } : 'official'
}

export function storedRunConfig(
  opts: TrainOptions,
  run: { baseId: string; classes: string[]; splitId: number; strategy: SplitStrategy },
  choices: RunChoice[]
): StoredRunConfig {
  const recipe = opts.recipe ?? 'tf-tutorial'
  const resolved = resolvedRunConfigSchema.parse({
    recipe,
    ...(opts.received?.name !== undefined ? { name: opts.received.name } : {}),
    baseId: run.baseId,
    weights: weightsRequestOf(opts.weights),
    resizeMode: opts.resizeMode,
    split: run.strategy,
    augment: opts.augment,
    epochs: opts.epochs,
    batchSize: opts.batchSize,
    lr: opts.lr,
    optimizer: opts.optimizer,
    ...(opts.momentum !== undefined ? { momentum: opts.momentum } : {}),
    ...(opts.dense !== undefined ? { dense: opts.dense } : {}),
    dropout: opts.dropout,
    ...(opts.l2 !== undefined ? { l2: opts.l2 } : {}),
    seed: opts.seed,
    ...(opts.fineTuneAt !== undefined ? { fineTuneAt: opts.fineTuneAt } : {}),
    ...(opts.fineTuneEpochs !== undefined ? { fineTuneEpochs: opts.fineTuneEpochs } : {}),
    ...(opts.fineTuneLr !== undefined ? { fineTuneLr: opts.fineTuneLr } : {}),
    ...(opts.headLrMultiplier !== undefined ? { headLrMultiplier: opts.headLrMultiplier } : {}),
    ...(opts.fineTuneOptimizer !== undefined ? { fineTuneOptimizer: opts.fineTuneOptimizer } : {}),
    ...(opts.earlyStopPatience !== undefined ? { earlyStopPatience: opts.earlyStopPatience } : {}),
    classWeights: opts.classWeights ?? null,
    ...(opts.backend !== undefined ? { backend: opts.backend } : {}),
    ...(opts.evaluateTrain !== undefined ? { evaluateTrain: opts.evaluateTrain } : {}),
    classes: run.classes,
    splitId: run.splitId
  })
  // Options built in code (no request): what was received is every setting they give.
  const { classes: _c, splitId: _s, ...asRequest } = resolved
  return { recipe, received: opts.received ?? asRequest, resolved, choices }
}

/** Appends choices made while training to a stored run's config. */
export function appendRunChoices(store: ProjectStore, runId: number, more: RunChoice[]): void {
  if (more.length === 0) return
  const row = store.db.prepare('SELECT config FROM runs WHERE id = ?').get(runId) as { config: string } | undefined
  if (!row) return
  const parsed = storedRunConfigSchema.safeParse(JSON.parse(row.config) as JsonValue)
  if (!parsed.success) return
  const next: StoredRunConfig = { ...parsed.data, choices: [...parsed.data.choices, ...more] }
  store.db.prepare('UPDATE runs SET config = ? WHERE id = ?').run(JSON.stringify(next), runId)
}
