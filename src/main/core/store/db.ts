// The open SQLite connection shared by the store's tables: pragmas, migration, a statement cache, and the small
// conversions every table needs (timestamps, JSON columns, non-finite numbers, split names).
import Database from 'better-sqlite3'
import { copyFileSync, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import type { SplitName } from '@shared/domain'
import { SPLIT_NAMES } from '@shared/domain'
import { MIGRATIONS, migrate, schemaVersion, StoreVersionError } from './schema'
import type { JsonValue } from './rows'

export interface OpenStoreOptions {
  /** Open an existing database for reading only, as an in-memory snapshot: nothing is written next to it. */
  readonly?: boolean
  /** Mark runs of dead owners as interrupted (see runOwner.ts). Default true. */
  recover?: boolean
  /** Also treat a run as interrupted when its heartbeat is older than this (any host). Default: never. */
  staleHeartbeatMs?: number
  /** Milliseconds to wait for a lock held by another process. Default 5000. */
  busyTimeoutMs?: number
  /**
   * better-sqlite3 addon built for another ABI (Electron: scripts/electron-native.mjs). Default: env
   * TUNELAB_SQLITE_BINDING when set (the Electron main sets it, its worker threads inherit it), else the Node build.
   */
  nativeBinding?: string
}

/** The nativeBinding to open SQLite with: the option, else env TUNELAB_SQLITE_BINDING, else none (Node's build). */
export function sqliteNativeBinding(opts: { nativeBinding?: string } = {}): { nativeBinding?: string } {
  const binding = opts.nativeBinding ?? process.env['TUNELAB_SQLITE_BINDING']
  return binding ? { nativeBinding: binding } : {}
}

export type SqlValue = string | number | bigint | null | Buffer

/** A migrated connection with cached prepared statements. */
export class StoreDb {
  private readonly statements = new Map<string, Database.Statement>()

  constructor(
    readonly db: Database.Database,
    readonly dbPath: string
  ) {}

  /** Opens (creating if needed) the database, configures it and migrates it. */
  static open(dbPath: string, opts: OpenStoreOptions = {}): StoreDb {
    const path = dbPath === ':memory:' ? dbPath : resolve(dbPath)
    if (path !== ':memory:') {
      const dir = dirname(path)
      if (!existsSync(dir) || !statSync(dir).isDirectory()) {
        throw new Error(`Cannot open TuneLab database ${path}: folder ${dir} does not exist`)
      }
    }
    let db: Database.Database | undefined
    try {
      if (opts.readonly) {
        db = readOnlySnapshot(path, opts)
        requireCurrentSchema(db, path)
        return new StoreDb(db, path)
      }
      db = new Database(path, sqliteNativeBinding(opts))
      db.pragma(`busy_timeout = ${Math.max(0, Math.floor(opts.busyTimeoutMs ?? 5000))}`)
      db.pragma('journal_mode = WAL')
      // NORMAL in WAL mode: a killed process loses nothing committed; only an OS crash may lose the last commits.
      db.pragma('synchronous = NORMAL')
      db.pragma('foreign_keys = ON')
      migrate(db, path)
      return new StoreDb(db, path)
    } catch (err) {
      db?.close()
      if (err instanceof StoreVersionError) throw err
      throw new Error(`Cannot open TuneLab database ${path}: ${(err as Error).message}`, { cause: err })
    }
  }

  stmt(sql: string): Database.Statement {
    let statement = this.statements.get(sql)
    if (!statement) {
      statement = this.db.prepare(sql)
      this.statements.set(sql, statement)
    }
    return statement
  }

  get<T>(sql: string, ...params: SqlValue[]): T | undefined {
    return this.stmt(sql).get(...params) as T | undefined
  }

  all<T>(sql: string, ...params: SqlValue[]): T[] {
    return this.stmt(sql).all(...params) as T[]
  }

  run(sql: string, ...params: SqlValue[]): Database.RunResult {
    return this.stmt(sql).run(...params)
  }

  /** Runs `fn` in one IMMEDIATE transaction (takes the write lock up front). */
  immediate<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate()
  }
}

export function nowIso(): string {
  return new Date().toISOString()
}

export function toJson(value: JsonValue | undefined): string | null {
  return value === undefined ? null : JSON.stringify(value)
}

export function fromJson(text: string | null): JsonValue {
  return text === null ? null : (JSON.parse(text) as JsonValue)
}

/** Non-finite numbers (NaN from a diverged loss) are stored as NULL. */
export function finiteOrNull(value: number | null | undefined): number | null {
  return value === undefined || value === null || !Number.isFinite(value) ? null : value
}

export function listSome(items: string[], max = 5): string {
  const shown = items.slice(0, max).join(', ')
  return items.length > max ? `${shown} (and ${items.length - max} more)` : shown
}

export function assertSplit(split: string, what: string): asserts split is SplitName {
  if (!(SPLIT_NAMES as readonly string[]).includes(split)) {
    throw new Error(`${what}: unknown split '${split}' (expected one of ${SPLIT_NAMES.join(', ')})`)
  }
}

/** A read-only database cannot be migrated: it must already have this version's schema. */
function requireCurrentSchema(db: Database.Database, path: string): void {
  const found = schemaVersion(db)
  if (found > MIGRATIONS.length) throw new StoreVersionError(path, found, MIGRATIONS.length)
  if (found < MIGRATIONS.length)
    throw new Error(
      `it was written by an older TuneLab (schema ${found}, this one needs ${MIGRATIONS.length}) and is read-only, so it cannot be upgraded`
    )
}

/**
 * The database as it is now, in memory. Even a read-only SQLite connection creates -shm/-wal files beside a WAL
 * database; a state folder that must not be written gets none: the file and its WAL are copied to a temporary
 * folder, opened there (replaying the WAL), serialised, and the copy removed.
 */
function readOnlySnapshot(path: string, opts: OpenStoreOptions): Database.Database {
  if (!existsSync(path)) throw new Error('the database file does not exist')
  const dir = mkdtempSync(join(tmpdir(), 'tunelab-readonly-'))
  try {
    const copy = join(dir, 'snapshot.db')
    copyFileSync(path, copy)
    if (existsSync(`${path}-wal`)) copyFileSync(`${path}-wal`, `${copy}-wal`)
    const db = new Database(copy, sqliteNativeBinding(opts))
    db.pragma('journal_mode = DELETE') // folds the WAL in; an in-memory database cannot be in WAL mode
    const bytes = db.serialize()
    db.close()
    return new Database(bytes, { ...sqliteNativeBinding(opts), readonly: true })
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
