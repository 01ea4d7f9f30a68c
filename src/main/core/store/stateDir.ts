// Where a project's state (database, cache, exported models) lives: <root>/.tunelab when that folder can be
// created and written, else a per-project folder under the user's data directory.
import { createHash, randomUUID } from 'node:crypto'
import { existsSync, mkdirSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { basename, join, resolve } from 'node:path'

export const STATE_DIR_NAME = '.tunelab'
export const DB_FILE_NAME = 'tunelab.db'

export interface StateDirOptions {
  /** Base of the fallback location (overrides env TUNELAB_DATA_DIR and the platform default). */
  dataDir?: string
  /** Environment to read (default process.env). */
  env?: NodeJS.ProcessEnv
  platform?: NodeJS.Platform
  home?: string
  /** Skip <root>/.tunelab and use the fallback folder directly. */
  forceFallback?: boolean
}

export interface StateDirResolution {
  dir: string
  fallback: boolean
  /** Why the fallback was used, or why the state is read-only. */
  reason?: string
  /**
   * The project's own state folder holds its history but cannot be written (a read-only folder, a full disk):
   * it is opened read-only rather than replaced by an empty fallback that would hide that history.
   */
  readOnly?: true
}

export interface WritableProbe {
  ok: boolean
  reason?: string
}

/**
 * Creates `dir` if needed and writes, then removes, a probe file in it. Real I/O, so it also catches what
 * permission bits do not say (read-only mounts, running as root, a file standing where the folder should be).
 */
export function probeWritableDir(dir: string): WritableProbe {
  const probe = join(dir, `.write-probe-${process.pid}-${randomUUID()}`)
  try {
    mkdirSync(dir, { recursive: true })
    writeFileSync(probe, 'ok')
    unlinkSync(probe)
    return { ok: true }
  } catch (err) {
    const e = err as NodeJS.ErrnoException
    // A full disk creates the file and then fails to write it: leave nothing behind.
    if (existsSync(probe)) rmSync(probe, { force: true })
    return { ok: false, reason: `${dir} is not writable (${e.message})` }
  }
}

/** TuneLab's per-user data directory (the env TUNELAB_DATA_DIR wins, then the platform convention). */
export function userDataDir(opts: Pick<StateDirOptions, 'dataDir' | 'env' | 'platform' | 'home'> = {}): string {
  if (opts.dataDir) return resolve(opts.dataDir)
  const env = opts.env ?? process.env
  if (env.TUNELAB_DATA_DIR) return resolve(env.TUNELAB_DATA_DIR)
  const home = opts.home ?? homedir()
  switch (opts.platform ?? process.platform) {
    case 'darwin':
      return join(home, 'Library', 'Application Support', 'TuneLab')
    case 'win32':
      return join(env.APPDATA ?? join(home, 'AppData', 'Roaming'), 'TuneLab')
    default:
      return join(env.XDG_DATA_HOME || join(home, '.local', 'share'), 'tunelab')
  }
}

/** `<slug of the folder name>-<first 12 hex of sha256(absolute path)>`: readable and unique per path. */
export function projectSlug(root: string): string {
  const abs = resolve(root)
  const slug =
    basename(abs)
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 40) || 'project'
  const hash = createHash('sha256').update(abs).digest('hex').slice(0, 12)
  return `${slug}-${hash}`
}

export function fallbackStateDir(root: string, opts: StateDirOptions = {}): string {
  return join(userDataDir(opts), 'projects', projectSlug(root))
}

/**
 * A folder whose mode has no write bit at all is read-only by intent, even for root (who can write anyway):
 * the project folder, or our state folder in it, is left untouched.
 */
export function markedReadOnly(root: string, inProject: string): string | null {
  if (process.getuid?.() !== 0) return null
  for (const dir of [root, inProject]) {
    let mode: number
    try {
      mode = statSync(dir).mode
    } catch {
      continue // no state folder yet
    }
    if ((mode & 0o222) === 0) return `${dir} is read-only (mode ${(mode & 0o777).toString(8)})`
  }
  return null
}

/** Whether TuneLab has stored anything for this project (in the folder or in the fallback place). */
export function hasStoredState(root: string, opts: StateDirOptions = {}): boolean {
  const abs = resolve(root)
  return [join(abs, STATE_DIR_NAME), fallbackStateDir(abs, opts)].some((d) => existsSync(join(d, DB_FILE_NAME)))
}

/** Picks and creates the state folder of a project. Throws when neither location can be written. */
export function resolveStateDir(root: string, opts: StateDirOptions = {}): StateDirResolution {
  const abs = resolve(root)
  let isDir = false
  try {
    isDir = statSync(abs).isDirectory()
  } catch {
    isDir = false
  }
  if (!isDir) throw new Error(`Project folder ${abs} does not exist or is not a folder`)

  let reason: string
  if (opts.forceFallback) {
    reason = 'the project folder was not to be used (forceFallback)'
  } else {
    const inProject = join(abs, STATE_DIR_NAME)
    const marked = markedReadOnly(abs, inProject)
    const probe = marked ? { ok: false, reason: marked } : probeWritableDir(inProject)
    if (probe.ok) return { dir: inProject, fallback: false }
    reason = probe.reason ?? `${inProject} is not writable`
    if (existsSync(join(inProject, DB_FILE_NAME))) return { dir: inProject, fallback: false, readOnly: true, reason }
  }
  const dir = fallbackStateDir(abs, opts)
  const probe = probeWritableDir(dir)
  if (!probe.ok) {
    throw new Error(`No writable place for the state of project ${abs}: ${reason}; fallback ${probe.reason ?? dir}`)
  }
  return { dir, fallback: true, reason }
}
