import { existsSync } from 'node:fs'
import { lrFindProject, type LrFindEvent, type LrFindOutcome } from '@core/run/lrFindProject'
import type { LrFindPoint } from '@core/training/lrFind'
import type { Command, CommandContext } from '../command'
import { num, requireDir } from '../args'
import { UsageError } from '../errors'
import { createProgressBar, type ProgressBar } from '../progress'
import { table } from '../format'
import { strategyFromOptions } from './split'
import { TRAIN_OPTIONS, trainOptionsFromCli } from './train'
import { createRunReporter } from '../runReporter'

const {
  epochs: _e,
  'fine-tune-at': _fa,
  'fine-tune-epochs': _fe,
  'fine-tune-lr': _fl,
  'head-lr-mult': _hm,
  lr: _lr,
  'early-stop': _es,
  top: _t,
  augment: _a,
  ...HEAD_AND_DATA_OPTIONS
} = TRAIN_OPTIONS

export const LR_FIND_OPTIONS = {
  ...HEAD_AND_DATA_OPTIONS,
  'start-lr': { type: 'string' },
  'end-lr': { type: 'string' },
  steps: { type: 'string' }
} as const

/** About `n` points of the curve, evenly spaced in steps, always with the last one. */
export function curveSample(points: readonly LrFindPoint[], n = 12): LrFindPoint[] {
  if (points.length <= n) return points.slice()
  const every = (points.length - 1) / (n - 1)
  return Array.from({ length: n }, (_, i) => points[Math.round(i * every)] as LrFindPoint)
}

const sci = (x: number): string => x.toExponential(2)

function reportOutcome(ctx: CommandContext, o: LrFindOutcome): void {
  const r = o.result
  if (ctx.json) {
    ctx.emit({
      event: 'done',
      suggestion: r.suggestion,
      steepest: r.steepest,
      minimum: r.minimum,
      stoppedBy: r.stoppedBy,
      baseId: o.baseId,
      backend: o.backend.name,
      classes: o.classes,
      trainImages: o.trainImages,
      featuresFromDisk: o.featuresFromDisk,
      seconds: o.seconds,
      points: r.points.map((p) => ({ lr: p.lr, loss: p.loss, rawLoss: p.rawLoss }))
    })
    return
  }
  ctx.say('')
  ctx.say(
    `range test: ${r.points.length} of ${r.steps} mini-batches, rate ${sci(r.startLr)} -> ${sci(r.points.at(-1)?.lr ?? r.endLr)}` +
      (r.stoppedBy === 'diverged' ? ' (stopped: the loss diverged)' : '') +
      `, ${o.trainImages} training images (${o.featuresFromDisk} features from the cache)`
  )
  ctx.say(
    table(
      ['rate', 'smoothed loss', 'batch loss'],
      curveSample(r.points).map((p) => [sci(p.lr), Number(p.loss.toFixed(4)), Number(p.rawLoss.toFixed(4))])
    )
  )
  ctx.say(
    `steepest descent ${r.steepest ? sci(r.steepest.lr) : '-'}; minimum/10 ${r.minimum ? sci(r.minimum.lr) : '-'}`
  )
  ctx.say(
    `suggested learning rate (valley): ${sci(r.suggestion.lr)}  -> train --lr ${Number(r.suggestion.lr.toPrecision(2))}`
  )
  ctx.say(
    `seconds: prepare ${o.seconds.prepare.toFixed(1)}, features ${o.seconds.features.toFixed(1)}, range test ${o.seconds.rangeTest.toFixed(1)}`
  )
}

export const lrFindCommand: Command = {
  name: 'lr-find',
  summary:
    "Learning-rate range test (fastai's lr_find) on the cached base features: prints the loss-vs-rate curve and a suggested rate for the head.",
  usage:
    'lr-find <dir> [--recipe NAME] [--base ID] [--weights PATH | --random-weights] [--size N] [--resize MODE] [--ratios a,b,c | --use-folder-split] [--test-from-val F] [--batch N] [--optimizer adam|rmsprop|sgd] [--momentum X] [--dense N] [--dropout X] [--class-weights balanced] [--backend NAME] [--seed N] [--start-lr X] [--end-lr X] [--steps N] [--rescan] [--json]',
  options: LR_FIND_OPTIONS,
  async run(positionals, values, ctx) {
    const dir = requireDir(positionals, 'lr-find')
    if (!existsSync(dir)) throw new UsageError(`lr-find: ${dir} does not exist`)
    const opts = trainOptionsFromCli(values)
    const startLr = num(values, 'start-lr', { min: 1e-12, max: 100 })
    const endLr = num(values, 'end-lr', { min: 1e-12, max: 1000 })
    if ((endLr ?? 10) <= (startLr ?? 1e-7)) throw new UsageError(`--end-lr must be above --start-lr`)
    const steps = num(values, 'steps', { integer: true, min: 20, max: 10_000 })
    const report = createRunReporter(ctx)
    let bar: ProgressBar | undefined
    const onEvent = (e: LrFindEvent): void => {
      if (e.type !== 'lr-find-progress') return report(e)
      if (ctx.json)
        return ctx.emit({ event: 'lr-find-progress', step: e.step, steps: e.steps, lr: e.lr, loss: e.smoothedLoss })
      bar ??= createProgressBar('range test', e.steps)
      bar.update(e.step, `rate ${sci(e.lr)} loss ${e.smoothedLoss.toFixed(4)}`)
    }
    const split = opts.split !== 'reuse' ? strategyFromOptions(values, true) : opts.split
    const outcome = await lrFindProject(dir, { ...opts, split }, { startLr, endLr, steps }, onEvent, ctx.signal)
    const r = outcome.result
    bar?.finish(r.stoppedBy === 'diverged' ? `stopped at step ${r.points.length}: the loss diverged` : undefined)
    reportOutcome(ctx, outcome)
  }
}
