// The worker side of the learning-rate finder: runs lrFindProject and posts its progress in the contract's shape.
import { lrFindProject, type LrFindEvent, type LrFindOutcome } from '@core/run/lrFindProject'
import type { LrFindProgressEvent, LrFindResultView } from '@shared/contract'
import type { WorkerJob } from './protocol'

/** The curve without the non-finite loss a diverging last step may have (JSON has no NaN/Infinity). */
export function lrFindView(o: LrFindOutcome): LrFindResultView {
  const r = o.result
  const point = (p: { lr: number; loss: number } | null): { lr: number; loss: number } | null =>
    p && Number.isFinite(p.loss) ? { lr: p.lr, loss: p.loss } : null
  return {
    points: r.points.filter((p) => Number.isFinite(p.loss)).map((p) => ({ lr: p.lr, loss: p.loss })),
    suggestion: { lr: r.suggestion.lr, loss: r.suggestion.loss, method: r.suggestion.method },
    steepest: point(r.steepest),
    minimum: point(r.minimum),
    stoppedBy: r.stoppedBy,
    trainImages: o.trainImages,
    featuresFromDisk: o.featuresFromDisk,
    seconds: o.seconds.total
  }
}

function toProgress(e: LrFindEvent): LrFindProgressEvent | null {
  switch (e.type) {
    case 'lr-find-progress':
      return Number.isFinite(e.smoothedLoss)
        ? { type: 'step', step: e.step, steps: e.steps, lr: e.lr, loss: e.smoothedLoss }
        : null
    case 'features':
      return e.split === 'train' ? { type: 'features', done: e.done, total: e.total } : null
    case 'stage':
      return { type: 'info', message: `${e.stage}: ${e.detail}` }
    case 'info':
      return { type: 'info', message: e.message }
    default:
      return null
  }
}

export async function runLrFindJob(
  job: Extract<WorkerJob, { mode: 'lr-find' }>,
  post: (e: LrFindProgressEvent) => void,
  signal: AbortSignal
): Promise<void> {
  try {
    const outcome = await lrFindProject(
      job.root,
      job.options,
      job.range,
      (e) => {
        const p = toProgress(e)
        if (p) post(p)
      },
      signal
    )
    post({ type: 'done', status: 'completed', result: lrFindView(outcome), error: null })
  } catch (err) {
    const cancelled = err instanceof Error && err.name === 'AbortError'
    post({
      type: 'done',
      status: cancelled ? 'cancelled' : 'failed',
      result: null,
      error: cancelled ? null : ((err as Error).message ?? String(err))
    })
  }
}
