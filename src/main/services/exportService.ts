// export.run / export.cancel: a completed run's export with its second-runtime check, in a worker (ctx.exports),
// progress as events.
import { isAbsolute } from 'node:path'
import { ApiError } from '@shared/contract'
import type { PartialHandlers } from './context'

export const exportHandlers: PartialHandlers<'export.run' | 'export.cancel'> = {
  'export.run': async ({ projectKey, runId, formats, out, force }, ctx) => {
    const p = ctx.projects.get(projectKey)
    if (!isAbsolute(out)) throw new ApiError('bad-input', `destination: give an absolute folder path, got "${out}"`)
    return ctx.exports.run(`${projectKey}:${runId}`, p.root, runId, { out, formats, force: force === true }, (e) =>
      ctx.emit('export.progress', { projectKey, runId, ...e })
    )
  },
  'export.cancel': async ({ projectKey, runId }, ctx) => ({ cancelled: ctx.exports.cancel(`${projectKey}:${runId}`) })
}
