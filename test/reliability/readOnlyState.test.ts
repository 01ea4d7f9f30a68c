// A project whose state cannot be written is opened read-only with all its history, never silently swapped for an
// empty fallback, and never written (root included). Real SQLite, real folders, the real CLI and handler table.
import { spawnSync } from 'node:child_process'
import { chmodSync, mkdirSync, readdirSync, statSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { dispatch } from '@main/handlers'
import { createSession } from '@main/services/session'
import { openProjectState, ReadOnlyStateError } from '@core/store/projectState'
import { makeProject, tempDir } from '@test/helpers/synthetic'

const REPO = resolve(__dirname, '../..')
const isRoot = process.getuid?.() === 0
const NOBODY = 65534

function othersCanReach(path: string): boolean {
  for (let dir = path; ; dir = dirname(dir)) {
    if ((statSync(dir).mode & 0o001) === 0) return false
    if (dirname(dir) === dir) return true
  }
}

/** Every file under `dir` with its size and mtime: equal snapshots = nothing was written. */
function snapshot(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => {
      const p = join(e.parentPath, e.name)
      const st = statSync(p)
      return `${p} ${st.size} ${st.mtimeMs}`
    })
    .sort()
}

function cli(
  args: string[],
  opts: { uid?: number; env?: NodeJS.ProcessEnv } = {}
): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', ...args], {
    cwd: REPO,
    encoding: 'utf8',
    env: { ...process.env, ...opts.env },
    ...(opts.uid !== undefined ? { uid: opts.uid, gid: opts.uid } : {})
  })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

describe('read-only project state', () => {
  const tmp = tempDir('tunelab-readonly-')
  const root = join(tmp.dir, 'pets')
  const dataDir = join(tmp.dir, 'userdata')
  let runIds: number[] = []

  beforeAll(async () => {
    chmodSync(tmp.dir, 0o755)
    await makeProject(root, { classes: ['cat', 'dog'], perClass: 3, size: 24 })
    // History: two finished runs in the project's own state folder.
    const state = openProjectState(root, { dataDir })
    const make = (): number =>
      state.store.createRun({ projectId: state.project.id, config: {}, classes: ['cat', 'dog'] }).id
    runIds = [make(), make()]
    for (const id of runIds) state.store.finishRun(id, 'completed', {})
    state.store.close()
  })
  afterAll(() => {
    chmodSync(root, 0o755)
    chmodSync(join(root, '.tunelab'), 0o755)
    tmp.cleanup()
  })

  it('a read-only folder with history: writers are refused in one line, readers see all runs, nothing is written', async () => {
    chmodSync(root, 0o555)
    chmodSync(join(root, '.tunelab'), 0o555)
    const before = snapshot(join(root, '.tunelab'))
    try {
      expect(() => openProjectState(root, { dataDir })).toThrow(ReadOnlyStateError)
      const state = openProjectState(root, { dataDir, allowReadOnly: true })
      expect(state).toMatchObject({ readOnly: true, fallback: false, stateDir: join(root, '.tunelab') })
      expect(state.store.listRuns(state.project.id).map((r) => r.id)).toEqual([...runIds].reverse())
      expect(() => state.store.upsertProject(root)).toThrow(/readonly/)
      state.store.close()

      const scan = cli(['scan', root], { env: { TUNELAB_DATA_DIR: dataDir } })
      expect(scan.status).toBe(1)
      expect(scan.stderr).toMatch(
        /tunelab: error: the state of project .*pets cannot be written \(.*read-only.*\); nothing was changed/
      )
      expect(scan.stderr).not.toMatch(/\n\s+at /)
      const runs = cli(['runs', root, '--json'], { env: { TUNELAB_DATA_DIR: dataDir } })
      expect(runs.status).toBe(0)
      const listed = JSON.parse(runs.stdout.trim().split('\n').pop() ?? '{}') as {
        readOnly: string | null
        runs: { id: number }[]
      }
      expect(listed.readOnly).toMatch(/read-only/)
      expect(listed.runs.map((r) => r.id)).toEqual([...runIds].reverse())
      expect(snapshot(join(root, '.tunelab'))).toEqual(before)
    } finally {
      chmodSync(root, 0o755)
      chmodSync(join(root, '.tunelab'), 0o755)
    }
  })

  it('the app opens it read-only: history visible, saving answers conflict with the reason', async () => {
    chmodSync(root, 0o555)
    const ctx = createSession({
      transport: 'serve',
      userDataDir: join(tmp.dir, 'app'),
      workerPath: resolve('src/main/workers/training.ts'),
      broadcast: () => undefined
    })
    try {
      const opened = await dispatch('project.open', { path: root }, ctx)
      if (!opened.ok) throw new Error(opened.error.message)
      const info = opened.result as { projectKey: string; stateReadOnly: string | null; stateFallback: boolean }
      expect(info.stateReadOnly).toMatch(/pets is read-only \(mode 555\)/)
      expect(info.stateFallback).toBe(false)
      const runs = await dispatch('runs.list', { projectKey: info.projectKey }, ctx)
      expect(runs.ok && (runs.result as { runs: unknown[] }).runs).toHaveLength(2)
      const scan = await dispatch('project.scan', { projectKey: info.projectKey }, ctx)
      expect(scan).toMatchObject({
        ok: false,
        error: { code: 'conflict', message: expect.stringMatching(/open read-only \(.*\): nothing can be saved/) }
      })
    } finally {
      await ctx.runner.shutdown()
      ctx.projects.closeAll()
      chmodSync(root, 0o755)
    }
  })

  // Root ignores permission bits: run the CLI as an unprivileged user for a real EACCES on the state folder.
  it.skipIf(!isRoot || !othersCanReach(REPO))(
    'as a user who cannot write .tunelab: runs shows the history instead of an empty fallback',
    () => {
      chmodSync(join(root, '.tunelab'), 0o555)
      chmodSync(root, 0o755)
      try {
        const r = cli(['runs', root], {
          uid: NOBODY,
          env: { TUNELAB_DATA_DIR: join(tmp.dir, 'nobody-data'), HOME: tmp.dir }
        })
        expect(r.stderr).toBe('')
        expect(r.stdout).toMatch(/read-only: .*EACCES/)
        expect(r.stdout).toMatch(/#2[\s\S]*#1/)
      } finally {
        chmodSync(join(root, '.tunelab'), 0o755)
      }
    }
  )
})

/** A 4 MB tmpfs (root in a container may mount one); null when mounting is not allowed here. */
function smallDisk(dir: string): boolean {
  mkdirSync(dir, { recursive: true })
  return spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', dir]).status === 0
}

describe('full disk', () => {
  const tmp = tempDir('tunelab-fulldisk-')
  const disk = join(tmp.dir, 'disk')
  const mounted = isRoot && smallDisk(disk)
  afterAll(() => {
    if (mounted) spawnSync('umount', [disk])
    tmp.cleanup()
  })

  it.skipIf(!mounted)(
    'a project whose disk is full opens read-only with its history; writers are refused; no file is left',
    async () => {
      const root = join(disk, 'pets')
      await makeProject(root, { classes: ['cat', 'dog'], perClass: 2, size: 16 })
      const state = openProjectState(root)
      const runId = state.store.createRun({ projectId: state.project.id, config: {}, classes: ['cat', 'dog'] }).id
      state.store.finishRun(runId, 'completed', {})
      state.store.close()
      spawnSync('dd', ['if=/dev/zero', `of=${join(disk, 'fill')}`, 'bs=64k'])
      const before = snapshot(join(root, '.tunelab'))
      const scan = cli(['scan', root])
      expect(scan.status).toBe(1)
      expect(scan.stderr).toMatch(
        /tunelab: error: the state of project .* cannot be written \(.*ENOSPC.*\); nothing was changed/
      )
      const runs = cli(['runs', root])
      expect(runs.stdout).toMatch(/read-only: .*ENOSPC[\s\S]*#1/)
      expect(snapshot(join(root, '.tunelab'))).toEqual(before)
    }
  )
})
