// export.run / export.cancel: a completed run's export with its second-runtime check, progress as events.
import { isAbsolute } from 'node:path'
import { ApiError } from '@shared/contract'
import { ExportCheckError } from '@core/export/check'
import { ExportDestinationError } from '@core/export/destination'
import { exportRun } from '@core/export/exportRun'
import { initBackend } from '@core/tf/backend'
import type { PartialHandlers } from './context'

const going = new Map<string, AbortController>()

export const exportHandlers: PartialHandlers<'export.run' | 'export.cancel'> = {
  'export.run': async ({ projectKey, runId, formats, out, force }, ctx) => {
    const p = ctx.projects.get(projectKey)
    if (!isAbsolute(out)) throw new ApiError('bad-input', `destination: give an absolute folder path, got "${out}"`)
    const key = `${projectKey}:${runId}`
    if (going.has(key)) throw new ApiError('conflict', `run ${runId} is already being exported`)
    const controller = new AbortController()
    going.set(key, controller)
    try {
      await initBackend()
      return await exportRun(p.state, runId, {
        out,
        formats,
        force: force === true,
        signal: controller.signal,
        onProgress: (e) => ctx.emit('export.progress', { projectKey, runId, ...e })
      })
    } catch (err) {
      if (err instanceof ExportDestinationError || err instanceof ExportCheckError)
        throw new ApiError('bad-input', err.message)
      if (err instanceof Error && err.name === 'AbortError')
        throw new ApiError('conflict', 'export cancelled; nothing was written')
      if (err instanceof Error && err.message.startsWith('export:')) throw new ApiError('bad-input', err.message)
      throw err
    } finally {
      going.delete(key)
    }
  },
  'export.cancel': async ({ projectKey, runId }) => {
    const c = going.get(`${projectKey}:${runId}`)
    c?.abort()
    return { cancelled: c !== undefined }
  }
}
