import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { openProjectState } from '@core/store/projectState'
import type { Command } from '../command'
import { requireDir } from '../args'
import { UsageError } from '../errors'
import { table } from '../format'

function pct(v: unknown): string {
  return typeof v === 'number' ? (v * 100).toFixed(1) + '%' : '-'
}

export const runsCommand: Command = {
  name: 'runs',
  summary: 'List the training runs of a project with their status, base and best metrics.',
  usage: 'runs <dir> [--json]',
  options: {},
  async run(positionals, _values, ctx) {
    const dir = resolve(requireDir(positionals, 'runs'))
    if (!existsSync(dir)) throw new UsageError(`runs: ${dir} does not exist`)
    const state = openProjectState(dir, { allowReadOnly: true })
    try {
      const runs = state.store.listRuns(state.project.id)
      const readOnly = state.readOnly ? (state.reason ?? 'not writable') : null
      if (ctx.json) {
        ctx.emit({ root: dir, dbPath: state.dbPath, readOnly, runs })
        return
      }
      if (readOnly) ctx.say(`read-only: ${readOnly} (history shown; nothing can be saved)`)
      if (runs.length === 0) {
        ctx.say(`no runs yet in ${state.dbPath}`)
        return
      }
      ctx.say(
        table(
          ['run', 'created', 'status', 'base', 'epochs', 'best val acc', 'val acc', 'test acc', 'backend'],
          runs.map((r) => {
            const m = (r.metrics ?? {}) as Record<string, { accuracy?: number } | undefined>
            return [
              `#${r.id}`,
              r.createdAt.replace('T', ' ').slice(0, 19),
              r.status,
              r.baseId ?? '-',
              r.epochs,
              pct(r.bestValAccuracy),
              pct(m.validation?.accuracy),
              pct(m.test?.accuracy),
              r.backend ?? '-'
            ]
          })
        )
      )
    } finally {
      state.store.close()
    }
  }
}
