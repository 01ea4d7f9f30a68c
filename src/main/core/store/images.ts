// The images table: what a scan found, kept by relative path so predictions of earlier runs still join.
import type { Layout, ScanFileRecord, ScanResult } from '@shared/domain'
import { assertSplit, listSome, nowIso, type SqlValue, type StoreDb } from './db'
import type { ProjectsTable } from './projects'
import type { ImageRow, ListImagesOptions, SaveScanResult, ScanSummary } from './rows'

/** An images row as SQLite returns it: the booleans are 0/1. */
type RawImage = Omit<ImageRow, 'readable' | 'present'> & { readable: number; present: number }

/** Present files with their recorded size and times (the previous scan, for an incremental one); `?` = project id. */
export const SCAN_RECORDS_SQL = `SELECT rel_path AS relPath, bytes, mtime_ms AS mtimeMs, ctime_ms AS ctimeMs,
    content_hash AS hash, width, height, error
  FROM images
  WHERE project_id = ? AND present = 1 AND bytes IS NOT NULL AND mtime_ms IS NOT NULL AND ctime_ms IS NOT NULL`

export type ScanRecordRow = { relPath: string } & ScanFileRecord

export function recordsFromRows(rows: readonly ScanRecordRow[]): Map<string, ScanFileRecord> {
  return new Map(rows.map(({ relPath, ...record }) => [relPath, record]))
}

const IMAGE_COLUMNS = `id, project_id AS projectId, rel_path AS relPath, class_name AS className,
  folder_split AS folderSplit, split, content_hash AS contentHash, width, height, bytes, readable, error, present`

function imageFromRaw(raw: RawImage): ImageRow {
  return { ...raw, readable: raw.readable === 1, present: raw.present === 1 }
}

/** Best-effort class of an unreadable file from its path: <class>/<file> or <split>/<class>/<file>. */
function classFromPath(relPath: string, layout: Layout): string | null {
  const parts = relPath.split('/')
  if (layout === 'presplit') return parts.length >= 3 ? (parts[1] ?? null) : null
  return parts.length >= 2 ? (parts[0] ?? null) : null
}

export class ImagesTable {
  constructor(
    private readonly s: StoreDb,
    private readonly projects: ProjectsTable
  ) {}

  /**
   * Stores a scan in one transaction. Rows are matched by relative path: an unchanged path keeps its id (so
   * predictions of earlier runs still join), a new path gets a new row, a path the scan no longer lists is kept
   * with present = false. The assigned split of a kept row is kept until the next saveSplit.
   */
  saveScan(projectId: number, scan: ScanResult): SaveScanResult {
    this.projects.requireProject(projectId)
    const seen = new Set<string>()
    const duplicates: string[] = []
    for (const path of [...scan.images.map((i) => i.path), ...scan.unreadable.map((u) => u.path)]) {
      if (seen.has(path)) duplicates.push(path)
      seen.add(path)
    }
    if (duplicates.length > 0) throw new Error(`saveScan: the scan lists these paths twice: ${listSome(duplicates)}`)

    const summary: ScanSummary = {
      layout: scan.layout,
      folderSplits: scan.folderSplits,
      classes: scan.classes.map((c) => ({ name: c.name, total: c.total, counts: c.counts })),
      images: scan.images.length,
      unreadable: scan.unreadable.length,
      leakageGroups: scan.leakage.length,
      seconds: scan.seconds
    }

    return this.s.db
      .transaction((): SaveScanResult => {
        const existing = new Set(
          this.s
            .all<{ relPath: string }>(`SELECT rel_path AS relPath FROM images WHERE project_id = ?`, projectId)
            .map((r) => r.relPath)
        )
        const upsert = `INSERT INTO images
            (project_id, rel_path, class_name, folder_split, content_hash, width, height, bytes, readable, error, present, mtime_ms, ctime_ms)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)
          ON CONFLICT (project_id, rel_path) DO UPDATE SET
            class_name = excluded.class_name, folder_split = excluded.folder_split,
            content_hash = excluded.content_hash, width = excluded.width, height = excluded.height,
            bytes = excluded.bytes, readable = excluded.readable, error = excluded.error, present = 1,
            mtime_ms = excluded.mtime_ms, ctime_ms = excluded.ctime_ms,
            split = CASE WHEN excluded.readable = 1 THEN images.split ELSE NULL END`
        let inserted = 0
        for (const img of scan.images) {
          if (!existing.has(img.path)) inserted++
          this.s.run(
            upsert,
            projectId,
            img.path,
            img.className,
            img.folderSplit,
            img.hash,
            img.width,
            img.height,
            img.bytes,
            1,
            null,
            img.mtimeMs ?? null,
            img.ctimeMs ?? null
          )
        }
        for (const bad of scan.unreadable) {
          if (!existing.has(bad.path)) inserted++
          this.s.run(
            upsert,
            projectId,
            bad.path,
            classFromPath(bad.path, scan.layout),
            null,
            null,
            null,
            null,
            bad.bytes ?? null,
            0,
            bad.reason,
            bad.mtimeMs ?? null,
            bad.ctimeMs ?? null
          )
        }
        let missing = 0
        for (const path of existing) {
          if (seen.has(path)) continue
          missing += this.s.run(
            `UPDATE images SET present = 0, split = NULL WHERE project_id = ? AND rel_path = ?`,
            projectId,
            path
          ).changes
        }
        this.s.run(
          `UPDATE projects SET layout = ?, last_scanned_at = ?, scan_summary = ? WHERE id = ?`,
          scan.layout,
          nowIso(),
          JSON.stringify(summary),
          projectId
        )
        return { inserted, updated: seen.size - inserted, missing }
      })
      .immediate()
  }

  /**
   * What the last saved scan recorded per present file (readable or not), by relative path, for an incremental
   * scanProject({ previous }). Rows without file times (scanned before they were stored) are left out, so those
   * files are read again.
   */
  scanRecords(projectId: number): Map<string, ScanFileRecord> {
    return recordsFromRows(this.s.all<ScanRecordRow>(SCAN_RECORDS_SQL, projectId))
  }

  /** Present, readable images unless told otherwise, ordered by path. */
  listImages(projectId: number, opts: ListImagesOptions = {}): ImageRow[] {
    const where = ['project_id = ?']
    const params: SqlValue[] = [projectId]
    if (opts.split !== undefined) {
      assertSplit(opts.split, 'listImages')
      where.push('split = ?')
      params.push(opts.split)
    }
    if (opts.className !== undefined) {
      where.push('class_name = ?')
      params.push(opts.className)
    }
    if (!opts.includeMissing) where.push('present = 1')
    if (!opts.includeUnreadable) where.push('readable = 1')
    return this.s
      .all<RawImage>(`SELECT ${IMAGE_COLUMNS} FROM images WHERE ${where.join(' AND ')} ORDER BY rel_path`, ...params)
      .map(imageFromRaw)
  }

  getImage(id: number): ImageRow | null {
    const raw = this.s.get<RawImage>(`SELECT ${IMAGE_COLUMNS} FROM images WHERE id = ?`, id)
    return raw ? imageFromRaw(raw) : null
  }

  getImageByPath(projectId: number, relPath: string): ImageRow | null {
    const raw = this.s.get<RawImage>(
      `SELECT ${IMAGE_COLUMNS} FROM images WHERE project_id = ? AND rel_path = ?`,
      projectId,
      relPath
    )
    return raw ? imageFromRaw(raw) : null
  }
}
