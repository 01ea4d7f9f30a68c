// Tables of the label overrides (relabel / exclude from the galleries), created by the 'label overrides' migration.
// An override is keyed by path AND content hash: the path finds it after a rescan, the hash after a rename.

export const LABEL_OVERRIDES_SQL = `
  -- The current override of each image. The user's files are never touched by these.
  CREATE TABLE label_overrides (
    id             INTEGER PRIMARY KEY,
    project_id     INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    rel_path       TEXT NOT NULL,
    content_hash   TEXT NOT NULL,
    original_class TEXT NOT NULL,
    new_class      TEXT,
    excluded       INTEGER NOT NULL CHECK (excluded IN (0, 1)),
    note           TEXT,
    created_at     TEXT NOT NULL,
    action_id      INTEGER NOT NULL,
    CHECK ((excluded = 1 AND new_class IS NULL) OR (excluded = 0 AND new_class IS NOT NULL)),
    UNIQUE (project_id, rel_path)
  );
  CREATE INDEX label_overrides_by_hash ON label_overrides (project_id, content_hash);

  -- One row per user action (relabel, exclude, clear), with the overrides it replaced, so it can be undone.
  CREATE TABLE label_actions (
    id         INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    kind       TEXT NOT NULL CHECK (kind IN ('relabel', 'exclude', 'clear')),
    created_at TEXT NOT NULL,
    undone_at  TEXT,
    replaced   TEXT NOT NULL
  );
  CREATE INDEX label_actions_by_project ON label_actions (project_id, id);

  -- The overrides a run trained and evaluated with, so it stays reproducible after later edits.
  CREATE TABLE run_label_overrides (
    run_id         INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    rel_path       TEXT NOT NULL,
    content_hash   TEXT NOT NULL,
    original_class TEXT NOT NULL,
    new_class      TEXT,
    excluded       INTEGER NOT NULL CHECK (excluded IN (0, 1)),
    PRIMARY KEY (run_id, rel_path)
  ) WITHOUT ROWID;
`
