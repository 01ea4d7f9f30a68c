// One call to get a project's state folder and its open database.
import { mkdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { ProjectStore, type OpenStoreOptions } from './projectStore'
import type { ProjectRow } from './rows'
import { resolveStateDir, type StateDirOptions } from './stateDir'

export const DB_FILE_NAME = 'tunelab.db'

export interface ProjectState {
  root: string
  stateDir: string
  dbPath: string
  cacheDir: string
  modelsDir: string
  /** True when <root>/.tunelab could not be written and the user data folder is used instead. */
  fallback: boolean
  reason?: string
  store: ProjectStore
  /** The project row of `root` (created on first open; layout stays null until the first saveScan). */
  project: ProjectRow
}

export type OpenProjectStateOptions = StateDirOptions & OpenStoreOptions

export function openProjectState(root: string, opts: OpenProjectStateOptions = {}): ProjectState {
  const abs = resolve(root)
  const where = resolveStateDir(abs, opts)
  const cacheDir = join(where.dir, 'cache')
  const modelsDir = join(where.dir, 'models')
  mkdirSync(cacheDir, { recursive: true })
  mkdirSync(modelsDir, { recursive: true })
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
      store,
      project
    }
  } catch (err) {
    store.close()
    throw err
  }
}
