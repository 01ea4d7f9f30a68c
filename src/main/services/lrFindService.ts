// training.findLr / training.cancelFindLr: the learning-rate finder for a project, with the Training form's settings.
import { trainOptionsFromConfig } from '@core/run/fromConfig'
import type { PartialHandlers } from './context'

export const lrFindHandlers: PartialHandlers<'training.findLr' | 'training.cancelFindLr'> = {
  'training.findLr': async ({ projectKey, config, range }, ctx) => {
    // Writable: like a run, the range test stores the scan and the split it used.
    const p = ctx.projects.writable(projectKey)
    const options = trainOptionsFromConfig(config, { weightsCacheDir: ctx.weightsCacheDir })
    ctx.lrFinder.start(projectKey, p.root, options, range ?? {})
    return { started: true as const }
  },
  'training.cancelFindLr': async ({ projectKey }, ctx) => ({ cancelled: ctx.lrFinder.cancel(projectKey) })
}
