// Reads and writes the label audit's tables (see auditSchema.ts) on a project database.
import type Database from 'better-sqlite3'

export type FindingKind = 'label' | 'duplicate' | 'outlier'

export interface NewAudit {
  projectId: number
  splitId: number | null
  baseId: string
  weightsChecksum: string | null
  folds: number
  classes: string[]
  thresholds: number[]
  timings: Record<string, number>
  predictions: { imageId: number; fold: number; given: string; probabilities: number[] }[]
  findings: {
    kind: FindingKind
    imageId: number
    otherImageId?: number
    suggested?: string
    score: number
    crossSplit?: boolean
  }[]
}

export interface AuditRow {
  id: number
  projectId: number
  createdAt: string
  baseId: string
  folds: number
  classes: string[]
  thresholds: number[]
  timings: Record<string, number>
}

export interface FindingImage {
  imageId: number
  relPath: string
  className: string | null
  split: string | null
}

export interface AuditFinding {
  kind: FindingKind
  rank: number
  score: number
  image: FindingImage
  other: FindingImage | null
  suggested: string | null
  crossSplit: boolean
}

/** Stores one audit with its per-image out-of-fold probabilities and its ranked findings, in one transaction. */
export function saveAudit(db: Database.Database, audit: NewAudit): number {
  return db.transaction(() => {
    const { lastInsertRowid } = db
      .prepare(
        `INSERT INTO audits (project_id, split_id, created_at, base_id, weights_checksum, folds, classes, thresholds, timings)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`
      )
      .run(
        audit.projectId,
        audit.splitId,
        new Date().toISOString(),
        audit.baseId,
        audit.weightsChecksum,
        audit.folds,
        JSON.stringify(audit.classes),
        JSON.stringify(audit.thresholds),
        JSON.stringify(audit.timings)
      )
    const id = Number(lastInsertRowid)
    const pred = db.prepare(
      'INSERT INTO audit_predictions (audit_id, image_id, fold, given_class, probabilities) VALUES (?, ?, ?, ?, ?)'
    )
    for (const p of audit.predictions) pred.run(id, p.imageId, p.fold, p.given, JSON.stringify(p.probabilities))
    const find = db.prepare(
      `INSERT INTO audit_findings (audit_id, kind, rank, image_id, other_image_id, suggested_class, score, cross_split)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
    )
    const ranks = new Map<FindingKind, number>()
    for (const f of audit.findings) {
      const rank = (ranks.get(f.kind) ?? 0) + 1
      ranks.set(f.kind, rank)
      const cross = f.crossSplit === undefined ? null : f.crossSplit ? 1 : 0
      find.run(id, f.kind, rank, f.imageId, f.otherImageId ?? null, f.suggested ?? null, f.score, cross)
    }
    return id
  })()
}

interface AuditSqlRow {
  id: number
  project_id: number
  created_at: string
  base_id: string
  folds: number
  classes: string
  thresholds: string
  timings: string | null
}

function toAudit(r: AuditSqlRow): AuditRow {
  return {
    id: r.id,
    projectId: r.project_id,
    createdAt: r.created_at,
    baseId: r.base_id,
    folds: r.folds,
    classes: JSON.parse(r.classes) as string[],
    thresholds: JSON.parse(r.thresholds) as number[],
    timings: r.timings ? (JSON.parse(r.timings) as Record<string, number>) : {}
  }
}

export function latestAudit(db: Database.Database, projectId: number): AuditRow | null {
  const r = db.prepare('SELECT * FROM audits WHERE project_id = ? ORDER BY id DESC LIMIT 1').get(projectId) as
    | AuditSqlRow
    | undefined
  return r ? toAudit(r) : null
}

export function getAudit(db: Database.Database, auditId: number): AuditRow | null {
  const r = db.prepare('SELECT * FROM audits WHERE id = ?').get(auditId) as AuditSqlRow | undefined
  return r ? toAudit(r) : null
}

/** Out-of-fold probabilities per image id. */
export function auditProbabilities(db: Database.Database, auditId: number): Map<number, number[]> {
  const rows = db.prepare('SELECT image_id, probabilities FROM audit_predictions WHERE audit_id = ?').all(auditId) as {
    image_id: number
    probabilities: string
  }[]
  return new Map(rows.map((r) => [r.image_id, JSON.parse(r.probabilities) as number[]]))
}

/**
 * Findings of one kind, best first, without those dismissed while the file(s) had the same contents and without
 * images no longer present.
 */
export function listFindings(
  db: Database.Database,
  auditId: number,
  kind: FindingKind,
  opts: { limit?: number; includeDismissed?: boolean } = {}
): AuditFinding[] {
  const rows = db
    .prepare(
      `SELECT f.rank, f.score, f.suggested_class, f.cross_split,
              a.id AS a_id, a.rel_path AS a_path, a.class_name AS a_class, a.split AS a_split,
              b.id AS b_id, b.rel_path AS b_path, b.class_name AS b_class, b.split AS b_split
         FROM audit_findings f
         JOIN audits au ON au.id = f.audit_id
         JOIN images a ON a.id = f.image_id
         LEFT JOIN images b ON b.id = f.other_image_id
        WHERE f.audit_id = ? AND f.kind = ? AND a.present = 1 AND (b.id IS NULL OR b.present = 1)
          AND (? = 1 OR NOT EXISTS (
                SELECT 1 FROM audit_dismissals d
                 WHERE d.project_id = au.project_id AND d.kind = f.kind AND d.image_id = f.image_id
                   AND d.other_image_id = COALESCE(f.other_image_id, 0)
                   AND d.content_hash = a.content_hash AND d.other_hash = COALESCE(b.content_hash, '')))
        ORDER BY f.rank
        LIMIT ?`
    )
    .all(auditId, kind, opts.includeDismissed ? 1 : 0, opts.limit ?? -1) as {
    rank: number
    score: number
    suggested_class: string | null
    cross_split: number | null
    a_id: number
    a_path: string
    a_class: string | null
    a_split: string | null
    b_id: number | null
    b_path: string | null
    b_class: string | null
    b_split: string | null
  }[]
  return rows.map((r) => ({
    kind,
    rank: r.rank,
    score: r.score,
    image: { imageId: r.a_id, relPath: r.a_path, className: r.a_class, split: r.a_split },
    other:
      r.b_id === null ? null : { imageId: r.b_id, relPath: r.b_path ?? '', className: r.b_class, split: r.b_split },
    suggested: r.suggested_class,
    crossSplit: r.cross_split === 1
  }))
}

/** "Keep as is": hides the finding until the image (or the pair's other image) changes. */
export function dismissFinding(
  db: Database.Database,
  projectId: number,
  kind: FindingKind,
  imageId: number,
  otherImageId: number | null = null
): void {
  const hashOf = (id: number): string => {
    const r = db.prepare('SELECT content_hash FROM images WHERE id = ? AND project_id = ?').get(id, projectId) as
      | { content_hash: string | null }
      | undefined
    if (!r) throw new Error(`audit: image #${id} is not in this project`)
    if (!r.content_hash) throw new Error(`audit: image #${id} has no content hash (unreadable file)`)
    return r.content_hash
  }
  db.prepare(
    `INSERT INTO audit_dismissals (project_id, kind, image_id, other_image_id, content_hash, other_hash, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (project_id, kind, image_id, other_image_id)
     DO UPDATE SET content_hash = excluded.content_hash, other_hash = excluded.other_hash, created_at = excluded.created_at`
  ).run(
    projectId,
    kind,
    imageId,
    otherImageId ?? 0,
    hashOf(imageId),
    otherImageId === null ? '' : hashOf(otherImageId),
    new Date().toISOString()
  )
}
