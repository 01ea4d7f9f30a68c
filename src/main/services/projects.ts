// Open projects of this app session, by key. Each holds its state folder and database connection.
import { createHash } from 'node:crypto'
import { statSync } from 'node:fs'
import { hostname } from 'node:os'
import { basename, resolve } from 'node:path'
import { ApiError, type ProjectInfo } from '@shared/contract'
import { openProjectState, type ProjectState } from '@core/store'
import { systemFolderReason } from './systemFolders'

export interface OpenProject {
  key: string
  root: string
  state: ProjectState
  /** Runs marked interrupted when this process opened the database. */
  recovered: { runId: number; reason: string }[]
}

export function projectKeyOf(root: string): string {
  return createHash('sha256').update(resolve(root)).digest('hex').slice(0, 16)
}

export class ProjectRegistry {
  private readonly open = new Map<string, OpenProject>()

  /** Opens the folder (or returns it if open). Bad paths answer 'bad-input' naming the path. */
  openFolder(path: string): OpenProject {
    const root = resolve(path)
    const key = projectKeyOf(root)
    const known = this.open.get(key)
    if (known) return known
    const state = openProjectState(checkedFolder(root), { allowReadOnly: true })
    const project: OpenProject = { key, root, state, recovered: [...state.store.recovered] }
    this.open.set(key, project)
    return project
  }

  get(key: string): OpenProject {
    const p = this.open.get(key)
    if (!p) throw new ApiError('not-found', `no open project with key ${key}: open the folder first (project.open)`)
    return p
  }

  /**
   * Marks 'running' runs whose owner process has died since the project was opened as interrupted (a CLI run
   * killed while the app shows it). Runs owned by this process (its training worker threads) are left alone.
   */
  noticeDeadOwners(p: OpenProject): void {
    if (p.state.readOnly) return
    const host = hostname()
    const found = p.state.store.runs.recoverRuns({
      keep: (owner) => owner !== null && owner.pid === process.pid && owner.host === host
    })
    p.recovered.push(...found)
  }

  /** For handlers that save something: a read-only project answers 'conflict' saying why, before anything starts. */
  writable(key: string): OpenProject {
    const p = this.get(key)
    if (p.state.readOnly)
      throw new ApiError(
        'conflict',
        `${p.root} is open read-only (${p.state.reason ?? 'its state cannot be written'}): nothing can be saved`
      )
    return p
  }

  find(key: string): OpenProject | null {
    return this.open.get(key) ?? null
  }

  closeAll(): void {
    for (const p of this.open.values()) p.state.store.close()
    this.open.clear()
  }

  info(p: OpenProject): ProjectInfo {
    const row = p.state.store.getProject(p.state.project.id)
    const s = row?.scanSummary ?? null
    return {
      projectKey: p.key,
      root: p.root,
      name: basename(p.root),
      stateDir: p.state.stateDir,
      stateFallback: p.state.fallback,
      stateReadOnly: p.state.readOnly ? (p.state.reason ?? 'not writable') : null,
      lastScan: s
        ? {
            layout: s.layout,
            images: s.images,
            unreadable: s.unreadable,
            leakageGroups: s.leakageGroups,
            classes: s.classes,
            scannedAt: row?.lastScannedAt ?? null
          }
        : null,
      recoveredRuns: p.recovered
    }
  }
}

/** The absolute path of an existing folder that may be a project; else 'bad-input' naming the path. */
export function checkedFolder(path: string): string {
  const root = resolve(path)
  const refused = systemFolderReason(root)
  if (refused) throw new ApiError('bad-input', refused)
  let st
  try {
    st = statSync(root)
  } catch {
    throw new ApiError('bad-input', `project folder not found: ${root}`)
  }
  if (!st.isDirectory()) throw new ApiError('bad-input', `not a folder: ${root}`)
  return root
}
