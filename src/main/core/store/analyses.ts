// The analyses table: JSON payloads per run and kind, appended; the latest of a kind wins.
import { fromJson, nowIso, type StoreDb } from './db'
import type { RunsTable } from './runs'
import type { AnalysisRow, JsonValue } from './rows'

export class AnalysesTable {
  constructor(
    private readonly s: StoreDb,
    private readonly runs: RunsTable
  ) {}

  /** Appends an analysis; earlier ones of the same kind are kept, getAnalysis returns the latest. */
  saveAnalysis(runId: number, kind: string, payload: JsonValue): AnalysisRow {
    this.runs.requireRun(runId)
    if (kind.trim() === '') throw new Error('saveAnalysis: kind must not be empty')
    const createdAt = nowIso()
    const id = Number(
      this.s.run(
        `INSERT INTO analyses (run_id, kind, payload, created_at) VALUES (?, ?, ?, ?)`,
        runId,
        kind,
        JSON.stringify(payload),
        createdAt
      ).lastInsertRowid
    )
    return { id, runId, kind, payload, createdAt }
  }

  getAnalysis(runId: number, kind: string): AnalysisRow | null {
    const raw = this.s.get<{ id: number; runId: number; kind: string; payload: string; createdAt: string }>(
      `SELECT id, run_id AS runId, kind, payload, created_at AS createdAt FROM analyses
       WHERE run_id = ? AND kind = ? ORDER BY id DESC LIMIT 1`,
      runId,
      kind
    )
    return raw ? { ...raw, payload: fromJson(raw.payload) } : null
  }

  listAnalyses(runId: number): AnalysisRow[] {
    return this.s
      .all<{
        id: number
        runId: number
        kind: string
        payload: string
        createdAt: string
      }>(
        `SELECT id, run_id AS runId, kind, payload, created_at AS createdAt FROM analyses WHERE run_id = ? ORDER BY id`,
        runId
      )
      .map((raw) => ({ ...raw, payload: fromJson(raw.payload) }))
  }
}
