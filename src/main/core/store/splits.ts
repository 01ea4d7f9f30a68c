// The splits table: each saved split with its full assignment; the latest one is mirrored into images.split.
import type { SplitName, SplitStrategy } from '@shared/domain'
import { assertSplit, listSome, nowIso, type StoreDb } from './db'
import type { ProjectsTable } from './projects'
import type { StoredSplit } from './rows'

export class SplitsTable {
  constructor(
    private readonly s: StoreDb,
    private readonly projects: ProjectsTable
  ) {}

  /**
   * Records a split (strategy + full assignment) and makes it the current one: images.split is set from it
   * (null for present images it does not name). Paths must be present, readable images of the project.
   */
  saveSplit(projectId: number, strategy: SplitStrategy, assignment: ReadonlyMap<string, SplitName>): StoredSplit {
    this.projects.requireProject(projectId)
    for (const [path, split] of assignment) assertSplit(split, `saveSplit (${path})`)
    const createdAt = nowIso()
    const id = this.s.db
      .transaction((): number => {
        const ids = new Map(
          this.s
            .all<{
              id: number
              relPath: string
            }>(
              `SELECT id, rel_path AS relPath FROM images WHERE project_id = ? AND present = 1 AND readable = 1`,
              projectId
            )
            .map((r) => [r.relPath, r.id])
        )
        const unknown = [...assignment.keys()].filter((p) => !ids.has(p))
        if (unknown.length > 0) {
          throw new Error(
            `saveSplit: ${unknown.length} path(s) are not readable images of project ${projectId} (scan first?): ${listSome(unknown)}`
          )
        }
        const splitId = Number(
          this.s.run(
            `INSERT INTO splits (project_id, strategy, seed, created_at) VALUES (?, ?, ?, ?)`,
            projectId,
            JSON.stringify(strategy),
            strategy.seed,
            createdAt
          ).lastInsertRowid
        )
        this.s.run(`UPDATE images SET split = NULL WHERE project_id = ?`, projectId)
        for (const [path, split] of assignment) {
          const imageId = ids.get(path)
          if (imageId === undefined) continue
          this.s.run(`INSERT INTO split_members (split_id, image_id, split) VALUES (?, ?, ?)`, splitId, imageId, split)
          this.s.run(`UPDATE images SET split = ? WHERE id = ?`, split, imageId)
        }
        return splitId
      })
      .immediate()
    const stored = this.getSplit(projectId, id)
    if (!stored) throw new Error(`saveSplit: split ${id} vanished`)
    return stored
  }

  /** The latest split of the project (or the given one), with its assignment by relative path; null if none. */
  getSplit(projectId: number, splitId?: number): StoredSplit | null {
    const row =
      splitId === undefined
        ? this.s.get<{ id: number; strategy: string; seed: number; createdAt: string }>(
            `SELECT id, strategy, seed, created_at AS createdAt FROM splits WHERE project_id = ? ORDER BY id DESC LIMIT 1`,
            projectId
          )
        : this.s.get<{ id: number; strategy: string; seed: number; createdAt: string }>(
            `SELECT id, strategy, seed, created_at AS createdAt FROM splits WHERE project_id = ? AND id = ?`,
            projectId,
            splitId
          )
    if (!row) return null
    const members = this.s.all<{ relPath: string; split: SplitName; hash: string | null }>(
      `SELECT i.rel_path AS relPath, m.split, i.content_hash AS hash FROM split_members m
       JOIN images i ON i.id = m.image_id WHERE m.split_id = ? ORDER BY i.rel_path`,
      row.id
    )
    return {
      id: row.id,
      projectId,
      strategy: JSON.parse(row.strategy) as SplitStrategy,
      seed: row.seed,
      createdAt: row.createdAt,
      assignment: new Map(members.map((m) => [m.relPath, m.split])),
      byContent: new Map(members.flatMap((m) => (m.hash ? [[m.hash, m.split] as const] : [])))
    }
  }
}
