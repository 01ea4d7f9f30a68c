// predict.gradCam: where a run's model looks for a class in one project image, computed in the prediction worker.
import { existsSync } from 'node:fs'
import { ApiError } from '@shared/contract'
import { runModelDir } from '@core/store/runModelDir'
import { resolveInside } from './containment'
import type { PartialHandlers } from './context'

export const gradCamHandlers: PartialHandlers<'predict.gradCam'> = {
  'predict.gradCam': async ({ projectKey, runId, imageId, className }, ctx) => {
    const p = ctx.projects.get(projectKey)
    const run = p.state.store.getRun(runId)
    if (!run || run.projectId !== p.state.project.id) throw new ApiError('not-found', `no run ${runId} in ${p.root}`)
    const dir = runModelDir(p.state.modelsDir, runId)
    if (run.status !== 'completed' || !existsSync(dir))
      throw new ApiError(
        'conflict',
        `run ${runId} has no saved model (status ${run.status}): only completed runs have a heatmap`
      )
    if (!run.classes.includes(className))
      throw new ApiError('bad-input', `'${className}' is not one of run ${runId}'s classes (${run.classes.join(', ')})`)
    const row = p.state.store.getImage(imageId)
    if (!row || row.projectId !== p.state.project.id)
      throw new ApiError('not-found', `no image ${imageId} in ${p.root}`)
    const path = await resolveInside(p.root, row.relPath)
    const out = await ctx.runner.predict(dir, { kind: 'file', path }, undefined, { className })
    if (!out.overlay) throw new ApiError('internal', 'the prediction worker answered without a heatmap')
    return {
      classes: out.classes,
      className,
      overlay: `data:image/png;base64,${Buffer.from(out.overlay).toString('base64')}`
    }
  }
}
