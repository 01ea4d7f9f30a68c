// kill -9 of a real `train` at 4 moments (run just created, features being extracted, between epochs, evaluating):
// each time the database must be intact, the run marked interrupted with every finished epoch kept, and no
// temporary file of the dead process left once the project is opened again. Real CLI, TF.js, SQLite, images.
import { spawn, type ChildProcess } from 'node:child_process'
import { readdirSync, writeFileSync, mkdirSync, rmSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openProjectState } from '@core/store/projectState'
import { makeProject, tempDir } from '@test/helpers/synthetic'

const REPO = resolve(__dirname, '../..')
const TRAIN = [
  '--base',
  'mobilenet_v2_0.35_96',
  '--random-weights',
  '--epochs',
  '6',
  '--batch',
  '8',
  '--seed',
  '3',
  '--json'
]

interface Moment {
  name: string
  /** True on the JSON event after which the process is killed. */
  at: (e: Record<string, unknown>) => boolean
  /** Remove the feature cache first: an earlier moment may have filled it, and then there is nothing to extract. */
  noFeatureCache?: boolean
}

const MOMENTS: Moment[] = [
  { name: 'run just created', at: (e) => e['event'] === 'run-created' },
  { name: 'extracting features', at: (e) => e['event'] === 'phase-start', noFeatureCache: true },
  { name: 'between epochs', at: (e) => e['event'] === 'epoch' && e['epoch'] === 2 },
  // Killed on the event itself: on a quiet machine a small project's evaluation and save finish within 100 ms of it.
  { name: 'evaluating', at: (e) => e['event'] === 'stage' && e['stage'] === 'evaluate' }
]

function trainUntil(
  project: string,
  m: Moment,
  env: NodeJS.ProcessEnv
): Promise<{ child: ChildProcess; runId: number; epochsSeen: number; killed: boolean }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', 'train', project, ...TRAIN], {
      cwd: REPO,
      env: { ...process.env, ...env }
    })
    let buf = ''
    let runId = 0
    let epochsSeen = 0
    let fired = false
    let stderr = ''
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()))
    child.stdout?.on('data', (d: Buffer) => {
      buf += d.toString()
      let nl: number
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl)
        buf = buf.slice(nl + 1)
        if (!line.startsWith('{')) continue
        const e = JSON.parse(line) as Record<string, unknown>
        if (e['event'] === 'run-created') runId = Number(e['runId'])
        if (e['event'] === 'epoch') epochsSeen += 1
        if (!fired && m.at(e)) {
          fired = true
          child.kill('SIGKILL')
        }
      }
    })
    child.on('exit', (_code, signal) =>
      runId > 0
        ? done({ child, runId, epochsSeen, killed: signal === 'SIGKILL' })
        : fail(new Error(`train ended before its run was created: ${stderr}`))
    )
  })
}

describe('kill -9 of a training at 4 moments', () => {
  const tmp = tempDir('tunelab-kill9-')
  const project = join(tmp.dir, 'pets')
  const env = { TUNELAB_CACHE_DIR: join(tmp.dir, 'weights'), TUNELAB_WORKERS: '1' }
  beforeAll(async () => {
    await makeProject(project, { classes: ['cat', 'dog'], perClass: 40, size: 64 })
  })
  afterAll(() => tmp.cleanup())

  it('integrity ok and run interrupted every time, finished epochs kept, stale temp files removed on open', async () => {
    const results: {
      moment: string
      integrity: boolean
      interrupted: boolean
      epochsKept: number
      epochsSeen: number
      tempLeft: number
    }[] = []
    for (const m of MOMENTS) {
      if (m.noFeatureCache) rmSync(join(project, '.tunelab', 'cache', 'features'), { recursive: true, force: true })
      const r = await trainUntil(project, m, env)
      expect(r.killed, `${m.name}: the run ended before the kill`).toBe(true)
      // A temporary file of a dead writer, as a kill mid-write leaves one (its pid is the killed process's).
      const planted = join(project, '.tunelab', 'cache', 'features', `planted.f32.${r.child.pid}.tmp`)
      mkdirSync(join(project, '.tunelab', 'cache', 'features'), { recursive: true })
      writeFileSync(planted, 'partial')
      const state = openProjectState(project)
      try {
        const run = state.store.getRun(r.runId)
        const epochs = state.store.getEpochs(r.runId)
        const temps = readdirSync(state.cacheDir, { recursive: true })
          .map(String)
          .filter((f) => f.endsWith('.tmp'))
        results.push({
          moment: m.name,
          integrity: state.store.integrityCheck().join() === 'ok',
          interrupted: run?.status === 'interrupted',
          epochsKept: epochs.length,
          epochsSeen: r.epochsSeen,
          tempLeft: temps.length
        })
      } finally {
        state.store.close()
      }
    }
    const ok = results.filter((r) => r.integrity).length
    const interrupted = results.filter((r) => r.interrupted).length
    process.stdout.write(
      `kill -9 at ${results.length} moments: integrity ok ${ok}/${results.length}, runs interrupted ${interrupted}/${results.length}\n`
    )
    for (const r of results)
      process.stdout.write(
        `  ${r.moment}: epochs seen ${r.epochsSeen}, kept ${r.epochsKept}, temp files left ${r.tempLeft}\n`
      )
    for (const r of results) {
      expect(r).toMatchObject({ integrity: true, interrupted: true, tempLeft: 0 })
      expect(r.epochsKept).toBeGreaterThanOrEqual(r.epochsSeen)
    }
  }, 900_000)
})
