import { existsSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { openProjectState } from '@core/store/projectState'
import { EXPORT_FORMATS, exportRun, type ExportFormat } from '@core/export/exportRun'
import { initBackend } from '@core/tf/backend'
import type { Command } from '../command'
import { num, requireDir, str } from '../args'
import { UsageError } from '../errors'
import { createProgressBar } from '../progress'

function formatsOf(value: string | undefined): ExportFormat[] {
  const v = value ?? 'all'
  if (v === 'all') return [...EXPORT_FORMATS]
  if ((EXPORT_FORMATS as readonly string[]).includes(v)) return [v as ExportFormat]
  throw new UsageError(`--format: '${v}' is not one of tfjs, onnx, all`)
}

export const exportCommand: Command = {
  name: 'export',
  summary:
    'Export the model of a completed run as TF.js (with a ready web page) and/or ONNX, each checked by a second runtime on the test images, with tunelab.json and a model card (README.md).',
  usage: 'export <dir> --run ID --out DIR [--format tfjs|onnx|all] [--tolerance X] [--force] [--json]',
  options: {
    run: { type: 'string' },
    out: { type: 'string' },
    force: { type: 'boolean' },
    format: { type: 'string' },
    tolerance: { type: 'string' }
  },
  async run(positionals, values, ctx) {
    const dir = resolve(requireDir(positionals, 'export'))
    if (!existsSync(dir)) throw new UsageError(`export: ${dir} does not exist`)
    const runId = num(values, 'run', { integer: true, min: 1 })
    if (runId === undefined) throw new UsageError('export: --run ID is required (see `runs <dir>`)')
    const out = str(values, 'out')
    if (!out) throw new UsageError('export: --out DIR is required')
    const formats = formatsOf(str(values, 'format'))
    const tolerance = num(values, 'tolerance', { min: 0 })
    const target = resolve(out)
    if (existsSync(join(target, 'tunelab.json')) && statSync(target).isDirectory() && values.force !== true) {
      throw new UsageError(`--out: ${target} already holds an export (use --force to replace it)`)
    }
    const state = openProjectState(dir)
    try {
      const run = state.store.getRun(runId)
      if (!run || run.projectId !== state.project.id)
        throw new UsageError(`--run: there is no run #${runId} in this project`)
      await initBackend()
      let bar: ReturnType<typeof createProgressBar> | undefined
      const r = await exportRun(state, runId, {
        out: target,
        formats,
        force: values.force === true,
        ...(tolerance !== undefined ? { tolerance } : {}),
        signal: ctx.signal,
        onProgress: (p) => {
          if (ctx.json) return ctx.emit({ event: 'progress', ...p })
          if (p.stage === 'decode' && p.total) {
            bar ??= createProgressBar('decode', p.total)
            bar.update(p.done ?? 0)
            if (p.done === p.total) bar.finish()
          } else process.stderr.write(`${p.detail}…\n`)
        }
      })
      if (ctx.json)
        ctx.emit({
          event: 'done',
          runId,
          out: r.dir,
          files: r.files,
          checks: r.checks,
          skippedImages: r.skippedImages,
          storedPredictions: r.storedPredictions
        })
      else {
        ctx.say(`run #${runId} exported to ${r.dir}: ${r.files.join(', ')}`)
        for (const c of r.checks)
          ctx.say(
            `  ${c.format}: ${c.runtime} on ${c.images} images (${c.source}): max |Δp| ${c.maxAbsDiff.toExponential(2)}, agreement ${(c.agreement * 100).toFixed(1)} % — passed`
          )
      }
    } finally {
      state.store.close()
    }
  }
}
