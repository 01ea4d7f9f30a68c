// The runs and epochs tables: a run's life from 'running' to a final status, its owner and heartbeat, and
// recovery of runs whose owner process died.
import { currentOwner, judgeOwner } from './runOwner'
import { finiteOrNull, fromJson, nowIso, toJson, type StoreDb } from './db'
import type { ProjectsTable } from './projects'
import type { SplitsTable } from './splits'
import type {
  EpochRow,
  FinalRunStatus,
  FinishRunDetails,
  JsonValue,
  NewEpoch,
  NewRun,
  RunOwner,
  RunRow,
  RunSummaryRow
} from './rows'

export interface RecoveredRun {
  runId: number
  reason: string
}

const FINAL_STATUSES: readonly FinalRunStatus[] = ['completed', 'cancelled', 'failed', 'interrupted']

/** A runs row as SQLite returns it: JSON columns as text, the owner in four columns. */
type RawRun = Omit<RunRow, 'config' | 'classes' | 'backendNotes' | 'timings' | 'metrics' | 'owner'> & {
  config: string
  classes: string
  backendNotes: string | null
  timings: string | null
  metrics: string | null
  ownerPid: number | null
  ownerHost: string | null
  ownerToken: string | null
  ownerStart: string | null
}

const RUN_COLUMNS = `r.id, r.project_id AS projectId, r.split_id AS splitId, r.name, r.created_at AS createdAt,
  r.started_at AS startedAt, r.ended_at AS endedAt, r.status, r.config, r.classes, r.base_id AS baseId,
  r.weights_source AS weightsSource, r.weights_checksum AS weightsChecksum, r.backend,
  r.backend_notes AS backendNotes, r.seed, r.timings, r.metrics, r.error, r.owner_pid AS ownerPid,
  r.owner_host AS ownerHost, r.owner_token AS ownerToken, r.owner_start AS ownerStart, r.heartbeat_at AS heartbeatAt`

function runFromRaw(raw: RawRun): RunRow {
  const owner: RunOwner | null =
    raw.ownerPid === null
      ? null
      : { pid: raw.ownerPid, host: raw.ownerHost ?? '', token: raw.ownerToken ?? '', start: raw.ownerStart }
  return {
    id: raw.id,
    projectId: raw.projectId,
    splitId: raw.splitId,
    name: raw.name,
    createdAt: raw.createdAt,
    startedAt: raw.startedAt,
    endedAt: raw.endedAt,
    status: raw.status,
    config: fromJson(raw.config),
    classes: JSON.parse(raw.classes) as string[],
    baseId: raw.baseId,
    weightsSource: raw.weightsSource,
    weightsChecksum: raw.weightsChecksum,
    backend: raw.backend,
    backendNotes: fromJson(raw.backendNotes),
    seed: raw.seed,
    timings: fromJson(raw.timings),
    metrics: fromJson(raw.metrics),
    error: raw.error,
    owner,
    heartbeatAt: raw.heartbeatAt
  }
}

export class RunsTable {
  constructor(
    private readonly s: StoreDb,
    private readonly projects: ProjectsTable,
    private readonly splits: SplitsTable
  ) {}

  /** Marks runs of dead owners (or with a heartbeat older than staleHeartbeatMs) as interrupted; `keep` spares some. */
  recoverRuns(opts: { staleHeartbeatMs?: number; keep?: (owner: RunOwner | null) => boolean }): RecoveredRun[] {
    return this.s.db
      .transaction(() => {
        const running = this.s.all<RawRun>(`SELECT ${RUN_COLUMNS} FROM runs r WHERE r.status = 'running'`)
        const recovered: RecoveredRun[] = []
        const at = nowIso()
        for (const raw of running) {
          const run = runFromRaw(raw)
          if (opts.keep?.(run.owner)) continue
          const verdict = judgeOwner(run.owner, run.heartbeatAt, { staleHeartbeatMs: opts.staleHeartbeatMs })
          if (!verdict.interrupted) continue
          this.s.run(
            `UPDATE runs SET status = 'interrupted', ended_at = ?, error = COALESCE(error, ?) WHERE id = ? AND status = 'running'`,
            at,
            `interrupted: ${verdict.reason}`,
            run.id
          )
          recovered.push({ runId: run.id, reason: verdict.reason })
        }
        return recovered
      })
      .immediate()
  }

  /** Creates a run in status 'running', owned by the given process (default: this one). */
  createRun(run: NewRun, owner: RunOwner = currentOwner()): RunRow {
    this.checkDetails('createRun', run.projectId, run)
    return this.s.immediate(() => {
      const begun = this.beginRun(run, owner)
      return this.resolveRun(begun.id, run)
    })
  }

  /**
   * Creates a run in status 'running' knowing only its project and the config as received (no classes yet), so
   * its id exists before the work starts and every event can carry it; resolveRun fills in the rest.
   */
  beginRun(run: Pick<NewRun, 'projectId' | 'config' | 'name'>, owner: RunOwner = currentOwner()): RunRow {
    this.projects.requireProject(run.projectId)
    const at = nowIso()
    const id = Number(
      this.s.run(
        `INSERT INTO runs (project_id, name, created_at, status, config, classes, owner_pid, owner_host, owner_token,
           owner_start, heartbeat_at)
         VALUES (?, ?, ?, 'running', ?, '[]', ?, ?, ?, ?, ?)`,
        run.projectId,
        run.name ?? null,
        at,
        JSON.stringify(run.config),
        owner.pid,
        owner.host,
        owner.token,
        owner.start,
        at
      ).lastInsertRowid
    )
    return this.requireRun(id)
  }

  /** Records what preparing a begun run resolved: classes, split, base, weights, backend, seed and the full config. */
  resolveRun(runId: number, details: Omit<NewRun, 'projectId' | 'name'>): RunRow {
    const run = this.requireRunning(runId, 'resolveRun')
    this.checkDetails('resolveRun', run.projectId, details)
    this.s.run(
      `UPDATE runs SET config = ?, classes = ?, split_id = ?, base_id = ?, weights_source = ?, weights_checksum = ?,
         backend = ?, backend_notes = ?, seed = ?, heartbeat_at = ?
       WHERE id = ?`,
      JSON.stringify(details.config),
      JSON.stringify(details.classes),
      details.splitId ?? null,
      details.baseId ?? null,
      details.weightsSource ?? null,
      details.weightsChecksum ?? null,
      details.backend ?? null,
      toJson(details.backendNotes),
      details.seed ?? null,
      nowIso(),
      runId
    )
    return this.requireRun(runId)
  }

  private checkDetails(action: string, projectId: number, run: Pick<NewRun, 'classes' | 'splitId'>): void {
    this.projects.requireProject(projectId)
    if (run.classes.length < 2)
      throw new Error(`${action}: a run needs at least 2 classes, got [${run.classes.join(', ')}]`)
    if (new Set(run.classes).size !== run.classes.length) {
      throw new Error(`${action}: class names must be unique, got [${run.classes.join(', ')}]`)
    }
    if (run.splitId !== undefined && run.splitId !== null && !this.splits.getSplit(projectId, run.splitId)) {
      throw new Error(`${action}: split ${run.splitId} does not belong to project ${projectId}`)
    }
  }

  getRun(runId: number): RunRow | null {
    const raw = this.s.get<RawRun>(`SELECT ${RUN_COLUMNS} FROM runs r WHERE r.id = ?`, runId)
    return raw ? runFromRaw(raw) : null
  }

  requireRun(runId: number): RunRow {
    const run = this.getRun(runId)
    if (!run) throw new Error(`No run with id ${runId} in ${this.s.dbPath}`)
    return run
  }

  private requireRunning(runId: number, action: string): RunRow {
    const run = this.requireRun(runId)
    if (run.status !== 'running') throw new Error(`${action}: run ${runId} is ${run.status}, not running`)
    return run
  }

  /** Records when training proper began (after loading weights and caching); also a heartbeat. */
  markRunStarted(runId: number, backend?: { backend: string; notes?: JsonValue }): void {
    this.requireRunning(runId, 'markRunStarted')
    const at = nowIso()
    if (backend) {
      this.s.run(
        `UPDATE runs SET started_at = ?, heartbeat_at = ?, backend = ?, backend_notes = ? WHERE id = ?`,
        at,
        at,
        backend.backend,
        toJson(backend.notes),
        runId
      )
    } else {
      this.s.run(`UPDATE runs SET started_at = ?, heartbeat_at = ? WHERE id = ?`, at, at, runId)
    }
  }

  /** Tells other processes the owner is alive (appendEpoch does this too). */
  heartbeat(runId: number): void {
    this.s.run(`UPDATE runs SET heartbeat_at = ? WHERE id = ? AND status = 'running'`, nowIso(), runId)
  }

  /** Writes one epoch and the heartbeat in one transaction. Epoch numbers are unique per run. */
  appendEpoch(runId: number, epoch: NewEpoch): EpochRow {
    if (!Number.isInteger(epoch.epoch) || epoch.epoch < 0)
      throw new Error(`appendEpoch: bad epoch number ${epoch.epoch}`)
    if (epoch.phase !== 1 && epoch.phase !== 2)
      throw new Error(`appendEpoch: phase must be 1 or 2, got ${String(epoch.phase)}`)
    const row: EpochRow = {
      runId,
      phase: epoch.phase,
      epoch: epoch.epoch,
      loss: finiteOrNull(epoch.loss),
      accuracy: finiteOrNull(epoch.accuracy),
      valLoss: finiteOrNull(epoch.valLoss),
      valAccuracy: finiteOrNull(epoch.valAccuracy),
      lr: finiteOrNull(epoch.lr),
      seconds: finiteOrNull(epoch.seconds),
      imagesPerSec: finiteOrNull(epoch.imagesPerSec)
    }
    this.s.db
      .transaction(() => {
        this.requireRunning(runId, 'appendEpoch')
        if (this.s.get(`SELECT 1 FROM epochs WHERE run_id = ? AND epoch = ?`, runId, row.epoch)) {
          throw new Error(`appendEpoch: run ${runId} already has epoch ${row.epoch}`)
        }
        const at = nowIso()
        this.s.run(
          `INSERT INTO epochs (run_id, epoch, phase, loss, accuracy, val_loss, val_accuracy, lr, seconds, images_per_sec, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          runId,
          row.epoch,
          row.phase,
          row.loss,
          row.accuracy,
          row.valLoss,
          row.valAccuracy,
          row.lr,
          row.seconds,
          row.imagesPerSec,
          at
        )
        this.s.run(`UPDATE runs SET heartbeat_at = ? WHERE id = ?`, at, runId)
      })
      .immediate()
    return row
  }

  getEpochs(runId: number): EpochRow[] {
    return this.s.all<EpochRow>(
      `SELECT run_id AS runId, phase, epoch, loss, accuracy, val_loss AS valLoss, val_accuracy AS valAccuracy, lr, seconds,
         images_per_sec AS imagesPerSec
       FROM epochs WHERE run_id = ? ORDER BY epoch`,
      runId
    )
  }

  /**
   * Ends a run. Allowed from 'running', and from 'interrupted' (an owner that was wrongly presumed dead, e.g.
   * after a stale heartbeat, may still report its real end). A run that already ended otherwise is an error.
   */
  finishRun(runId: number, status: FinalRunStatus, details: FinishRunDetails = {}): RunRow {
    if (!FINAL_STATUSES.includes(status)) throw new Error(`finishRun: '${String(status)}' is not a final status`)
    this.s.db
      .transaction(() => {
        const run = this.requireRun(runId)
        if (run.status !== 'running' && run.status !== 'interrupted') {
          throw new Error(`finishRun: run ${runId} already ended as ${run.status}`)
        }
        this.s.run(
          `UPDATE runs SET status = ?, ended_at = ?, metrics = COALESCE(?, metrics), timings = COALESCE(?, timings), error = ?
           WHERE id = ?`,
          status,
          nowIso(),
          toJson(details.metrics),
          toJson(details.timings),
          details.error ?? null,
          runId
        )
      })
      .immediate()
    return this.requireRun(runId)
  }

  /** Runs of a project, newest first, with epoch count and best validation accuracy (earliest epoch on ties). */
  listRuns(projectId: number): RunSummaryRow[] {
    const rows = this.s.all<RawRun & { epochCount: number; bestValAccuracy: number | null; bestEpoch: number | null }>(
      `SELECT ${RUN_COLUMNS},
         (SELECT COUNT(*) FROM epochs e WHERE e.run_id = r.id) AS epochCount,
         (SELECT MAX(e.val_accuracy) FROM epochs e WHERE e.run_id = r.id) AS bestValAccuracy,
         (SELECT e.epoch FROM epochs e WHERE e.run_id = r.id AND e.val_accuracy IS NOT NULL
            ORDER BY e.val_accuracy DESC, e.epoch ASC LIMIT 1) AS bestEpoch
       FROM runs r WHERE r.project_id = ? ORDER BY r.id DESC`,
      projectId
    )
    return rows.map((raw) => ({
      ...runFromRaw(raw),
      epochs: raw.epochCount,
      bestValAccuracy: raw.bestValAccuracy,
      bestEpoch: raw.bestEpoch
    }))
  }

  /** Deletes a run with its epochs, predictions and analyses (foreign-key cascade). */
  deleteRun(runId: number): boolean {
    return this.s.run(`DELETE FROM runs WHERE id = ?`, runId).changes > 0
  }
}
