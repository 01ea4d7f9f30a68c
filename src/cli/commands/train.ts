import { existsSync } from 'node:fs'
import type { SplitName } from '@shared/domain'
import { parseAugmentSpec, AUGMENT_PRESETS } from '@core/pipeline/augment'
import { RESIZE_MODES } from '@core/pipeline/decode'
import { describeBase } from '@core/models'
import { trainProject } from '@core/run/trainProject'
import { DEFAULT_TRAIN_OPTIONS, type TrainOptions, type WeightsChoice } from '@core/run/options'
import type { RunEvent } from '@core/run/events'
import type { OptimizerName } from '@core/training/types'
import type { BackendPreference } from '@core/tf/backend'
import { describeBackend } from '@core/tf/describeBackend'
import type { ResizeMode } from '@shared/domain'
import type { Command, CommandContext } from '../command'
import { num, requireDir, str } from '../args'
import { UsageError } from '../errors'
import { createProgressBar, type ProgressBar } from '../progress'
import { table } from '../format'
import { SPLIT_OPTIONS, strategyFromOptions } from './split'

type Values = Record<string, string | boolean | string[] | undefined>

const OPTIMIZERS: readonly OptimizerName[] = ['adam', 'rmsprop', 'sgd']
const BACKENDS: readonly BackendPreference[] = ['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu']

function oneOf<T extends string>(values: Values, name: string, allowed: readonly T[]): T | undefined {
  const v = str(values, name)
  if (v === undefined) return undefined
  if (!(allowed as readonly string[]).includes(v))
    throw new UsageError(`--${name}: '${v}' is not one of ${allowed.join(', ')}`)
  return v as T
}

export function trainOptionsFromCli(values: Values): TrainOptions {
  const d = DEFAULT_TRAIN_OPTIONS
  const baseId = str(values, 'base') ?? d.baseId
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
  const weights: WeightsChoice =
    weightsPath !== undefined
      ? { kind: 'file', path: weightsPath }
      : values['random-weights'] === true
        ? { kind: 'random' }
        : { kind: 'download', baseUrl: str(values, 'weights-url') }

  const augmentText = str(values, 'augment') ?? 'none'
  let augment
  try {
    augment = AUGMENT_PRESETS[augmentText] ?? parseAugmentSpec(augmentText)
  } catch (e) {
    throw new UsageError(`--augment: ${(e as Error).message}`)
  }
  const splitGiven =
    values.ratios !== undefined || values['use-folder-split'] === true || values['test-from-val'] !== undefined
  const fineTuneAt = num(values, 'fine-tune-at', { integer: true, min: 1 })
  const fineTuneEpochs = num(values, 'fine-tune-epochs', { integer: true, min: 0 })
  if (fineTuneAt !== undefined && fineTuneEpochs === undefined)
    throw new UsageError('--fine-tune-at needs --fine-tune-epochs N')
  const classWeights = oneOf(values, 'class-weights', ['balanced', 'none'] as const)
  return {
    ...d,
    baseId,
    weights,
    size: num(values, 'size', { integer: true, min: 32, max: 1024 }),
    resizeMode: oneOf<ResizeMode>(values, 'resize', RESIZE_MODES) ?? d.resizeMode,
    // The split needs to know the layout; 'reuse' is resolved by the orchestrator, an explicit one below.
    split: splitGiven ? { kind: 'ratios', ratios: [0.8, 0.1, 0.1], seed: 0 } : 'reuse',
    augment,
    epochs: num(values, 'epochs', { integer: true, min: 0 }) ?? d.epochs,
    batchSize: num(values, 'batch', { integer: true, min: 1, max: 4096 }) ?? d.batchSize,
    lr: num(values, 'lr', { min: 1e-12, max: 10 }) ?? d.lr,
    optimizer: oneOf(values, 'optimizer', OPTIMIZERS) ?? d.optimizer,
    momentum: num(values, 'momentum', { min: 0, max: 1 }),
    dense: num(values, 'dense', { integer: true, min: 0 }),
    dropout: num(values, 'dropout', { min: 0, max: 0.99 }) ?? d.dropout,
    seed: num(values, 'seed', { integer: true, min: 0 }) ?? d.seed,
    fineTuneAt,
    fineTuneEpochs,
    fineTuneLr: num(values, 'fine-tune-lr', { min: 1e-12, max: 10 }),
    headLrMultiplier: num(values, 'head-lr-mult', { min: 1e-6, max: 1e6 }),
    earlyStopPatience: num(values, 'early-stop', { integer: true, min: 0 }),
    classWeights: classWeights === 'balanced' ? 'balanced' : null,
    backend: oneOf(values, 'backend', BACKENDS) ?? 'auto',
    topN: num(values, 'top', { integer: true, min: 1, max: 1000 }) ?? d.topN,
    rescan: values.rescan === true,
    evaluateTrain: values['evaluate-train'] === true
  }
}

/** Renders run events as progress bars and lines on stderr/stdout, or as JSON lines. */
export function createRunReporter(ctx: CommandContext): (e: RunEvent) => void {
  let bar: ProgressBar | undefined
  let barKey = ''
  const barFor = (key: string, label: string, total: number): ProgressBar => {
    if (barKey !== key || !bar) {
      bar = createProgressBar(label, total)
      barKey = key
    }
    return bar
  }
  const endBar = (extra?: string): void => {
    bar?.finish(extra)
    bar = undefined
    barKey = ''
  }
  return (e) => {
    if (ctx.json) {
      if (
        e.type === 'scan-progress' ||
        e.type === 'download-progress' ||
        e.type === 'features' ||
        e.type === 'activations' ||
        e.type === 'evaluate-progress'
      )
        return
      const { type, ...rest } = e
      ctx.emit({ event: type, ...rest })
      return
    }
    switch (e.type) {
      case 'scan-progress':
        barFor('scan', 'scan    ', e.total).update(e.done)
        if (e.done === e.total) endBar()
        return
      case 'download-progress':
        barFor('download', 'download', e.total ?? 0).update(e.bytes, `${(e.bytesPerSecond / 1e6).toFixed(1)} MB/s`)
        return
      case 'stage':
        if (bar) endBar()
        ctx.say(`» ${e.stage}: ${e.detail}`)
        return
      case 'backend':
        ctx.say(
          `  backend: ${describeBackend(e.info)}${e.info.skipped.length ? `; not used: ${e.info.skipped.map((s) => `${s.name} (${s.reason})`).join('; ')}` : ''}`
        )
        return
      case 'run-created':
        ctx.say(
          `  run #${e.runId}: ${e.classes.length} classes (${e.classes.join(', ')}); train ${e.counts.train}, validation ${e.counts.validation}, test ${e.counts.test}`
        )
        return
      case 'phase-start':
        if (bar) endBar()
        ctx.say(
          `» ${e.phase === 'head' ? 'phase 1 (head, base frozen)' : `phase 2 (fine-tuning from layer ${e.fineTuneAt})`}: ${e.epochs} epoch(s), ${e.path}: ${e.detail}`
        )
        return
      case 'features':
        barFor(`features-${e.split}`, `features ${e.split === 'train' ? 'train' : 'val  '}`, e.total).update(
          e.done,
          e.fromDisk ? `(${e.fromDisk} cached)` : ''
        )
        if (e.done === e.total) endBar()
        return
      case 'activations':
        barFor(`act-${e.split}`, `frozen part ${e.split === 'train' ? 'train' : 'val  '}`, e.total).update(e.done)
        if (e.done === e.total) endBar()
        return
      case 'batch':
        barFor(`epoch-${e.epoch}`, `epoch ${String(e.epoch).padStart(3)}`, e.batches).update(
          e.batch,
          `loss ${e.loss.toFixed(4)} acc ${e.accuracy.toFixed(3)} ${e.imagesPerSec.toFixed(0)} img/s`
        )
        return
      case 'epoch': {
        const val =
          e.valLoss !== null ? ` val_loss ${e.valLoss.toFixed(4)} val_acc ${(e.valAccuracy ?? 0).toFixed(4)}` : ''
        const line = `epoch ${String(e.epoch).padStart(3)} ${e.phase === 'head' ? 'p1' : 'p2'} loss ${e.loss.toFixed(4)} acc ${e.accuracy.toFixed(4)}${val} (${e.seconds.toFixed(1)} s, ${e.imagesPerSec.toFixed(0)} img/s)`
        if (bar && barKey === `epoch-${e.epoch}`) {
          bar = undefined
          barKey = ''
          process.stderr.write(process.stderr.isTTY ? '\r\x1b[2K' : '')
        }
        ctx.say(line)
        return
      }
      case 'early-stop':
        ctx.say(`  early stop at epoch ${e.epoch}: best val_loss ${e.bestValLoss.toFixed(4)} at epoch ${e.bestEpoch}`)
        return
      case 'restored-best':
        ctx.say(`  restored the weights of epoch ${e.bestEpoch}`)
        return
      case 'evaluate-progress':
        barFor(`eval-${e.split}`, `eval ${e.split}`, e.total).update(e.done)
        return
      case 'evaluation':
        ctx.say(
          `  ${e.split}: accuracy ${e.metrics.accuracy.toFixed(4)}, loss ${e.metrics.loss.toFixed(4)} (${e.metrics.count} images)`
        )
        return
      case 'info':
        ctx.say(`  ${e.message}`)
        return
    }
  }
}

export const TRAIN_OPTIONS = {
  ...SPLIT_OPTIONS,
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
    'train <dir> [--base ID] [--weights PATH | --random-weights] [--size N] [--resize squash|center-crop|pad] [--ratios a,b,c | --use-folder-split] [--test-from-val F] [--augment SPEC|none] [--epochs N] [--fine-tune-at N --fine-tune-epochs N] [--fine-tune-lr X] [--head-lr-mult X] [--batch N] [--lr X] [--optimizer adam|rmsprop|sgd] [--momentum X] [--dense N] [--dropout X] [--early-stop N] [--class-weights balanced] [--backend NAME] [--seed N] [--rescan] [--evaluate-train] [--json]',
  options: TRAIN_OPTIONS,
  async run(positionals, values, ctx) {
    const dir = requireDir(positionals, 'train')
    if (!existsSync(dir)) throw new UsageError(`train: ${dir} does not exist`)
    const opts = trainOptionsFromCli(values)
    const explicitSplit = opts.split !== 'reuse'
    const report = createRunReporter(ctx)
    const outcome = await trainProject(
      dir,
      explicitSplit ? { ...opts, split: strategyFromOptions(values, true) } : opts,
      report,
      ctx.signal
    )
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
