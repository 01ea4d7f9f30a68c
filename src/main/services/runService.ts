// training.*, runs.*, results.* and predict.* over the worker runner and the project store.
import { existsSync } from 'node:fs'
import { SPLIT_NAMES, type SplitName } from '@shared/domain'
import { ApiError, type GalleryItemView, type RunSummary } from '@shared/contract'
import { parseStoredRunConfig } from '@shared/runConfig'
import type { GalleryItem, JsonValue, RunRow, RunSummaryRow } from '@core/store'
import { Interpretation } from '@core/eval/interpretation'
import { trainOptionsFromConfig } from '@core/run/fromConfig'
import { runModelDir } from '@core/store/runModelDir'
import type { OpenProject } from './projects'
import { resolveInside } from './containment'
import type { PartialHandlers } from './context'

function summary(r: RunRow | RunSummaryRow): RunSummary {
  const s = 'epochs' in r ? r : null
  return {
    runId: r.id,
    name: r.name,
    status: r.status,
    createdAt: r.createdAt,
    startedAt: r.startedAt,
    endedAt: r.endedAt,
    baseId: r.baseId,
    backend: r.backend,
    classes: r.classes,
    epochs: s?.epochs ?? 0,
    bestValAccuracy: s?.bestValAccuracy ?? null,
    bestEpoch: s?.bestEpoch ?? null,
    error: r.error
  }
}

function requireRun(p: OpenProject, runId: number): RunRow {
  const run = p.state.store.getRun(runId)
  if (!run || run.projectId !== p.state.project.id) throw new ApiError('not-found', `no run ${runId} in ${p.root}`)
  return run
}

function galleryView(items: GalleryItem[]): { items: GalleryItemView[] } {
  return {
    items: items.map((g) => ({
      imageId: g.imageId,
      relPath: g.relPath,
      split: g.split,
      trueClass: g.trueClass,
      predictedClass: g.predictedClass,
      probabilities: g.probabilities,
      confidence: g.confidence,
      margin: g.margin,
      loss: g.loss,
      correct: g.correct,
      present: g.present
    }))
  }
}

/** The stored predictions of one split of a run, read once. */
function interpretationOf(p: OpenProject, runId: number, split: SplitName): Interpretation {
  const run = requireRun(p, runId)
  return Interpretation.fromStored(run.classes, p.state.store.getPredictions(runId, { split }))
}

export const runHandlers: PartialHandlers<
  | 'training.start'
  | 'training.cancel'
  | 'training.active'
  | 'runs.list'
  | 'runs.get'
  | 'results.gallery'
  | 'results.confusion'
  | 'results.cell'
  | 'results.threshold'
  | 'predict.image'
> = {
  'training.start': async ({ projectKey, config }, ctx) => {
    const p = ctx.projects.writable(projectKey)
    if (ctx.runner.active().some((r) => r.projectKey === projectKey && r.status === 'running')) {
      throw new ApiError('conflict', `a run is already going in ${p.root}: cancel it or wait for it to finish`)
    }
    const options = trainOptionsFromConfig(config, { weightsCacheDir: ctx.weightsCacheDir })
    // The row exists before the worker starts, so every event of the run, from the scan on, carries its id.
    const { store, project } = p.state
    const { id: runId } = store.beginRun({ projectId: project.id, config: config as JsonValue, name: config.name })
    try {
      // A worker that dies without a word (crash, out of memory) leaves the row to us: this process owns it, so
      // the dead-owner check would never close it.
      ctx.runner.start(projectKey, p.root, options, runId, (error) => {
        try {
          if (store.getRun(runId)?.status === 'running') store.finishRun(runId, 'failed', { error })
        } catch (err) {
          console.error(`run ${runId}: could not record that its worker was lost: ${(err as Error).message}`)
        }
      })
    } catch (err) {
      store.finishRun(runId, 'failed', { error: (err as Error).message })
      throw err
    }
    return { runId }
  },
  'training.cancel': async ({ runId }, ctx) => ({ cancelled: ctx.runner.cancel(runId) }),
  'training.active': async (_req, ctx) => ({ runs: ctx.runner.active() }),
  'runs.list': async ({ projectKey }, ctx) => {
    const p = ctx.projects.get(projectKey)
    ctx.projects.noticeDeadOwners(p)
    return { runs: p.state.store.listRuns(p.state.project.id).map(summary) }
  },
  'runs.get': async ({ projectKey, runId }, ctx) => {
    const p = ctx.projects.get(projectKey)
    ctx.projects.noticeDeadOwners(p)
    const run = requireRun(p, runId)
    const listed = p.state.store.listRuns(p.state.project.id).find((r) => r.id === runId)
    const evaluatedSplits = SPLIT_NAMES.filter((s) => p.state.store.confusionMatrix(runId, s).length > 0)
    return {
      run: summary(listed ?? run),
      config: parseStoredRunConfig(run.config),
      metrics: run.metrics,
      timings: run.timings,
      backendNotes: run.backendNotes,
      epochs: p.state.store.getEpochs(runId).map(({ runId: _r, ...e }) => e),
      evaluatedSplits
    }
  },
  'results.gallery': async ({ projectKey, runId, split, kind, className, n }, ctx) => {
    const p = ctx.projects.get(projectKey)
    requireRun(p, runId)
    const s = p.state.store
    const items =
      kind === 'most-confident'
        ? s.mostConfident(runId, split, className, n)
        : kind === 'least-confident'
          ? s.leastConfident(runId, split, className, n)
          : s.confidentlyWrong(runId, split, className, n)
    return galleryView(items)
  },
  'results.confusion': async ({ projectKey, runId, split }, ctx) => {
    const interp = interpretationOf(ctx.projects.get(projectKey), runId, split)
    const matrix = interp.confusionMatrix()
    const correct = matrix.reduce((sum, row, i) => sum + (row[i] ?? 0), 0)
    return {
      classes: [...interp.classes],
      matrix,
      total: interp.count,
      accuracy: interp.count > 0 ? correct / interp.count : null
    }
  },
  'results.cell': async ({ projectKey, runId, split, trueClass, predictedClass, n }, ctx) => {
    const p = ctx.projects.get(projectKey)
    requireRun(p, runId)
    return galleryView(p.state.store.confusionCellImages(runId, split, trueClass, predictedClass, n))
  },
  'results.threshold': async ({ projectKey, runId, split, thresholds }, ctx) => {
    const interp = interpretationOf(ctx.projects.get(projectKey), runId, split)
    return { points: interp.thresholdSweep(thresholds ?? undefined) }
  },
  'predict.image': async ({ projectKey, runId, image }, ctx) => {
    const p = ctx.projects.get(projectKey)
    const run = requireRun(p, runId)
    const dir = runModelDir(p.state.modelsDir, runId)
    if (run.status !== 'completed' || !existsSync(dir))
      throw new ApiError(
        'conflict',
        `run ${runId} has no saved model (status ${run.status}): only completed runs of this app can predict`
      )
    let input: { kind: 'file'; path: string } | { kind: 'bytes'; bytes: Uint8Array }
    if (image.kind === 'imageId') {
      const row = p.state.store.getImage(image.imageId)
      if (!row || row.projectId !== p.state.project.id)
        throw new ApiError('not-found', `no image ${image.imageId} in ${p.root}`)
      input = { kind: 'file', path: await resolveInside(p.root, row.relPath) }
    } else {
      input = { kind: 'bytes', bytes: new Uint8Array(Buffer.from(image.base64, 'base64')) }
      if (input.bytes.length === 0) throw new ApiError('bad-input', `${image.name}: empty file`)
    }
    const { classes, probabilities } = await ctx.runner.predict(dir, input)
    let best = 0
    for (let i = 1; i < probabilities.length; i++) if ((probabilities[i] ?? 0) > (probabilities[best] ?? 0)) best = i
    return { classes, probabilities, predictedClass: classes[best] ?? '', confidence: probabilities[best] ?? 0 }
  }
}
