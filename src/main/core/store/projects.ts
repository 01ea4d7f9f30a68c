// The projects table: one row per project root.
import { resolve } from 'node:path'
import type { Layout } from '@shared/domain'
import { nowIso, type StoreDb } from './db'
import type { ProjectRow, ScanSummary } from './rows'

export class ProjectsTable {
  constructor(private readonly s: StoreDb) {}

  /** Creates the project for this root (made absolute) or finds it; returns its id. A given layout overwrites the stored one. */
  upsertProject(root: string, layout: Layout | null = null): number {
    const abs = resolve(root)
    const row = this.s.get<{ id: number }>(
      `INSERT INTO projects (root, layout, created_at) VALUES (?, ?, ?)
       ON CONFLICT (root) DO UPDATE SET layout = COALESCE(excluded.layout, projects.layout)
       RETURNING id`,
      abs,
      layout,
      nowIso()
    )
    if (!row) throw new Error(`upsertProject(${abs}) returned no row`)
    return row.id
  }

  getProject(id: number): ProjectRow | null {
    const raw = this.s.get<{
      id: number
      root: string
      layout: Layout | null
      createdAt: string
      lastScannedAt: string | null
      scanSummary: string | null
    }>(
      `SELECT id, root, layout, created_at AS createdAt, last_scanned_at AS lastScannedAt, scan_summary AS scanSummary
       FROM projects WHERE id = ?`,
      id
    )
    if (!raw) return null
    return { ...raw, scanSummary: raw.scanSummary === null ? null : (JSON.parse(raw.scanSummary) as ScanSummary) }
  }

  findProject(root: string): ProjectRow | null {
    const row = this.s.get<{ id: number }>(`SELECT id FROM projects WHERE root = ?`, resolve(root))
    return row ? this.getProject(row.id) : null
  }

  requireProject(id: number): ProjectRow {
    const project = this.getProject(id)
    if (!project) throw new Error(`No project with id ${id} in ${this.s.dbPath}`)
    return project
  }
}
