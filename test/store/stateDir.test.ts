import { spawnSync } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { openProjectState } from '@core/store/projectState'
import {
  fallbackStateDir,
  probeWritableDir,
  projectSlug,
  resolveStateDir,
  userDataDir,
  type StateDirResolution
} from '@core/store/stateDir'
import { makeTempDir } from '@test/helpers/store'

const REPO = fileURLToPath(new URL('../..', import.meta.url))
const RESOLVER = fileURLToPath(new URL('./fixtures/resolveStateDir.ts', import.meta.url))
const isRoot = process.platform !== 'win32' && process.getuid?.() === 0
const NOBODY = 65534

/** Whether an unprivileged user can reach the repository (every ancestor folder searchable by others). */
function othersCanReach(path: string): boolean {
  for (let dir = path; ; dir = dirname(dir)) {
    if ((statSync(dir).mode & 0o001) === 0) return false
    if (dirname(dir) === dir) return true
  }
}
const canDropPrivileges = isRoot && othersCanReach(REPO)

describe('project state folder', () => {
  let tmp: ReturnType<typeof makeTempDir>
  let root: string
  let dataDir: string
  beforeEach(() => {
    tmp = makeTempDir()
    root = join(tmp.dir, 'My Photos!')
    dataDir = join(tmp.dir, 'userdata')
    mkdirSync(root)
  })
  afterEach(() => {
    chmodSync(root, 0o755)
    tmp.cleanup()
  })

  it('uses <root>/.tunelab when it can be written, and leaves no probe file behind', () => {
    const where = resolveStateDir(root, { dataDir })
    expect(where).toEqual({ dir: join(root, '.tunelab'), fallback: false })
    expect(readdirSync(where.dir)).toEqual([])
    expect(existsSync(dataDir)).toBe(false)
  })

  it('falls back when .tunelab cannot be created (a file stands in its way) and says why', () => {
    writeFileSync(join(root, '.tunelab'), 'not a folder')
    const where = resolveStateDir(root, { dataDir })
    expect(where.fallback).toBe(true)
    expect(where.dir).toBe(join(dataDir, 'projects', projectSlug(root)))
    expect(where.reason).toContain(join(root, '.tunelab'))
    expect(where.reason).toMatch(/EEXIST|ENOTDIR/)
    expect(existsSync(where.dir)).toBe(true)
    expect(readFileSync(join(root, '.tunelab'), 'utf8')).toBe('not a folder') // nothing lost
  })

  it.skipIf(isRoot)('falls back for a read-only (chmod 0555) project folder', () => {
    chmodSync(root, 0o555)
    const where = resolveStateDir(root, { dataDir })
    expect(where).toMatchObject({ fallback: true, reason: expect.stringMatching(/EACCES|EPERM/) })
  })

  // Root ignores permission bits, so run the same resolution as an unprivileged user for a real EACCES
  // (skipped when not root, where the test above does it, or when that user cannot reach the repository).
  it.skipIf(!canDropPrivileges)(
    'falls back for a read-only (chmod 0555) project folder, checked as an unprivileged user',
    () => {
      chmodSync(tmp.dir, 0o755)
      mkdirSync(dataDir, { mode: 0o777 })
      chmodSync(dataDir, 0o777)
      chmodSync(root, 0o555)
      const child = spawnSync(process.execPath, ['--import', 'tsx', RESOLVER, root, dataDir], {
        cwd: REPO,
        uid: NOBODY,
        gid: NOBODY,
        encoding: 'utf8',
        env: { ...process.env, HOME: dataDir }
      })
      expect(child.stderr).toBe('')
      expect(child.status).toBe(0)
      const where = JSON.parse(child.stdout) as StateDirResolution
      expect(where.fallback).toBe(true)
      expect(where.dir).toBe(fallbackStateDir(root, { dataDir }))
      expect(where.reason).toMatch(/EACCES.*\.tunelab/)
      expect(existsSync(join(root, '.tunelab'))).toBe(false)
    }
  )

  it('throws a clear error when neither place can be written, or the project folder is missing', () => {
    writeFileSync(join(root, '.tunelab'), 'x')
    const blockedData = join(tmp.dir, 'a-file')
    writeFileSync(blockedData, 'x')
    expect(() => resolveStateDir(root, { dataDir: blockedData })).toThrow(
      /No writable place for the state of project .*\.tunelab.*a-file/
    )
    expect(() => resolveStateDir(join(tmp.dir, 'missing'), { dataDir })).toThrow(
      /Project folder .*missing does not exist/
    )
    expect(probeWritableDir(join(blockedData, 'sub'))).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/ENOTDIR|EEXIST/)
    })
  })

  it('user data directory: option, then TUNELAB_DATA_DIR, then the platform convention', () => {
    const home = '/home/ann'
    expect(userDataDir({ dataDir: '/opt/x', env: { TUNELAB_DATA_DIR: '/env/x' } })).toBe('/opt/x')
    expect(userDataDir({ env: { TUNELAB_DATA_DIR: '/env/x' }, platform: 'darwin', home })).toBe('/env/x')
    expect(userDataDir({ env: {}, platform: 'linux', home })).toBe('/home/ann/.local/share/tunelab')
    expect(userDataDir({ env: { XDG_DATA_HOME: '/xdg' }, platform: 'linux', home })).toBe('/xdg/tunelab')
    expect(userDataDir({ env: {}, platform: 'darwin', home })).toBe('/home/ann/Library/Application Support/TuneLab')
    expect(userDataDir({ env: { APPDATA: '/appdata' }, platform: 'win32', home })).toBe(join('/appdata', 'TuneLab'))
    expect(userDataDir({ env: {}, platform: 'win32', home })).toBe(join(home, 'AppData', 'Roaming', 'TuneLab'))
  })

  it('project slugs are readable, stable, and differ for folders with the same name', () => {
    expect(projectSlug('/data/My Photos!')).toMatch(/^my-photos-[0-9a-f]{12}$/)
    expect(projectSlug('/data/My Photos!')).toBe(projectSlug('/data/x/../My Photos!'))
    expect(projectSlug('/a/pets')).not.toBe(projectSlug('/b/pets'))
    expect(projectSlug('/')).toMatch(/^project-[0-9a-f]{12}$/)
  })

  it('openProjectState creates the folders and the database and finds the same project again', () => {
    const first = openProjectState(root, { dataDir })
    expect(first).toMatchObject({
      root,
      stateDir: join(root, '.tunelab'),
      dbPath: join(root, '.tunelab', 'tunelab.db'),
      cacheDir: join(root, '.tunelab', 'cache'),
      modelsDir: join(root, '.tunelab', 'models'),
      fallback: false
    })
    expect(first.reason).toBeUndefined()
    expect(existsSync(first.cacheDir) && existsSync(first.modelsDir) && existsSync(first.dbPath)).toBe(true)
    expect(first.project.root).toBe(root)
    first.store.close()
    const second = openProjectState(root, { dataDir })
    expect(second.project.id).toBe(first.project.id)
    second.store.close()
  })

  it('openProjectState in the fallback folder records which project it belongs to', () => {
    const state = openProjectState(root, { dataDir, forceFallback: true })
    expect(state.fallback).toBe(true)
    expect(state.reason).toMatch(/forceFallback/)
    expect(state.stateDir).toBe(fallbackStateDir(root, { dataDir }))
    expect(readFileSync(join(state.stateDir, 'project-root.txt'), 'utf8')).toBe(root + '\n')
    expect(state.store.findProject(root)?.id).toBe(state.project.id)
    state.store.close()
    expect(existsSync(join(root, '.tunelab'))).toBe(false)
  })
})
