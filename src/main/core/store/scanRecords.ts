// The previous scan's per-file records, read without creating or migrating anything: a scan may run on a
// folder that is not a project yet (or not a project at all), and must not leave a state folder behind then.
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import Database from 'better-sqlite3'
import type { ScanFileRecord } from '@shared/domain'
import { DB_FILE_NAME } from './projectState'
import { sqliteNativeBinding } from './db'
import { recordsFromRows, SCAN_RECORDS_SQL, type ScanRecordRow } from './images'
import { fallbackStateDir, markedReadOnly, probeWritableDir, STATE_DIR_NAME, type StateDirOptions } from './stateDir'

/**
 * Records of the last scan of `root` stored in its database (<root>/.tunelab or the fallback folder), or an
 * empty map when there is none, it predates file times, or it cannot be read. Only an optimisation: a file
 * is reused only if its size, mtime and ctime all still match, so a stale or foreign record is harmless.
 */
export function readScanRecords(root: string, opts: StateDirOptions = {}): Map<string, ScanFileRecord> {
  const abs = resolve(root)
  const inProject = join(abs, STATE_DIR_NAME)
  for (const dir of [inProject, fallbackStateDir(abs, opts)]) {
    const dbPath = join(dir, DB_FILE_NAME)
    // Even a read-only connection writes -shm/-wal files beside the database: not in a folder that must not be
    // written (marked read-only, or not writable at all, e.g. a full disk). A read-only project folder marks
    // only its own .tunelab so; the fallback folder is elsewhere, and is what such a project uses.
    const marked = dir === inProject ? markedReadOnly(abs, dir) : markedReadOnly(dir, dir)
    if (!existsSync(dbPath) || marked || !probeWritableDir(dir).ok) continue
    let db: Database.Database | undefined
    try {
      db = new Database(dbPath, { readonly: true, fileMustExist: true, ...sqliteNativeBinding() })
      db.pragma('busy_timeout = 2000')
      const columns = new Set((db.prepare(`PRAGMA table_info(images)`).all() as { name: string }[]).map((c) => c.name))
      if (!columns.has('mtime_ms') || !columns.has('ctime_ms')) return new Map()
      const project = db.prepare(`SELECT id FROM projects WHERE root = ?`).get(abs) as { id: number } | undefined
      if (!project) continue
      return recordsFromRows(db.prepare(SCAN_RECORDS_SQL).all(project.id) as ScanRecordRow[])
    } catch {
      // Unreadable or locked database: scan everything, as a first scan would.
      continue
    } finally {
      db?.close()
    }
  }
  return new Map()
}
