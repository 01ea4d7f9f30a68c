import { existsSync } from 'node:fs'
import type { SplitName } from '@shared/domain'
import { parseAugmentSpec } from '@core/pipeline/augmentSpec'
import { RESIZE_MODES } from '@core/pipeline/decode'
import { describeBase } from '@core/models'
import { trainProject } from '@core/run/trainProject'
import { RUN_DEFAULTS, type TrainOptions } from '@core/run/options'
import { trainOptionsFromConfig } from '@core/run/fromConfig'
import {
  BACKEND_PREFERENCES,
  DEFAULT_RECIPE,
  INTEGER_SETTINGS,
  limitError,
  OPTIMIZERS,
  RECIPE_NAMES,
  type LimitedSetting,
  type RunConfig,
  type WeightsRequest
} from '@shared/runConfig'
import { RECIPES } from '@shared/recipes'
import type { ResizeMode } from '@shared/domain'
import type { Command } from '../command'
import { num, requireDir, str } from '../args'
import { UsageError } from '../errors'
import { createRunReporter } from '../runReporter'
import { table } from '../format'
import { SPLIT_OPTIONS, strategyFromOptions } from './split'

type Values = Record<string, string | boolean | string[] | undefined>

function oneOf<T extends string>(values: Values, name: string, allowed: readonly T[]): T | undefined {
  const v = str(values, name)
  if (v === undefined) return undefined
  if (!(allowed as readonly string[]).includes(v))
    throw new UsageError(`--${name}: '${v}' is not one of ${allowed.join(', ')}`)
  return v as T
}

/** A numeric option within the run-config schema's limits for `setting`. */
function limitedNum(values: Values, flag: string, setting: LimitedSetting): number | undefined {
  const v = num(values, flag, { integer: INTEGER_SETTINGS.has(setting) })
  if (v === undefined) return undefined
  const problem = limitError(setting, v)
  if (problem) throw new UsageError(`--${flag}: ${problem}`)
  return v
}

/** The run request the options describe (what the user gave; the recipe fills the rest). */
export function runConfigFromCli(values: Values): RunConfig {
  const baseId = str(values, 'base') ?? RUN_DEFAULTS.baseId
  try {
    describeBase(baseId)
  } catch (e) {
    throw new UsageError(`--base: ${(e as Error).message}`)
  }
  const weightsPath = str(values, 'weights')
  if (weightsPath !== undefined && values['random-weights'] === true)
    throw new UsageError('--weights and --random-weights exclude each other')
  if (weightsPath !== undefined && !existsSync(weightsPath))
    throw new UsageError(`--weights: ${weightsPath} does not exist`)
  const weights: WeightsRequest =
    weightsPath !== undefined ? { path: weightsPath } : values['random-weights'] === true ? 'random' : 'official'

  const augmentText = str(values, 'augment')
  let augment
  try {
    augment = augmentText === undefined ? undefined : parseAugmentSpec(augmentText)
  } catch (e) {
    throw new UsageError(`--augment: ${(e as Error).message}`)
  }
  const fineTuneAt = limitedNum(values, 'fine-tune-at', 'fineTuneAt')
  const fineTuneEpochs = limitedNum(values, 'fine-tune-epochs', 'fineTuneEpochs')
  if (fineTuneAt !== undefined && fineTuneEpochs === undefined)
    throw new UsageError('--fine-tune-at needs --fine-tune-epochs N')
  const classWeights = oneOf(values, 'class-weights', ['balanced', 'none'] as const)
  const splitGiven =
    values.ratios !== undefined || values['use-folder-split'] === true || values['test-from-val'] !== undefined
  const config: RunConfig = {
    recipe: oneOf(values, 'recipe', RECIPE_NAMES) ?? DEFAULT_RECIPE,
    baseId,
    weights,
    size: limitedNum(values, 'size', 'size'),
    resizeMode: oneOf<ResizeMode>(values, 'resize', RESIZE_MODES),
    // Whether the folder split exists is checked against the scan by the orchestrator.
    split: splitGiven ? strategyFromOptions(values, true) : undefined,
    augment,
    epochs: limitedNum(values, 'epochs', 'epochs'),
    batchSize: limitedNum(values, 'batch', 'batchSize'),
    lr: limitedNum(values, 'lr', 'lr'),
    optimizer: oneOf(values, 'optimizer', OPTIMIZERS),
    momentum: limitedNum(values, 'momentum', 'momentum'),
    dense: limitedNum(values, 'dense', 'dense'),
    dropout: limitedNum(values, 'dropout', 'dropout'),
    l2: limitedNum(values, 'l2', 'l2'),
    seed: limitedNum(values, 'seed', 'seed'),
    fineTuneAt,
    fineTuneEpochs,
    fineTuneLr: limitedNum(values, 'fine-tune-lr', 'lr'),
    headLrMultiplier: limitedNum(values, 'head-lr-mult', 'headLrMultiplier'),
    earlyStopPatience: limitedNum(values, 'early-stop', 'earlyStopPatience'),
    classWeights: classWeights === undefined ? undefined : classWeights === 'balanced' ? 'balanced' : null,
    backend: oneOf(values, 'backend', BACKEND_PREFERENCES),
    evaluateTrain: values['evaluate-train'] === true ? true : undefined
  }
  // Leave out what was not given, so the stored request says exactly what the user asked for.
  return Object.fromEntries(Object.entries(config).filter(([, v]) => v !== undefined)) as RunConfig
}

export function trainOptionsFromCli(values: Values): TrainOptions {
  const opts = trainOptionsFromConfig(runConfigFromCli(values), { weightsUrl: str(values, 'weights-url') })
  return {
    ...opts,
    topN: num(values, 'top', { integer: true, min: 1, max: 1000 }) ?? opts.topN,
    rescan: values.rescan === true
  }
}

export const TRAIN_OPTIONS = {
  ...SPLIT_OPTIONS,
  recipe: { type: 'string' },
  base: { type: 'string' },
  weights: { type: 'string' },
  'random-weights': { type: 'boolean' },
  'weights-url': { type: 'string' },
  size: { type: 'string' },
  resize: { type: 'string' },
  augment: { type: 'string' },
  epochs: { type: 'string' },
  'fine-tune-at': { type: 'string' },
  'fine-tune-epochs': { type: 'string' },
  'fine-tune-lr': { type: 'string' },
  'head-lr-mult': { type: 'string' },
  batch: { type: 'string' },
  lr: { type: 'string' },
  optimizer: { type: 'string' },
  momentum: { type: 'string' },
  dense: { type: 'string' },
  dropout: { type: 'string' },
  l2: { type: 'string' },
  'early-stop': { type: 'string' },
  'class-weights': { type: 'string' },
  backend: { type: 'string' },
  top: { type: 'string' },
  rescan: { type: 'boolean' },
  'evaluate-train': { type: 'boolean' }
} as const

export const trainCommand: Command = {
  name: 'train',
  summary:
    'Train a classifier on top of a pretrained base (phase 1), optionally fine-tune it (phase 2), evaluate and store everything.',
  usage:
    `train <dir> [--recipe ${RECIPE_NAMES.join('|')}] [--base ID] [--weights PATH | --random-weights] [--size N] [--resize squash|center-crop|pad] [--ratios a,b,c | --use-folder-split] [--test-from-val F] [--augment SPEC|none] [--epochs N] [--fine-tune-at N --fine-tune-epochs N] [--fine-tune-lr X] [--head-lr-mult X] [--batch N] [--lr X] [--optimizer adam|rmsprop|sgd] [--momentum X] [--dense N] [--dropout X] [--l2 X] [--early-stop N] [--class-weights balanced] [--backend NAME] [--seed N] [--rescan] [--evaluate-train] [--json]\n\n` +
    `Recipes fill every setting you do not give (explicit options win); the default is ${DEFAULT_RECIPE}:\n` +
    Object.values(RECIPES)
      .map((r) => `  ${r.name.padEnd(12)} ${r.summary}`)
      .join('\n'),
  options: TRAIN_OPTIONS,
  async run(positionals, values, ctx) {
    const dir = requireDir(positionals, 'train')
    if (!existsSync(dir)) throw new UsageError(`train: ${dir} does not exist`)
    const opts = trainOptionsFromCli(values)
    const report = createRunReporter(ctx)
    const outcome = await trainProject(dir, opts, report, ctx.signal)
    const metrics: Record<string, { accuracy: number; loss: number }> = {}
    for (const [s, m] of Object.entries(outcome.metrics) as [SplitName, { accuracy: number; loss: number }][]) {
      metrics[s === 'validation' ? 'val' : s] = { accuracy: m.accuracy, loss: m.loss }
    }
    const seconds = Object.fromEntries(
      Object.entries(outcome.seconds).map(([k, v]) => [k, Math.round(v * 1000) / 1000])
    )
    if (ctx.json) {
      ctx.emit({
        event: 'done',
        status: outcome.status,
        runId: outcome.runId,
        dbPath: outcome.dbPath,
        backend: outcome.backend.name,
        seconds,
        metrics
      })
    } else {
      ctx.say('')
      ctx.say(
        `run #${outcome.runId} ${outcome.status} on ${outcome.backend.name} in ${outcome.seconds.total?.toFixed(1) ?? '?'} s`
      )
      ctx.say(
        table(
          ['stage', 'seconds'],
          Object.entries(seconds).map(([k, v]) => [k, v])
        )
      )
      for (const [s, m] of Object.entries(metrics)) ctx.say(`${s} accuracy ${m.accuracy.toFixed(4)}`)
      ctx.say(`stored in ${outcome.dbPath}`)
    }
    outcome.result.dispose()
  }
}
