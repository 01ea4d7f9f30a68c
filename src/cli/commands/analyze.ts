import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import type { SplitName } from '@shared/domain'
import { openProjectState } from '@core/store/projectState'
import type { ProjectStore } from '@core/store/projectStore'
import type { Analyses } from '@core/eval/analyses'
import { Interpretation } from '@core/eval/interpretation'
import type { ImagePrediction, SplitMetrics } from '@core/eval/types'
import type { Command, CommandContext } from '../command'
import { num, requireDir } from '../args'
import { UsageError } from '../errors'
import { table } from '../format'

export interface SplitReport {
  split: SplitName
  metrics: SplitMetrics
  analyses: Analyses
}

/** Recomputes metrics and analyses of a stored run from its stored per-image predictions. */
export function analyseRun(
  store: ProjectStore,
  projectId: number,
  runId: number,
  topN: number,
  unsureThreshold: number
): SplitReport[] {
  const run = store.getRun(runId)
  if (!run || run.projectId !== projectId) throw new UsageError(`--run: there is no run #${runId} in this project`)
  const classes = run.classes
  const paths = new Map(
    store.listImages(projectId, { includeMissing: true, includeUnreadable: true }).map((im) => [im.id, im.relPath])
  )
  const out: SplitReport[] = []
  for (const split of ['validation', 'test'] as const) {
    const preds = store.getPredictions(runId, { split })
    if (preds.length === 0) continue
    const interp = Interpretation.fromStored(classes, preds, (id) => paths.get(id) ?? String(id))
    out.push({ split, metrics: interp.metrics(), analyses: interp.analyses({ topN, unsureThreshold }) })
  }
  return out
}

function printReport(r: SplitReport, classes: string[], ctx: CommandContext): void {
  const m = r.metrics
  ctx.say(`== ${r.split}: ${m.count} images, accuracy ${(m.accuracy * 100).toFixed(2)}%, loss ${m.loss.toFixed(4)}`)
  ctx.say(
    table(
      ['class', 'precision', 'recall', 'f1', 'support'],
      m.perClass.map((c) => [c.name, c.precision.toFixed(3), c.recall.toFixed(3), c.f1.toFixed(3), c.support])
    )
  )
  ctx.say('')
  ctx.say('confusion (rows: true, columns: predicted)')
  ctx.say(
    table(
      ['', ...classes],
      m.confusion.map((row, i) => [classes[i] ?? String(i), ...row])
    )
  )
  for (const c of r.analyses.perClass) {
    const fmt = (list: ImagePrediction[], cls: (p: ImagePrediction) => number): string[] =>
      list.map(
        (p) =>
          `    ${(p.probs[cls(p)] ?? 0).toFixed(3)}  ${p.imageId}${p.predictedClass !== p.trueClass ? `  (predicted ${classes[p.predictedClass]})` : ''}`
      )
    ctx.say('')
    ctx.say(`class ${c.name}`)
    ctx.say(`  most confident (correct):`)
    for (const l of fmt(c.mostConfidentCorrect, (p) => p.trueClass)) ctx.say(l)
    ctx.say(`  least confident (nearest the decision boundary):`)
    for (const l of fmt(c.leastConfident, (p) => p.predictedClass)) ctx.say(l)
    ctx.say(`  confidently wrong:`)
    const wrong = fmt(c.confidentlyWrong, (p) => p.predictedClass)
    for (const l of wrong.length ? wrong : ['    (none)']) ctx.say(l)
  }
  ctx.say('')
  ctx.say('threshold sweep (predictions under the threshold are held back as unsure)')
  ctx.say(
    table(
      ['threshold', 'coverage', 'accuracy'],
      r.analyses.sweep.map((p) => [
        p.threshold.toFixed(2),
        (p.coverage * 100).toFixed(1) + '%',
        p.accuracy === null ? '-' : (p.accuracy * 100).toFixed(2) + '%'
      ])
    )
  )
  ctx.say(`unsure at ${r.analyses.unsure.threshold}: ${r.analyses.unsure.count} of ${m.count}`)
  ctx.say('')
}

export const analyzeCommand: Command = {
  name: 'analyze',
  summary:
    'Metrics, confusion matrix, per-class galleries (most/least confident, confidently wrong) and a threshold sweep of a run.',
  usage: 'analyze <dir> --run ID [--top N] [--threshold X] [--json]',
  options: { run: { type: 'string' }, top: { type: 'string' }, threshold: { type: 'string' } },
  async run(positionals, values, ctx) {
    const dir = resolve(requireDir(positionals, 'analyze'))
    if (!existsSync(dir)) throw new UsageError(`analyze: ${dir} does not exist`)
    const runId = num(values, 'run', { integer: true, min: 1 })
    if (runId === undefined) throw new UsageError('analyze: --run ID is required (see `runs <dir>`)')
    const topN = num(values, 'top', { integer: true, min: 1, max: 1000 }) ?? 5
    const threshold = num(values, 'threshold', { min: 0, max: 1 }) ?? 0.75
    const state = openProjectState(dir)
    try {
      const reports = analyseRun(state.store, state.project.id, runId, topN, threshold)
      const run = state.store.getRun(runId)
      if (ctx.json) {
        ctx.emit({ runId, classes: run?.classes, splits: reports })
        return
      }
      if (reports.length === 0) ctx.say(`run #${runId} has no stored predictions (status: ${run?.status})`)
      for (const r of reports) printReport(r, run?.classes ?? [], ctx)
    } finally {
      state.store.close()
    }
  }
}
