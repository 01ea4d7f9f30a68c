// A training worker that dies without reporting an end: the run's row must not stay 'running' for ever (this
// process owns it, so the dead-owner check would never close it), and the Training screen must hear of it.
// Real session, handler table and SQLite; the worker is a script that exits at once, as a crashed thread does.
import { join, resolve } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { dispatch } from '@main/handlers'
import { createSession } from '@main/services/session'
import type { TrainingProgressEvent } from '@shared/contract'
import { makeProject, tempDir } from '@test/helpers/synthetic'

describe('a training worker lost mid-run', () => {
  const tmp = tempDir('tunelab-lost-worker-')
  const events: TrainingProgressEvent[] = []
  const ctx = createSession({
    transport: 'serve',
    userDataDir: join(tmp.dir, 'user'),
    workerPath: resolve('test/reliability/fixtures/workerThatDies.mjs'),
    broadcast: (name, payload) => {
      if (name === 'training.progress') events.push((payload as { event: TrainingProgressEvent }).event)
    },
    weightsCacheDir: join(tmp.dir, 'weights')
  })
  afterAll(async () => {
    await ctx.runner.shutdown()
    ctx.projects.closeAll()
    tmp.cleanup()
  })

  it('ends the run as failed, in SQLite and on the Training screen, with the reason', async () => {
    const root = join(tmp.dir, 'p')
    await makeProject(root, { classes: ['a', 'b'], perClass: 2, size: 24 })
    const opened = await dispatch('project.open', { path: root }, ctx)
    if (!opened.ok) throw new Error(opened.error.message)
    const { projectKey } = opened.result as { projectKey: string }
    const started = await dispatch(
      'training.start',
      { projectKey, config: { baseId: 'mobilenet_v1_0.25_32', weights: 'random' } },
      ctx
    )
    if (!started.ok) throw new Error(started.error.message)
    const { runId } = started.result as { runId: number }

    await expect.poll(() => events.find((e) => e.type === 'done'), { timeout: 10_000 }).toBeDefined()
    expect(events.find((e) => e.type === 'done')).toMatchObject({
      status: 'failed',
      error: 'training worker exited (code 7) before the run ended'
    })
    const listed = await dispatch('runs.list', { projectKey }, ctx)
    if (!listed.ok) throw new Error(listed.error.message)
    const run = (listed.result as { runs: { runId: number; status: string }[] }).runs.find((r) => r.runId === runId)
    expect(run?.status).toBe('failed')
    expect(ctx.projects.get(projectKey).state.store.getRun(runId)?.error).toBe(
      'training worker exited (code 7) before the run ended'
    )
    // Nothing is left going: a new run may start.
    expect(ctx.runner.active()).toEqual([])
  })
})
