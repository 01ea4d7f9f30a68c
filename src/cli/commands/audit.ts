import { existsSync } from 'node:fs'
import { describeBase } from '@core/models'
import { DEFAULT_AUDIT_OPTIONS, runAudit, type AuditEvent, type AuditOptions } from '@core/audit/runAudit'
import type { WeightsChoice } from '@core/run/options'
import { RESIZE_MODES } from '@core/pipeline/decode'
import { describeBackend } from '@core/tf/describeBackend'
import type { ResizeMode } from '@shared/domain'
import type { Command, CommandContext } from '../command'
import { num, requireDir, str } from '../args'
import { UsageError } from '../errors'
import { createProgressBar, type ProgressBar } from '../progress'

type Values = Record<string, string | boolean | string[] | undefined>

export function auditOptionsFromCli(values: Values): AuditOptions {
  const d = DEFAULT_AUDIT_OPTIONS
  const baseId = str(values, 'base') ?? d.baseId
  try {
    describeBase(baseId)
  } catch (e) {
    throw new UsageError(`--base: ${(e as Error).message}`)
  }
  const weightsPath = str(values, 'weights')
  if (weightsPath !== undefined && !existsSync(weightsPath))
    throw new UsageError(`--weights: ${weightsPath} does not exist`)
  const weights: WeightsChoice =
    weightsPath !== undefined
      ? { kind: 'file', path: weightsPath }
      : { kind: 'download', baseUrl: str(values, 'weights-url') }
  const resize = str(values, 'resize')
  if (resize !== undefined && !(RESIZE_MODES as readonly string[]).includes(resize))
    throw new UsageError(`--resize: '${resize}' is not one of ${RESIZE_MODES.join(', ')}`)
  return {
    ...d,
    baseId,
    weights,
    size: num(values, 'size', { integer: true, min: 32, max: 1024 }),
    resizeMode: (resize as ResizeMode | undefined) ?? d.resizeMode,
    folds: num(values, 'folds', { integer: true, min: 2, max: 20 }) ?? d.folds,
    seed: num(values, 'seed', { integer: true, min: 0 }) ?? d.seed,
    duplicateThreshold: num(values, 'duplicate-threshold', { min: 0.5, max: 1 }),
    outlierCount: num(values, 'top', { integer: true, min: 1, max: 10000 }) ?? d.outlierCount
  }
}

function reporter(ctx: CommandContext): (e: AuditEvent) => void {
  let bar: ProgressBar | undefined
  let barKey = ''
  return (e) => {
    if (ctx.json) {
      if (e.type === 'progress') return
      const { type, ...rest } = e
      ctx.emit(type === 'backend' ? { event: type, name: describeBackend(e.info) } : { event: type, ...rest })
      return
    }
    if (e.type === 'progress') {
      if (barKey !== e.stage || !bar) {
        bar = createProgressBar(e.stage.padEnd(8), e.total)
        barKey = e.stage
      }
      bar.update(e.done)
      if (e.done === e.total) {
        bar.finish()
        bar = undefined
      }
    } else if (e.type === 'stage') ctx.say(`» ${e.stage}: ${e.detail}`)
    else if (e.type === 'backend') ctx.say(`  backend: ${describeBackend(e.info)}`)
    else ctx.say(`  ${e.message}`)
  }
}

const round = (x: number): number => Math.round(x * 1e4) / 1e4

export const auditCommand: Command = {
  name: 'audit',
  summary:
    'Find likely mislabelled images (confident learning on out-of-fold predictions), near-duplicates (leakage across splits) and outliers.',
  usage:
    'audit <dir> [--base ID] [--weights PATH] [--size N] [--resize MODE] [--folds K] [--seed N] [--duplicate-threshold X] [--top N] [--json]',
  options: {
    base: { type: 'string' },
    weights: { type: 'string' },
    'weights-url': { type: 'string' },
    size: { type: 'string' },
    resize: { type: 'string' },
    folds: { type: 'string' },
    seed: { type: 'string' },
    'duplicate-threshold': { type: 'string' },
    top: { type: 'string' }
  },
  async run(positionals, values, ctx) {
    const dir = requireDir(positionals, 'audit')
    if (!existsSync(dir)) throw new UsageError(`audit: ${dir} does not exist`)
    const opts = auditOptionsFromCli(values)
    const out = await runAudit(dir, opts, reporter(ctx), ctx.signal)
    if (ctx.json) {
      // The last line has exactly the documented shape; the audit's id, timings and leakage count come before it.
      ctx.emit({
        event: 'summary',
        auditId: out.auditId,
        dbPath: out.dbPath,
        seconds: Object.fromEntries(Object.entries(out.seconds).map(([k, v]) => [k, round(v)])),
        featuresFromDisk: out.featuresFromDisk,
        crossSplitDuplicates: out.nearDuplicates.filter((p) => p.crossSplit).length
      })
      ctx.emit({
        event: 'done',
        labelIssues: out.labelIssues.map((x) => ({
          path: x.path,
          given: x.className,
          suggested: x.suggested,
          score: round(x.score)
        })),
        nearDuplicates: out.nearDuplicates.map((p) => ({ a: p.a.path, b: p.b.path, similarity: round(p.similarity) })),
        outliers: out.outliers.map((o) => ({ path: o.path, score: round(o.score) }))
      })
      return
    }
    ctx.say('')
    ctx.say(`Possible label issues (${out.labelIssues.length}), most likely first:`)
    for (const x of out.labelIssues)
      ctx.say(`  ${x.score.toFixed(3)}  ${x.path}  labelled ${x.className}, looks like ${x.suggested}`)
    ctx.say(`Near-duplicates (${out.nearDuplicates.length}):`)
    for (const p of out.nearDuplicates)
      ctx.say(
        `  ${p.similarity.toFixed(4)}  ${p.a.path}  ~  ${p.b.path}${p.crossSplit ? `  LEAKAGE (${p.a.split} / ${p.b.split})` : ''}`
      )
    ctx.say(`Outliers (top ${out.outliers.length}):`)
    for (const o of out.outliers) ctx.say(`  ${o.score.toFixed(3)}  ${o.path}`)
    ctx.say(
      `audit #${out.auditId} in ${out.seconds.total?.toFixed(1) ?? '?'} s (features: ${out.featuresFromDisk} from the cache); stored in ${out.dbPath}`
    )
  }
}
