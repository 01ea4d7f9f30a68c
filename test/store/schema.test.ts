import Database from 'better-sqlite3'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  MIGRATIONS,
  SCHEMA_VERSION,
  StoreVersionError,
  migrate,
  schemaVersion,
  type Migration
} from '@core/store/schema'
import { ProjectStore } from '@core/store/projectStore'
import { makeTempDir } from '@test/helpers/store'

const TABLES = [
  'analyses',
  'audit_dismissals',
  'audit_findings',
  'audit_predictions',
  'audits',
  'epochs',
  'images',
  'label_actions',
  'label_overrides',
  'predictions',
  'projects',
  'run_label_overrides',
  'runs',
  'split_members',
  'splits'
]

describe('schema and migrations', () => {
  let tmp: ReturnType<typeof makeTempDir>
  beforeEach(() => {
    tmp = makeTempDir()
  })
  afterEach(() => tmp.cleanup())

  it('migrates an empty file to the current version with WAL, foreign keys and a busy timeout', () => {
    const dbPath = join(tmp.dir, 'tunelab.db')
    const store = ProjectStore.open(dbPath)
    expect(SCHEMA_VERSION).toBe(MIGRATIONS.length)
    expect(schemaVersion(store.db)).toBe(SCHEMA_VERSION)
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal')
    expect(store.db.pragma('foreign_keys', { simple: true })).toBe(1)
    expect(store.db.pragma('busy_timeout', { simple: true })).toBe(5000)
    const tables = store.db
      .prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`)
      .all()
      .map((r) => (r as { name: string }).name)
    expect(tables).toEqual(TABLES)
    expect(store.integrityCheck()).toEqual(['ok'])
    store.close()
  })

  it('reopens idempotently and keeps the data', () => {
    const dbPath = join(tmp.dir, 'tunelab.db')
    const first = ProjectStore.open(dbPath)
    const project = first.getProject(first.upsertProject(join(tmp.dir, 'photos'), 'flat'))!
    first.close()
    const second = ProjectStore.open(dbPath)
    expect(schemaVersion(second.db)).toBe(SCHEMA_VERSION)
    expect(second.getProject(project.id)).toEqual(project)
    second.close()
    const third = ProjectStore.open(dbPath)
    expect(third.getProject(project.id)?.root).toBe(project.root)
    third.close()
  })

  it('refuses a database from a newer TuneLab with a clear error and leaves the file alone', () => {
    const dbPath = join(tmp.dir, 'tunelab.db')
    ProjectStore.open(dbPath).close()
    const raw = new Database(dbPath)
    raw.pragma(`user_version = ${SCHEMA_VERSION + 7}`)
    raw.close()
    const before = readFileSync(dbPath)
    let error: unknown
    try {
      ProjectStore.open(dbPath)
    } catch (err) {
      error = err
    }
    expect(error).toBeInstanceOf(StoreVersionError)
    expect((error as Error).message).toContain(dbPath)
    expect((error as Error).message).toContain(`schema version ${SCHEMA_VERSION + 7}`)
    expect((error as Error).message).toMatch(/upgrade TuneLab/)
    expect(readFileSync(dbPath).equals(before)).toBe(true)
  })

  it('runs each migration in its own transaction: a failing one leaves the previous version intact', () => {
    const db = new Database(join(tmp.dir, 'm.db'))
    const migrations: Migration[] = [
      { name: 'one', up: (d) => d.exec('CREATE TABLE a (x INTEGER)') },
      {
        name: 'two (broken)',
        up: (d) => {
          d.exec('CREATE TABLE b (x INTEGER)')
          d.exec('INSERT INTO no_such_table VALUES (1)')
        }
      }
    ]
    expect(() => migrate(db, 'm.db', migrations)).toThrow(/Migration 2 \(two \(broken\)\) failed on m\.db/)
    expect(schemaVersion(db)).toBe(1)
    const names = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as { name: string }[]
    expect(names.map((n) => n.name)).toEqual(['a'])
    // Fixed migration list: continues from version 1.
    expect(
      migrate(db, 'm.db', [migrations[0]!, { name: 'two', up: (d) => d.exec('CREATE TABLE b (x INTEGER)') }])
    ).toBe(2)
    db.close()
  })

  it('names the file when it is not a database or its folder is missing', () => {
    const notDb = join(tmp.dir, 'notes.db')
    writeFileSync(notDb, 'this is not sqlite, just text that is long enough to have a header '.repeat(10))
    expect(() => ProjectStore.open(notDb)).toThrow(new RegExp(`Cannot open TuneLab database ${notDb}.*not a database`))
    const missing = join(tmp.dir, 'nope', 'tunelab.db')
    expect(() => ProjectStore.open(missing)).toThrow(/folder .*nope does not exist/)
  })
})
