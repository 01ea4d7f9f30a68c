// Tables of the label audit (migration 'label audits' in schema.ts). Kept beside the schema so that the audit's
// columns are read in one place.
import type Database from 'better-sqlite3'

export function auditTables(db: Database.Database): void {
  db.exec(`
    CREATE TABLE audits (
      id               INTEGER PRIMARY KEY,
      project_id       INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
      split_id         INTEGER REFERENCES splits(id) ON DELETE SET NULL,
      created_at       TEXT NOT NULL,
      base_id          TEXT NOT NULL,
      weights_checksum TEXT,
      folds            INTEGER NOT NULL,
      classes          TEXT NOT NULL,
      thresholds       TEXT NOT NULL,
      timings          TEXT
    );
    CREATE INDEX audits_by_project ON audits (project_id, id);

    -- Out-of-fold probabilities of every train + validation image.
    CREATE TABLE audit_predictions (
      audit_id      INTEGER NOT NULL REFERENCES audits(id) ON DELETE CASCADE,
      image_id      INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
      fold          INTEGER NOT NULL,
      given_class   TEXT NOT NULL,
      probabilities TEXT NOT NULL,
      PRIMARY KEY (audit_id, image_id)
    ) WITHOUT ROWID;

    -- Ranked findings: label issues (suggested class), near-duplicate pairs (other image), outliers.
    CREATE TABLE audit_findings (
      audit_id        INTEGER NOT NULL REFERENCES audits(id) ON DELETE CASCADE,
      kind            TEXT NOT NULL CHECK (kind IN ('label', 'duplicate', 'outlier')),
      rank            INTEGER NOT NULL,
      image_id        INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
      other_image_id  INTEGER REFERENCES images(id) ON DELETE CASCADE,
      suggested_class TEXT,
      score           REAL NOT NULL,
      cross_split     INTEGER CHECK (cross_split IN (0, 1)),
      PRIMARY KEY (audit_id, kind, rank)
    ) WITHOUT ROWID;

    -- "Keep as is": a finding about these exact file contents is not shown again (a changed file is).
    CREATE TABLE audit_dismissals (
      project_id     INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
      kind           TEXT NOT NULL CHECK (kind IN ('label', 'duplicate', 'outlier')),
      image_id       INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
      other_image_id INTEGER NOT NULL DEFAULT 0,
      content_hash   TEXT NOT NULL,
      other_hash     TEXT NOT NULL DEFAULT '',
      created_at     TEXT NOT NULL,
      PRIMARY KEY (project_id, kind, image_id, other_image_id)
    ) WITHOUT ROWID;
  `)
}
