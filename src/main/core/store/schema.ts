// The one module that owns the database schema. Every change is a new entry appended to MIGRATIONS;
// never edit an entry that has shipped. PRAGMA user_version = number of migrations applied.
import type Database from 'better-sqlite3'
import { LABEL_OVERRIDES_SQL } from './labelOverridesSchema'
import { auditTables } from './auditSchema'

export interface Migration {
  /** Short description, shown in errors. */
  name: string
  up: (db: Database.Database) => void
}

const SPLIT_CHECK = `IN ('train', 'validation', 'test')`

export const MIGRATIONS: readonly Migration[] = [
  {
    name: 'initial schema',
    up: (db) => {
      db.exec(`
        CREATE TABLE projects (
          id              INTEGER PRIMARY KEY,
          root            TEXT NOT NULL UNIQUE,
          layout          TEXT CHECK (layout IN ('flat', 'presplit')),
          created_at      TEXT NOT NULL,
          last_scanned_at TEXT,
          scan_summary    TEXT
        );

        -- Rows are never deleted by a rescan: a file that disappears keeps its row with present = 0,
        -- so predictions of old runs still join to a path and a class.
        CREATE TABLE images (
          id           INTEGER PRIMARY KEY,
          project_id   INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
          rel_path     TEXT NOT NULL,
          class_name   TEXT,
          folder_split TEXT CHECK (folder_split ${SPLIT_CHECK}),
          split        TEXT CHECK (split ${SPLIT_CHECK}),
          content_hash TEXT,
          width        INTEGER,
          height       INTEGER,
          bytes        INTEGER,
          readable     INTEGER NOT NULL DEFAULT 1 CHECK (readable IN (0, 1)),
          error        TEXT,
          present      INTEGER NOT NULL DEFAULT 1 CHECK (present IN (0, 1)),
          UNIQUE (project_id, rel_path)
        );
        CREATE INDEX images_by_split ON images (project_id, split, class_name);
        CREATE INDEX images_by_hash ON images (project_id, content_hash);

        CREATE TABLE splits (
          id         INTEGER PRIMARY KEY,
          project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
          strategy   TEXT NOT NULL,
          seed       INTEGER NOT NULL,
          created_at TEXT NOT NULL
        );
        CREATE INDEX splits_by_project ON splits (project_id, id);

        -- The full assignment of every split ever saved, so an old run stays reproducible after a re-split.
        CREATE TABLE split_members (
          split_id INTEGER NOT NULL REFERENCES splits(id) ON DELETE CASCADE,
          image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
          split    TEXT NOT NULL CHECK (split ${SPLIT_CHECK}),
          PRIMARY KEY (split_id, image_id)
        ) WITHOUT ROWID;

        CREATE TABLE runs (
          id               INTEGER PRIMARY KEY,
          project_id       INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
          split_id         INTEGER REFERENCES splits(id) ON DELETE SET NULL,
          name             TEXT,
          created_at       TEXT NOT NULL,
          started_at       TEXT,
          ended_at         TEXT,
          status           TEXT NOT NULL
                           CHECK (status IN ('running', 'completed', 'cancelled', 'failed', 'interrupted')),
          config           TEXT NOT NULL,
          classes          TEXT NOT NULL,
          base_id          TEXT,
          weights_source   TEXT,
          weights_checksum TEXT,
          backend          TEXT,
          backend_notes    TEXT,
          seed             INTEGER,
          timings          TEXT,
          metrics          TEXT,
          error            TEXT,
          owner_pid        INTEGER,
          owner_host       TEXT,
          owner_token      TEXT,
          owner_start      TEXT,
          heartbeat_at     TEXT
        );
        CREATE INDEX runs_by_project ON runs (project_id, id);
        CREATE INDEX runs_by_status ON runs (status);

        CREATE TABLE epochs (
          run_id         INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
          epoch          INTEGER NOT NULL,
          phase          INTEGER NOT NULL CHECK (phase IN (1, 2)),
          loss           REAL, -- null when not a finite number (training diverged)
          accuracy       REAL,
          val_loss       REAL,
          val_accuracy   REAL,
          lr             REAL,
          seconds        REAL,
          images_per_sec REAL,
          created_at     TEXT NOT NULL,
          PRIMARY KEY (run_id, epoch)
        ) WITHOUT ROWID;

        CREATE TABLE predictions (
          run_id          INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
          image_id        INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
          split           TEXT NOT NULL CHECK (split ${SPLIT_CHECK}),
          true_class      TEXT NOT NULL,
          predicted_class TEXT NOT NULL,
          probabilities   TEXT NOT NULL,
          confidence      REAL NOT NULL,
          margin          REAL NOT NULL,
          loss            REAL,
          PRIMARY KEY (run_id, image_id)
        ) WITHOUT ROWID;
        CREATE INDEX predictions_by_confidence ON predictions (run_id, split, true_class, confidence);
        CREATE INDEX predictions_by_margin ON predictions (run_id, split, true_class, margin);
        CREATE INDEX predictions_by_cell ON predictions (run_id, split, true_class, predicted_class, confidence);
        CREATE INDEX predictions_by_image ON predictions (image_id);

        CREATE TABLE analyses (
          id         INTEGER PRIMARY KEY,
          run_id     INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
          kind       TEXT NOT NULL,
          payload    TEXT NOT NULL,
          created_at TEXT NOT NULL
        );
        CREATE INDEX analyses_by_kind ON analyses (run_id, kind, id);
      `)
    }
  },
  {
    // With bytes, the file times let the next scan skip files that have not changed since (incremental scan).
    name: 'image file times',
    up: (db) => {
      db.exec(`
        ALTER TABLE images ADD COLUMN mtime_ms REAL;
        ALTER TABLE images ADD COLUMN ctime_ms REAL;
      `)
    }
  },
  {
    name: 'label overrides',
    up: (db) => db.exec(LABEL_OVERRIDES_SQL)
  },
  { name: 'label audits', up: auditTables }
]

export const SCHEMA_VERSION = MIGRATIONS.length

export class StoreVersionError extends Error {
  constructor(
    readonly dbPath: string,
    readonly found: number,
    readonly supported: number
  ) {
    super(
      `Database ${dbPath} has schema version ${found}, but this TuneLab only knows versions up to ${supported}. ` +
        `It was written by a newer TuneLab: upgrade TuneLab to open it (the file was not modified).`
    )
    this.name = 'StoreVersionError'
  }
}

export function schemaVersion(db: Database.Database): number {
  const v: unknown = db.pragma('user_version', { simple: true })
  if (typeof v !== 'number') throw new Error(`PRAGMA user_version returned ${String(v)}`)
  return v
}

/**
 * Brings the database up to SCHEMA_VERSION. Each migration runs in its own IMMEDIATE transaction together
 * with its user_version bump, so a crash leaves the database at a whole version, and two processes
 * opening at once do not both migrate (the loser re-reads the version inside its transaction).
 */
export function migrate(db: Database.Database, dbPath: string, migrations: readonly Migration[] = MIGRATIONS): number {
  const found = schemaVersion(db)
  if (found > migrations.length) throw new StoreVersionError(dbPath, found, migrations.length)
  for (let target = found + 1; target <= migrations.length; target++) {
    const migration = migrations[target - 1]
    if (!migration) throw new Error(`missing migration ${target}`)
    db.transaction(() => {
      const current = schemaVersion(db)
      if (current >= target) return
      try {
        migration.up(db)
      } catch (err) {
        throw new Error(`Migration ${target} (${migration.name}) failed on ${dbPath}: ${(err as Error).message}`, {
          cause: err
        })
      }
      db.pragma(`user_version = ${target}`)
    }).immediate()
  }
  return schemaVersion(db)
}
