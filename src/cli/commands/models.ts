import { existsSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { openProjectState } from '@core/store/projectState'
import { runModelDir } from '@core/store/runModelDir'
import { isFailed, loadExportedModel, predictFiles, predictFolder, type LoadedModel } from '@core/export'
import { initBackend } from '@core/tf/backend'
import type { Command, CommandContext } from '../command'
import { num, requireDir, str } from '../args'
import { UsageError } from '../errors'
import { table } from '../format'
import { createProgressBar } from '../progress'

type Values = Record<string, string | boolean | string[] | undefined>

/** The saved model folder of run --run in the project at positionals[0]. */
function runModel(
  positionals: string[],
  values: Values,
  command: string
): { dir: string; runId: number; modelDir: string } {
  const dir = resolve(requireDir(positionals, command))
  if (!existsSync(dir)) throw new UsageError(`${command}: ${dir} does not exist`)
  const runId = num(values, 'run', { integer: true, min: 1 })
  if (runId === undefined) throw new UsageError(`${command}: --run ID is required (see \`runs <dir>\`)`)
  const state = openProjectState(dir)
  try {
    const run = state.store.getRun(runId)
    if (!run || run.projectId !== state.project.id)
      throw new UsageError(`--run: there is no run #${runId} in this project`)
    const modelDir = runModelDir(state.modelsDir, runId)
    if (run.status !== 'completed' || !existsSync(join(modelDir, 'tunelab.json'))) {
      throw new UsageError(
        `--run: run #${runId} has no saved model (status: ${run.status}); only completed runs keep one`
      )
    }
    return { dir, runId, modelDir }
  } finally {
    state.store.close()
  }
}

async function loadModel(modelDir: string): Promise<LoadedModel> {
  await initBackend()
  return loadExportedModel(modelDir)
}

async function predictPaths(
  loaded: LoadedModel,
  paths: string[],
  csv: string | undefined,
  ctx: CommandContext
): Promise<void> {
  const files: string[] = []
  for (const p of paths) {
    const abs = resolve(p)
    if (!existsSync(abs)) throw new UsageError(`predict: ${p} does not exist`)
    if (statSync(abs).isDirectory()) {
      const csvPath = resolve(csv ?? `${abs.replace(/\/+$/, '')}-predictions.csv`)
      let bar: ReturnType<typeof createProgressBar> | undefined
      const r = await predictFolder(loaded, abs, csvPath, {
        signal: ctx.signal,
        onProgress: (done, total) => {
          if (ctx.json) return
          bar ??= createProgressBar('predict', total)
          bar.update(done)
        }
      })
      bar?.finish()
      if (ctx.json)
        ctx.emit({
          event: 'folder',
          folder: abs,
          csvPath: r.csvPath,
          total: r.total,
          predicted: r.predicted,
          failed: r.failed
        })
      else ctx.say(`${abs}: ${r.predicted} predicted, ${r.failed} unreadable -> ${r.csvPath}`)
    } else files.push(abs)
  }
  if (files.length === 0) return
  const preds = await predictFiles(loaded, files, { signal: ctx.signal })
  if (ctx.json) {
    for (const p of preds) ctx.emit({ event: 'prediction', ...p })
    return
  }
  ctx.say(
    table(
      ['file', 'predicted', 'confidence', ...loaded.meta.classes],
      preds.map((p) =>
        isFailed(p)
          ? [p.path, `error: ${p.error}`, '', ...loaded.meta.classes.map(() => '')]
          : [
              p.path,
              p.predictedClass,
              p.confidence.toFixed(4),
              ...loaded.meta.classes.map((c) => (p.probabilities[c] ?? 0).toFixed(4))
            ]
      )
    )
  )
}

export const predictCommand: Command = {
  name: 'predict',
  summary:
    'Predict image files, or whole folders to CSV, with the model of a run and exactly its training preprocessing.',
  usage: 'predict <dir> --run ID PATHS… [--csv FILE] [--json]',
  options: { run: { type: 'string' }, csv: { type: 'string' } },
  async run(positionals, values, ctx) {
    const { modelDir } = runModel(positionals, values, 'predict')
    const paths = positionals.slice(1)
    if (paths.length === 0)
      throw new UsageError('predict: give at least one image file or folder after the project folder')
    const loaded = await loadModel(modelDir)
    await predictPaths(loaded, paths, str(values, 'csv'), ctx)
  }
}
