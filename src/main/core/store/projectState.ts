// One call to get a project's state folder and its open database.
import { mkdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { ProjectStore, type OpenStoreOptions } from './projectStore'
import type { ProjectRow } from './rows'
import { removeStaleTempFiles } from './staleTemp'
import { DB_FILE_NAME, resolveStateDir, type StateDirOptions } from './stateDir'

export { DB_FILE_NAME }

export interface ProjectState {
  root: string
  stateDir: string
  dbPath: string
  cacheDir: string
  modelsDir: string
  /** True when <root>/.tunelab could not be written and the user data folder is used instead. */
  fallback: boolean
  reason?: string
  /** The state can be read but not written (see StateDirResolution.readOnly): `reason` says why. */
  readOnly: boolean
  store: ProjectStore
  /** The project row of `root` (created on first open; layout stays null until the first saveScan). */
  project: ProjectRow
}

export type OpenProjectStateOptions = StateDirOptions &
  OpenStoreOptions & {
    /** Open a project whose state cannot be written, read-only (to show its history). Default: refuse it. */
    allowReadOnly?: boolean
  }

/** A command that must write a project's state, on a project whose state cannot be written. */
export class ReadOnlyStateError extends Error {
  readonly code = 'READ_ONLY_STATE'
  constructor(root: string, reason: string) {
    super(
      `the state of project ${root} cannot be written (${reason}); nothing was changed, its history can still be viewed`
    )
    this.name = 'ReadOnlyStateError'
  }
}

/** The image and feature cache folder of a writable project state (created), or null when it is read-only. */
export function writableCacheDir(root: string, opts: StateDirOptions = {}): string | null {
  const where = resolveStateDir(resolve(root), opts)
  return where.readOnly ? null : join(where.dir, 'cache')
}

export function openProjectState(root: string, opts: OpenProjectStateOptions = {}): ProjectState {
  const abs = resolve(root)
  const where = resolveStateDir(abs, opts)
  if (where.readOnly) return openReadOnly(abs, where.dir, where.reason ?? 'not writable', opts)
  const cacheDir = join(where.dir, 'cache')
  const modelsDir = join(where.dir, 'models')
  mkdirSync(cacheDir, { recursive: true })
  mkdirSync(modelsDir, { recursive: true })
  removeStaleTempFiles([cacheDir, modelsDir])
  // A fallback folder is named by a hash; say which project it belongs to for a human looking at it.
  if (where.fallback) writeFileSync(join(where.dir, 'project-root.txt'), abs + '\n')
  const dbPath = join(where.dir, DB_FILE_NAME)
  const store = ProjectStore.open(dbPath, opts)
  try {
    const projectId = store.upsertProject(abs)
    const project = store.getProject(projectId)
    if (!project) throw new Error(`project ${abs} vanished from ${dbPath}`)
    return {
      root: abs,
      stateDir: where.dir,
      dbPath,
      cacheDir,
      modelsDir,
      fallback: where.fallback,
      ...(where.reason !== undefined ? { reason: where.reason } : {}),
      readOnly: false,
      store,
      project
    }
  } catch (err) {
    store.close()
    throw err
  }
}

function openReadOnly(abs: string, dir: string, reason: string, opts: OpenProjectStateOptions): ProjectState {
  if (!opts.allowReadOnly) throw new ReadOnlyStateError(abs, reason)
  const dbPath = join(dir, DB_FILE_NAME)
  const store = ProjectStore.open(dbPath, { ...opts, readonly: true })
  const project = store.findProject(abs)
  if (!project) {
    store.close()
    throw new ReadOnlyStateError(abs, `${reason}, and its database has no record of this folder`)
  }
  const paths = { cacheDir: join(dir, 'cache'), modelsDir: join(dir, 'models') }
  return { root: abs, stateDir: dir, dbPath, ...paths, fallback: false, reason, readOnly: true, store, project }
}
