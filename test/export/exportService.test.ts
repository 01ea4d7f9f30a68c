// export.run / export.cancel through the real session and handler table: the export runs in a worker thread (the
// thread that answers the app stays free), its progress arrives as events, a cancel and a lost worker end it with
// a clear error and nothing written (a lost worker's half-written folder is removed).
import { existsSync, mkdirSync, readdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { dispatch } from '@main/handlers'
import { createSession } from '@main/services/session'
import type { HandlerContext } from '@main/services/context'
import { tempDir } from '@test/helpers/synthetic'
import { exportableProject, trainOneEpochRun } from '@test/helpers/exportFixtures'
import { WORKER_PATH } from '@test/helpers/serve'
import { ExportRunner } from '@main/workers/exportRunner'

const tmp = tempDir('tunelab-export-service-')
const project = join(tmp.dir, 'pets')
let runId: number
let otherRunId: number
const progress: { stage: string }[] = []

function session(workerPath: string): HandlerContext {
  return createSession({
    transport: 'serve',
    userDataDir: join(tmp.dir, 'user'),
    workerPath,
    broadcast: (name, payload) => {
      if (name === 'export.progress') progress.push(payload as { stage: string })
    },
    weightsCacheDir: join(tmp.dir, 'weights')
  })
}

async function open(ctx: HandlerContext): Promise<string> {
  const r = await dispatch('project.open', { path: project }, ctx)
  if (!r.ok) throw new Error(r.error.message)
  return (r.result as { projectKey: string }).projectKey
}

beforeAll(async () => {
  runId = await exportableProject(project, { classes: ['cats', 'dogs'], size: 40, resizeMode: 'squash', seed: 5 })
  otherRunId = await trainOneEpochRun(project, { resizeMode: 'squash', seed: 6 })
}, 300_000)

afterAll(() => tmp.cleanup())

describe('export.run in a worker', () => {
  const ctx = session(WORKER_PATH)
  afterAll(async () => {
    await ctx.exports.shutdown()
    ctx.projects.closeAll()
  })

  it('exports and checks both formats, with progress events', async () => {
    const projectKey = await open(ctx)
    const out = join(tmp.dir, 'export')
    const r = await dispatch('export.run', { projectKey, runId, formats: ['tfjs', 'onnx'], out }, ctx)
    if (!r.ok) throw new Error(r.error.message)
    const result = r.result as { dir: string; checks: { format: string; passed: boolean }[] }
    expect(result.dir).toBe(out)
    expect(result.checks.map((c) => [c.format, c.passed])).toEqual([
      ['tfjs', true],
      ['onnx', true]
    ])
    expect(existsSync(join(out, 'model.onnx'))).toBe(true)
    expect(progress.map((p) => p.stage)).toEqual(expect.arrayContaining(['tfjs-check', 'onnx-check', 'commit']))
  }, 300_000)

  it('a second export of the same folder needs force, said as a bad input', async () => {
    const projectKey = await open(ctx)
    const out = join(tmp.dir, 'export')
    const r = await dispatch('export.run', { projectKey, runId, formats: ['onnx'], out }, ctx)
    expect(r.ok).toBe(false)
    if (!r.ok) {
      expect(r.error.code).toBe('bad-input')
      expect(r.error.message).toMatch(/already holds an export/)
    }
  }, 300_000)

  it('one export at a time: another run, or the same run again, is refused while one is going', async () => {
    const projectKey = await open(ctx)
    progress.length = 0
    const first = dispatch('export.run', { projectKey, runId, formats: ['onnx'], out: join(tmp.dir, 'one') }, ctx)
    await expect.poll(() => progress.length, { timeout: 60_000 }).toBeGreaterThan(0)
    const same = await dispatch('export.run', { projectKey, runId, formats: ['onnx'], out: join(tmp.dir, 'two') }, ctx)
    const other = await dispatch(
      'export.run',
      { projectKey, runId: otherRunId, formats: ['onnx'], out: join(tmp.dir, 'three') },
      ctx
    )
    expect(same.ok ? null : same.error).toMatchObject({
      code: 'conflict',
      message: `run ${runId} is already being exported`
    })
    expect(other.ok ? null : other.error).toMatchObject({
      code: 'conflict',
      message: expect.stringContaining('one at a time')
    })
    expect((await first).ok).toBe(true)
    // Once it has ended, the other run exports.
    const after = await dispatch(
      'export.run',
      { projectKey, runId: otherRunId, formats: ['onnx'], out: join(tmp.dir, 'three') },
      ctx
    )
    expect(after.ok).toBe(true)
  }, 300_000)

  it('an error inside the worker comes back as the same answer: a run that does not exist is a bad input', async () => {
    const projectKey = await open(ctx)
    const r = await dispatch(
      'export.run',
      { projectKey, runId: 999, formats: ['onnx'], out: join(tmp.dir, 'none') },
      ctx
    )
    expect(r.ok ? null : r.error).toMatchObject({ code: 'bad-input', message: expect.stringContaining('no run #999') })
  }, 300_000)

  it('export.cancel stops it: a clear error, nothing written, and the run can be exported again', async () => {
    const projectKey = await open(ctx)
    const parent = join(tmp.dir, 'cancelled')
    mkdirSync(parent)
    progress.length = 0
    const going = dispatch('export.run', { projectKey, runId, formats: ['tfjs', 'onnx'], out: join(parent, 'x') }, ctx)
    await expect.poll(() => progress.length, { timeout: 60_000 }).toBeGreaterThan(0)
    const c = await dispatch('export.cancel', { projectKey, runId }, ctx)
    expect(c.ok && (c.result as { cancelled: boolean }).cancelled).toBe(true)
    const r = await going
    expect(r.ok).toBe(false)
    if (!r.ok) expect(r.error.message).toBe('export cancelled; nothing was written')
    expect(readdirSync(parent)).toEqual([])
    const again = await dispatch('export.run', { projectKey, runId, formats: ['onnx'], out: join(parent, 'y') }, ctx)
    expect(again.ok).toBe(true)
  }, 300_000)
})

describe('export.run with a worker that dies', () => {
  const ctx = session(resolve('test/reliability/fixtures/workerThatDies.mjs'))
  afterAll(async () => {
    await ctx.exports.shutdown()
    ctx.projects.closeAll()
  })

  it('fails with the reason instead of waiting for ever, and a new export may start', async () => {
    const projectKey = await open(ctx)
    const out = join(tmp.dir, 'lost')
    const r = await dispatch('export.run', { projectKey, runId, formats: ['onnx'], out }, ctx)
    expect(r.ok).toBe(false)
    if (!r.ok) expect(r.error.message).toContain('export worker exited (code 7) before it finished')
    const again = await dispatch('export.run', { projectKey, runId, formats: ['onnx'], out }, ctx)
    expect(again.ok).toBe(false) // the same dead worker again, but not refused as "already being exported"
    if (!again.ok) expect(again.error.message).not.toContain('already being exported')
  }, 60_000)
})

describe('export.run with a worker lost mid-export', () => {
  const ctx = session(resolve('test/export/fixtures/exportWorkerThatDiesMidway.mjs'))
  afterAll(async () => {
    await ctx.exports.shutdown()
    ctx.projects.closeAll()
  })

  it('removes the half-written folder it left beside the destination', async () => {
    const projectKey = await open(ctx)
    const parent = join(tmp.dir, 'midway')
    mkdirSync(parent)
    const r = await dispatch('export.run', { projectKey, runId, formats: ['onnx'], out: join(parent, 'model') }, ctx)
    expect(r.ok ? null : r.error.message).toContain('export worker exited (code 7) before it finished')
    expect(readdirSync(parent)).toEqual([])
  }, 60_000)
})

describe('export.cancel of an export stuck in a stage', () => {
  it('stops its thread after the grace period, answers "cancelled" and removes its temporary folder', async () => {
    const runner = new ExportRunner(resolve('test/export/fixtures/exportWorkerStuckInACheck.mjs'), 300)
    const parent = join(tmp.dir, 'stuck')
    mkdirSync(parent)
    const stages: string[] = []
    const going = runner.run(
      'k',
      project,
      runId,
      { formats: ['onnx'], out: join(parent, 'model'), force: false },
      (p) => stages.push(p.stage)
    )
    await expect.poll(() => stages.length, { timeout: 30_000 }).toBe(1)
    expect(readdirSync(parent)).toHaveLength(1)
    expect(runner.cancel('k')).toBe(true)
    await expect(going).rejects.toMatchObject({ code: 'conflict', message: 'export cancelled; nothing was written' })
    expect(readdirSync(parent)).toEqual([])
    expect(runner.cancel('k')).toBe(false)
    await runner.shutdown()
  }, 60_000)
})
