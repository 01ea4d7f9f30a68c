// The label-overrides store: set / undo / clear per user action, matching overrides to the images of the
// latest scan (by path, and by content hash after a rename), and the snapshot each run trained with.
import type Database from 'better-sqlite3'
import type { LabelAction, LabelCounts, LabelOverride, OverrideResolution, ResolvedOverride } from '../labels/types'

interface RawOverride {
  relPath: string
  contentHash: string
  originalClass: string
  newClass: string | null
  excluded: number
  note: string | null
  createdAt: string
  actionId: number
}

interface ImageRef {
  id: number
  relPath: string
  contentHash: string | null
  className: string | null
}

export interface LabelActionRow {
  id: number
  kind: 'relabel' | 'exclude' | 'clear'
  createdAt: string
  undoneAt: string | null
  /** Images (by path at the time) the action changed. */
  paths: string[]
}

export interface SetResult {
  actionId: number
  /** Overrides now in force for the images of the request. */
  overrides: LabelOverride[]
}

const COLUMNS = `rel_path AS relPath, content_hash AS contentHash, original_class AS originalClass, new_class AS newClass,
  excluded, note, created_at AS createdAt, action_id AS actionId`

/** A request names an image that cannot be overridden (not in the project, missing, unreadable, bad class). */
export class LabelOverrideError extends Error {
  readonly code: string
  constructor(message: string) {
    super(message)
    this.name = 'LabelOverrideError'
    this.code = 'LABELS'
  }
}

function fromRaw(raw: RawOverride): LabelOverride {
  return { ...raw, excluded: raw.excluded === 1 }
}

function listSome(items: readonly (string | number)[], max = 5): string {
  const shown = items.slice(0, max).join(', ')
  return items.length > max ? `${shown} (and ${items.length - max} more)` : shown
}

export class LabelOverrideStore {
  constructor(private readonly db: Database.Database) {}

  /** Every stored override of the project, by path. */
  list(projectId: number): LabelOverride[] {
    const rows = this.db
      .prepare(`SELECT ${COLUMNS} FROM label_overrides WHERE project_id = ? ORDER BY rel_path`)
      .all(projectId)
    return (rows as RawOverride[]).map(fromRaw)
  }

  counts(overrides: Iterable<LabelOverride>): LabelCounts {
    let relabelled = 0
    let excluded = 0
    for (const o of overrides) {
      if (o.excluded) excluded++
      else relabelled++
    }
    return { relabelled, excluded }
  }

  private presentImages(projectId: number): ImageRef[] {
    return this.db
      .prepare(
        `SELECT id, rel_path AS relPath, content_hash AS contentHash, class_name AS className FROM images
         WHERE project_id = ? AND present = 1 AND readable = 1 ORDER BY rel_path`
      )
      .all(projectId) as ImageRef[]
  }

  /**
   * Matches the overrides to the present images: same path and same content, else (a rename) a present image
   * with the same content that no other override holds by path. A found rename moves the override to the new
   * path. A path whose content changed is a different image: its override stays unmatched.
   */
  resolve(projectId: number): OverrideResolution {
    return this.db
      .transaction((): OverrideResolution => {
        const images = this.presentImages(projectId)
        const byPath = new Map(images.map((i) => [i.relPath, i]))
        const byHash = new Map<string, ImageRef[]>()
        for (const i of images) {
          if (i.contentHash === null) continue
          const list = byHash.get(i.contentHash) ?? []
          list.push(i)
          byHash.set(i.contentHash, list)
        }
        const overrides = this.list(projectId)
        const held = new Set(overrides.map((o) => o.relPath))
        const byImage = new Map<number, ResolvedOverride>()
        const unmatched: LabelOverride[] = []
        const resolved = (o: LabelOverride, img: ImageRef): void => {
          const folderClass = img.className ?? o.originalClass
          const applied = !o.excluded && o.newClass === folderClass && folderClass !== o.originalClass
          byImage.set(img.id, { ...o, imageId: img.id, folderClass, applied })
        }
        const pending: LabelOverride[] = []
        for (const o of overrides) {
          const img = byPath.get(o.relPath)
          if (img && img.contentHash === o.contentHash) resolved(o, img)
          else pending.push(o)
        }
        const move = this.db.prepare(`UPDATE label_overrides SET rel_path = ? WHERE project_id = ? AND rel_path = ?`)
        for (const o of pending) {
          const img = (byHash.get(o.contentHash) ?? []).find((i) => !held.has(i.relPath) && !byImage.has(i.id))
          if (!img || byPath.get(o.relPath)) {
            unmatched.push(o)
            continue
          }
          move.run(img.relPath, projectId, o.relPath)
          held.delete(o.relPath)
          held.add(img.relPath)
          resolved({ ...o, relPath: img.relPath }, img)
        }
        return { byImage, unmatched }
      })
      .immediate()
  }

  /** Relabels or excludes images (ids of present, readable images of the project) as one undoable action. */
  set(
    projectId: number,
    imageIds: readonly number[],
    action: LabelAction,
    classes: readonly string[],
    note?: string | null
  ): SetResult {
    if (imageIds.length === 0) throw new LabelOverrideError('no image given')
    if (action.kind === 'relabel' && !classes.includes(action.to)) {
      throw new LabelOverrideError(`'${action.to}' is not a class of this project (classes: ${classes.join(', ')})`)
    }
    return this.db
      .transaction((): SetResult => {
        this.resolve(projectId)
        const images = this.imagesById(projectId, imageIds)
        const at = new Date().toISOString()
        const paths = images.map((i) => i.relPath)
        const replaced = paths.map((p) => this.getByPath(projectId, p)).filter((o): o is LabelOverride => o !== null)
        const actionId = Number(
          this.db
            .prepare(`INSERT INTO label_actions (project_id, kind, created_at, replaced) VALUES (?, ?, ?, ?)`)
            .run(projectId, action.kind, at, JSON.stringify({ paths, replaced })).lastInsertRowid
        )
        const del = this.db.prepare(`DELETE FROM label_overrides WHERE project_id = ? AND rel_path = ?`)
        const out: LabelOverride[] = []
        for (const img of images) {
          const before = replaced.find((o) => o.relPath === img.relPath)
          const originalClass = before?.originalClass ?? img.className
          del.run(projectId, img.relPath)
          // Moving an image back to the class its folder gives it is the same as having no override.
          if (action.kind === 'relabel' && action.to === img.className && originalClass === img.className) continue
          const o: LabelOverride = {
            relPath: img.relPath,
            contentHash: img.contentHash,
            originalClass,
            newClass: action.kind === 'relabel' ? action.to : null,
            excluded: action.kind === 'exclude',
            note: note ?? null,
            createdAt: at,
            actionId
          }
          this.insert(projectId, o)
          out.push(o)
        }
        return { actionId, overrides: out }
      })
      .immediate()
  }

  /** Removes every override of the project, as one undoable action. */
  clear(projectId: number): { actionId: number | null; cleared: number } {
    return this.db
      .transaction(() => {
        const replaced = this.list(projectId)
        if (replaced.length === 0) return { actionId: null, cleared: 0 }
        const actionId = Number(
          this.db
            .prepare(`INSERT INTO label_actions (project_id, kind, created_at, replaced) VALUES (?, 'clear', ?, ?)`)
            .run(
              projectId,
              new Date().toISOString(),
              JSON.stringify({ paths: replaced.map((o) => o.relPath), replaced })
            ).lastInsertRowid
        )
        this.db.prepare(`DELETE FROM label_overrides WHERE project_id = ?`).run(projectId)
        return { actionId, cleared: replaced.length }
      })
      .immediate()
  }

  /**
   * Undoes one action (default: the latest not yet undone): its overrides go, the ones it replaced come back
   * (unless a later action has set that image since). Returns null when there is nothing to undo.
   */
  undo(projectId: number, actionId?: number): { actionId: number; paths: string[] } | null {
    return this.db
      .transaction(() => {
        const row = (
          actionId === undefined
            ? this.db
                .prepare(
                  `SELECT id, replaced FROM label_actions WHERE project_id = ? AND undone_at IS NULL ORDER BY id DESC LIMIT 1`
                )
                .get(projectId)
            : this.db
                .prepare(
                  `SELECT id, replaced, undone_at AS undoneAt FROM label_actions WHERE project_id = ? AND id = ?`
                )
                .get(projectId, actionId)
        ) as { id: number; replaced: string; undoneAt?: string | null } | undefined
        if (!row) {
          if (actionId === undefined) return null
          throw new LabelOverrideError(`no label action ${actionId} in this project`)
        }
        if (row.undoneAt) throw new LabelOverrideError(`label action ${row.id} was already undone at ${row.undoneAt}`)
        const { paths, replaced } = JSON.parse(row.replaced) as { paths: string[]; replaced: LabelOverride[] }
        this.db.prepare(`DELETE FROM label_overrides WHERE project_id = ? AND action_id = ?`).run(projectId, row.id)
        for (const o of replaced) if (this.getByPath(projectId, o.relPath) === null) this.insert(projectId, o)
        this.db.prepare(`UPDATE label_actions SET undone_at = ? WHERE id = ?`).run(new Date().toISOString(), row.id)
        return { actionId: row.id, paths }
      })
      .immediate()
  }

  actions(projectId: number): LabelActionRow[] {
    const rows = this.db
      .prepare(
        `SELECT id, kind, created_at AS createdAt, undone_at AS undoneAt, replaced FROM label_actions WHERE project_id = ? ORDER BY id`
      )
      .all(projectId) as (Omit<LabelActionRow, 'paths'> & { replaced: string })[]
    return rows.map(({ replaced, ...r }) => ({ ...r, paths: (JSON.parse(replaced) as { paths: string[] }).paths }))
  }

  /** Stores the overrides a run uses (call once, when the run is created). */
  recordRun(runId: number, used: readonly LabelOverride[]): void {
    const insert = this.db.prepare(
      `INSERT INTO run_label_overrides (run_id, rel_path, content_hash, original_class, new_class, excluded) VALUES (?, ?, ?, ?, ?, ?)`
    )
    this.db.transaction(() => {
      for (const o of used) insert.run(runId, o.relPath, o.contentHash, o.originalClass, o.newClass, o.excluded ? 1 : 0)
    })()
  }

  /** The overrides a run used (empty for runs trained without any, or before overrides existed). */
  forRun(runId: number): Omit<LabelOverride, 'note' | 'createdAt' | 'actionId'>[] {
    const rows = this.db
      .prepare(
        `SELECT rel_path AS relPath, content_hash AS contentHash, original_class AS originalClass, new_class AS newClass, excluded
         FROM run_label_overrides WHERE run_id = ? ORDER BY rel_path`
      )
      .all(runId) as Omit<RawOverride, 'note' | 'createdAt' | 'actionId'>[]
    return rows.map((r) => ({ ...r, excluded: r.excluded === 1 }))
  }

  private getByPath(projectId: number, relPath: string): LabelOverride | null {
    const raw = this.db
      .prepare(`SELECT ${COLUMNS} FROM label_overrides WHERE project_id = ? AND rel_path = ?`)
      .get(projectId, relPath) as RawOverride | undefined
    return raw ? fromRaw(raw) : null
  }

  private insert(projectId: number, o: LabelOverride): void {
    this.db
      .prepare(
        `INSERT INTO label_overrides (project_id, rel_path, content_hash, original_class, new_class, excluded, note, created_at, action_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`
      )
      .run(
        projectId,
        o.relPath,
        o.contentHash,
        o.originalClass,
        o.newClass,
        o.excluded ? 1 : 0,
        o.note,
        o.createdAt,
        o.actionId
      )
  }

  private imagesById(
    projectId: number,
    ids: readonly number[]
  ): (ImageRef & { contentHash: string; className: string })[] {
    const get = this.db.prepare(
      `SELECT id, rel_path AS relPath, content_hash AS contentHash, class_name AS className, present, readable, project_id AS projectId
       FROM images WHERE id = ?`
    )
    const bad: string[] = []
    const out: (ImageRef & { contentHash: string; className: string })[] = []
    for (const id of new Set(ids)) {
      const r = get.get(id) as (ImageRef & { present: number; readable: number; projectId: number }) | undefined
      if (!r || r.projectId !== projectId) bad.push(`${id} (not in this project)`)
      else if (r.present !== 1) bad.push(`${r.relPath} (no longer on disk: rescan)`)
      else if (r.readable !== 1 || r.contentHash === null || r.className === null) bad.push(`${r.relPath} (unreadable)`)
      else out.push({ ...r, contentHash: r.contentHash, className: r.className })
    }
    if (bad.length > 0) throw new LabelOverrideError(`cannot relabel or exclude image(s) ${listSome(bad)}`)
    return out
  }
}
