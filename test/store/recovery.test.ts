import { spawn, type ChildProcess } from 'node:child_process'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ProjectStore } from '@core/store/projectStore'
import { currentOwner, judgeOwner, processStartIdentity } from '@core/store/runOwner'
import type { RunOwner } from '@core/store/rows'
import { makeTempDir } from '@test/helpers/store'

const REPO = fileURLToPath(new URL('../..', import.meta.url))
const WRITER = fileURLToPath(new URL('./fixtures/epochWriter.ts', import.meta.url))

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null)
      resolve({ code: child.exitCode, signal: child.signalCode })
    else child.once('exit', (code, signal) => resolve({ code, signal }))
  })
}

/** A process that lives until killed, for "owner alive" cases. */
function sleeper(): ChildProcess {
  return spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' })
}

async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' })
  await exited(child) // 'exit' fires after the child is reaped, so the pid is really free now
  return child.pid!
}

describe('run ownership and recovery at open', () => {
  let tmp: ReturnType<typeof makeTempDir>
  let children: ChildProcess[]
  beforeEach(() => {
    tmp = makeTempDir()
    children = []
  })
  afterEach(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
    tmp.cleanup()
  })

  it('judgeOwner applies the documented rule', async () => {
    const self = currentOwner()
    expect(self.pid).toBe(process.pid)
    expect(judgeOwner(self, null).interrupted).toBe(false)
    expect(judgeOwner(null, null)).toMatchObject({ interrupted: true, reason: expect.stringMatching(/no owner/) })
    expect(judgeOwner({ ...self, token: 'earlier-process' }, null)).toMatchObject({
      interrupted: true,
      reason: expect.stringMatching(/earlier process with the same pid/)
    })

    const dead = await deadPid()
    expect(judgeOwner({ pid: dead, host: hostname(), token: 't', start: null }, null)).toMatchObject({
      interrupted: true,
      reason: expect.stringMatching(/is gone/)
    })

    const live = sleeper()
    children.push(live)
    const liveOwner: RunOwner = { pid: live.pid!, host: hostname(), token: 't', start: processStartIdentity(live.pid!) }
    expect(judgeOwner(liveOwner, null)).toMatchObject({ interrupted: false, reason: expect.stringMatching(/is alive/) })
    if (process.platform === 'linux') {
      expect(liveOwner.start).toMatch(/^\d+$/)
      // Same pid, another start time: the pid was reused by an unrelated process.
      expect(judgeOwner({ ...liveOwner, start: '1' }, null)).toMatchObject({
        interrupted: true,
        reason: expect.stringMatching(/now belongs to another process/)
      })
    }

    const remote: RunOwner = { pid: dead, host: 'some-other-host', token: 't', start: null }
    expect(judgeOwner(remote, new Date().toISOString()).interrupted).toBe(false)
    const old = new Date(Date.now() - 3_600_000).toISOString()
    expect(judgeOwner(remote, old, { staleHeartbeatMs: 600_000 })).toMatchObject({
      interrupted: true,
      reason: expect.stringMatching(/no heartbeat for 3600 s/)
    })
    expect(judgeOwner(remote, old, { staleHeartbeatMs: 7_200_000 }).interrupted).toBe(false)
  })

  it('open marks only runs of gone owners as interrupted', async () => {
    const dbPath = join(tmp.dir, 'tunelab.db')
    const store = ProjectStore.open(dbPath)
    const project = store.getProject(store.upsertProject(join(tmp.dir, 'p')))!
    const live = sleeper()
    children.push(live)
    const make = (owner?: RunOwner) =>
      store.createRun({ projectId: project.id, config: {}, classes: ['a', 'b'] }, owner).id
    const mine = make()
    const ofLiveProcess = make({ pid: live.pid!, host: hostname(), token: 'x', start: processStartIdentity(live.pid!) })
    const ofDeadProcess = make({ pid: await deadPid(), host: hostname(), token: 'x', start: null })
    const ofPredecessor = make({ ...currentOwner(), token: 'previous-incarnation' })
    const finished = make({ pid: await deadPid(), host: hostname(), token: 'x', start: null })
    store.finishRun(finished, 'completed')
    store.close()

    const reopened = ProjectStore.open(dbPath)
    expect(reopened.recovered.map((r) => r.runId).sort()).toEqual([ofDeadProcess, ofPredecessor].sort())
    expect(reopened.getRun(mine)?.status).toBe('running')
    expect(reopened.getRun(ofLiveProcess)?.status).toBe('running')
    const dead = reopened.getRun(ofDeadProcess)!
    expect(dead.status).toBe('interrupted')
    expect(dead.endedAt).not.toBeNull()
    expect(dead.error).toMatch(/interrupted: owner process \d+ is gone/)
    expect(reopened.getRun(finished)?.status).toBe('completed')
    // An owner wrongly presumed dead may still report its real end.
    expect(reopened.finishRun(ofPredecessor, 'completed').status).toBe('completed')
    reopened.close()

    live.kill('SIGKILL')
    await exited(live)
    const third = ProjectStore.open(dbPath)
    expect(third.recovered.map((r) => r.runId)).toEqual([ofLiveProcess])
    third.close()
    const noRecovery = ProjectStore.open(dbPath, { recover: false })
    expect(noRecovery.recovered).toEqual([])
    noRecovery.close()
  })

  it('a writer SIGKILLed mid-run leaves a consistent database: whole epochs, whole batches, run interrupted', async () => {
    const dbPath = join(tmp.dir, 'tunelab.db')
    const child = spawn(process.execPath, ['--import', 'tsx', WRITER, dbPath, join(tmp.dir, 'pets')], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe']
    })
    children.push(child)
    let out = ''
    let err = ''
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()))
    // Kill a little past the middle of an epoch (period measured from the child's own reports), where the
    // prediction batch is being written: without transactions this leaves a batch half old, half new.
    const target = 10
    const arrivals: number[] = []
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString()
        const epochs = [...out.matchAll(/EPOCH (\d+)\n/g)].length
        while (arrivals.length < epochs) arrivals.push(performance.now())
        if (epochs === target) {
          const period = (arrivals[target - 1]! - arrivals[1]!) / (target - 2)
          setTimeout(resolve, period * 0.6)
        }
      })
      child.once('exit', (code) => reject(new Error(`writer exited early (${code}): ${err}`)))
    })
    child.kill('SIGKILL')
    const { signal } = await exited(child)
    expect(signal).toBe('SIGKILL')
    const runId = Number(/RUN (\d+)/.exec(out)?.[1])
    const printed = Math.max(...[...out.matchAll(/EPOCH (\d+)/g)].map((m) => Number(m[1])))

    const store = ProjectStore.open(dbPath)
    try {
      expect(store.integrityCheck()).toEqual(['ok'])
      expect(store.db.pragma('foreign_key_check')).toEqual([])
      expect(store.recovered).toEqual([{ runId, reason: `owner process ${child.pid} is gone` }])
      const run = store.getRun(runId)!
      expect(run.status).toBe('interrupted')
      expect(run.endedAt).not.toBeNull()

      const epochs = store.getEpochs(runId)
      const last = epochs.length
      expect(last).toBeGreaterThanOrEqual(printed) // everything reported as committed is there
      expect(epochs.map((e) => e.epoch)).toEqual(Array.from({ length: last }, (_, i) => i + 1))
      for (const e of epochs) {
        expect(e).toEqual({
          runId,
          phase: e.epoch <= 50 ? 1 : 2,
          epoch: e.epoch,
          loss: 1 / e.epoch,
          accuracy: 0.5,
          valLoss: 1 / e.epoch,
          valAccuracy: 0.5,
          lr: 1e-4,
          seconds: 0.001,
          imagesPerSec: 1000
        })
      }
      // Predictions: exactly one whole batch, from the last or the one-before-last epoch, never a mix.
      const predictions = store.getPredictions(runId)
      expect(predictions).toHaveLength(2000)
      const batches = new Set(predictions.map((p) => p.loss))
      expect(batches.size).toBe(1)
      expect([last, last - 1]).toContain([...batches][0])
    } finally {
      store.close()
    }
  })
})
