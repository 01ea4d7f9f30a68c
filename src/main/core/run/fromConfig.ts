// A run request (src/shared/runConfig.ts) -> the orchestrator's TrainOptions: the recipe fills what the request
// left out, explicit settings win. Used by the CLI and by training.start alike.
import type { RunConfig, WeightsRequest } from '@shared/runConfig'
import { runConfigSchema } from '@shared/runConfig'
import { recipeOf } from '@shared/recipes'
import { RUN_DEFAULTS, type TrainOptions, type WeightsChoice } from './options'

/** Where official weights come from: the app's cache folder, or a mirror given on the CLI. */
export interface WeightsEnv {
  weightsCacheDir?: string
  weightsUrl?: string
}

export function weightsChoiceOf(w: WeightsRequest, env: WeightsEnv = {}): WeightsChoice {
  if (w === 'random') return { kind: 'random' }
  if (w === 'official') {
    return {
      kind: 'download',
      ...(env.weightsUrl !== undefined ? { baseUrl: env.weightsUrl } : {}),
      ...(env.weightsCacheDir !== undefined ? { cacheDir: env.weightsCacheDir } : {})
    }
  }
  return { kind: 'file', path: w.path }
}

/** Validates `config` (throws a ZodError naming the field) and resolves it against its recipe. */
export function trainOptionsFromConfig(config: RunConfig, env: WeightsEnv = {}): TrainOptions {
  const received = runConfigSchema.parse(config)
  const recipe = recipeOf(received.recipe)
  const r = recipe.settings
  const c = received
  const lr = c.lr ?? r.lr
  const fineTuneEpochs = c.fineTuneEpochs ?? r.fineTuneEpochs
  const phase2 = (fineTuneEpochs ?? 0) > 0
  const fineTuneAt = c.fineTuneAt ?? r.fineTuneAt
  const headLrMultiplier = c.headLrMultiplier ?? r.headLrMultiplier
  const dense = c.dense ?? r.dense
  const momentum = c.momentum ?? r.momentum
  const earlyStopPatience = c.earlyStopPatience ?? r.earlyStopPatience
  const l2 = c.l2 ?? r.l2
  return {
    recipe: recipe.name,
    received,
    baseId: c.baseId,
    weights: weightsChoiceOf(c.weights, env),
    ...(c.size !== undefined ? { size: c.size } : {}),
    resizeMode: c.resizeMode ?? RUN_DEFAULTS.resizeMode,
    split: c.split ?? 'reuse',
    augment: c.augment ?? r.augment,
    epochs: c.epochs ?? r.epochs,
    batchSize: c.batchSize ?? r.batchSize,
    lr,
    optimizer: c.optimizer ?? r.optimizer,
    ...(momentum !== undefined ? { momentum } : {}),
    ...(dense !== undefined && dense > 0 ? { dense } : {}),
    dropout: c.dropout ?? r.dropout,
    ...(l2 !== undefined && l2 > 0 ? { l2 } : {}),
    seed: c.seed ?? RUN_DEFAULTS.seed,
    ...(fineTuneEpochs !== undefined ? { fineTuneEpochs } : {}),
    ...(phase2 && fineTuneAt !== undefined ? { fineTuneAt } : {}),
    // lr / the recipe's divisor (the TF tutorial's lr / 10, the engine's own default too).
    ...(phase2 ? { fineTuneLr: c.fineTuneLr ?? lr / r.fineTuneLrDivisor } : {}),
    ...(phase2 && headLrMultiplier !== undefined ? { headLrMultiplier } : {}),
    ...(phase2 && c.fineTuneOptimizer !== undefined ? { fineTuneOptimizer: c.fineTuneOptimizer } : {}),
    ...(earlyStopPatience !== undefined ? { earlyStopPatience } : {}),
    classWeights: c.classWeights ?? null,
    backend: c.backend ?? 'auto',
    ...(c.evaluateTrain !== undefined ? { evaluateTrain: c.evaluateTrain } : {}),
    topN: RUN_DEFAULTS.topN,
    unsureThreshold: RUN_DEFAULTS.unsureThreshold
  }
}
