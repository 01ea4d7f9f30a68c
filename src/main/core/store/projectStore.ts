// The project database: projects, scanned images, splits, runs with their epochs and predictions, analyses.
// Every multi-row write is one transaction, so a killed process leaves whole rows or none.
import Database from 'better-sqlite3'
import { existsSync, statSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import type { Layout, ScanFileRecord, ScanResult, SplitName, SplitStrategy } from '@shared/domain'
import { SPLIT_NAMES } from '@shared/domain'
import { migrate, StoreVersionError } from './schema'
import { currentOwner, judgeOwner } from './runOwner'
import type {
  AnalysisRow,
  ConfusionCell,
  EpochRow,
  FinalRunStatus,
  FinishRunDetails,
  GalleryItem,
  ImageRow,
  JsonValue,
  ListImagesOptions,
  NewEpoch,
  NewPrediction,
  NewRun,
  PredictionFilter,
  PredictionRow,
  ProjectRow,
  RunOwner,
  RunRow,
  RunSummaryRow,
  SaveScanResult,
  ScanSummary,
  StoredSplit
} from './rows'

export interface OpenStoreOptions {
  /** Mark runs of dead owners as interrupted (see runOwner.ts). Default true. */
  recover?: boolean
  /** Also treat a run as interrupted when its heartbeat is older than this (any host). Default: never. */
  staleHeartbeatMs?: number
  /** Milliseconds to wait for a lock held by another process. Default 5000. */
  busyTimeoutMs?: number
  /**
   * better-sqlite3 addon built for another ABI (Electron: scripts/build-native-electron.sh). Default: env
   * TUNELAB_SQLITE_BINDING when set (the Electron main sets it, its worker threads inherit it), else the Node build.
   */
  nativeBinding?: string
}

/** The nativeBinding to open SQLite with: the option, else env TUNELAB_SQLITE_BINDING, else none (Node's build). */
export function sqliteNativeBinding(opts: { nativeBinding?: string } = {}): { nativeBinding?: string } {
  const binding = opts.nativeBinding ?? process.env['TUNELAB_SQLITE_BINDING']
  return binding ? { nativeBinding: binding } : {}
}

export interface RecoveredRun {
  runId: number
  reason: string
}

const FINAL_STATUSES: readonly FinalRunStatus[] = ['completed', 'cancelled', 'failed', 'interrupted']

type SqlValue = string | number | bigint | null | Buffer

interface RawImage {
  id: number
  projectId: number
  relPath: string
  className: string | null
  folderSplit: SplitName | null
  split: SplitName | null
  contentHash: string | null
  width: number | null
  height: number | null
  bytes: number | null
  readable: number
  error: string | null
  present: number
}

interface RawRun {
  id: number
  projectId: number
  splitId: number | null
  name: string | null
  createdAt: string
  startedAt: string | null
  endedAt: string | null
  status: RunRow['status']
  config: string
  classes: string
  baseId: string | null
  weightsSource: string | null
  weightsChecksum: string | null
  backend: string | null
  backendNotes: string | null
  seed: number | null
  timings: string | null
  metrics: string | null
  error: string | null
  ownerPid: number | null
  ownerHost: string | null
  ownerToken: string | null
  ownerStart: string | null
  heartbeatAt: string | null
}

interface RawPrediction {
  runId: number
  imageId: number
  split: SplitName
  trueClass: string
  predictedClass: string
  probabilities: string
  confidence: number
  margin: number
  loss: number | null
}

interface RawGalleryItem extends RawPrediction {
  relPath: string
  width: number | null
  height: number | null
  present: number
}

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

const RUN_COLUMNS = `r.id, r.project_id AS projectId, r.split_id AS splitId, r.name, r.created_at AS createdAt,
  r.started_at AS startedAt, r.ended_at AS endedAt, r.status, r.config, r.classes, r.base_id AS baseId,
  r.weights_source AS weightsSource, r.weights_checksum AS weightsChecksum, r.backend,
  r.backend_notes AS backendNotes, r.seed, r.timings, r.metrics, r.error, r.owner_pid AS ownerPid,
  r.owner_host AS ownerHost, r.owner_token AS ownerToken, r.owner_start AS ownerStart, r.heartbeat_at AS heartbeatAt`

const PREDICTION_COLUMNS = `p.run_id AS runId, p.image_id AS imageId, p.split, p.true_class AS trueClass,
  p.predicted_class AS predictedClass, p.probabilities, p.confidence, p.margin, p.loss`

const GALLERY_COLUMNS = `${PREDICTION_COLUMNS}, i.rel_path AS relPath, i.width, i.height, i.present`

function nowIso(): string {
  return new Date().toISOString()
}

function toJson(value: JsonValue | undefined): string | null {
  return value === undefined ? null : JSON.stringify(value)
}

function fromJson(text: string | null): JsonValue {
  return text === null ? null : (JSON.parse(text) as JsonValue)
}

/** Non-finite numbers (NaN from a diverged loss) are stored as NULL. */
function finiteOrNull(value: number | null | undefined): number | null {
  return value === undefined || value === null || !Number.isFinite(value) ? null : value
}

function imageFromRaw(raw: RawImage): ImageRow {
  return { ...raw, readable: raw.readable === 1, present: raw.present === 1 }
}

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

function predictionFromRaw(raw: RawPrediction): PredictionRow {
  return {
    runId: raw.runId,
    imageId: raw.imageId,
    split: raw.split,
    trueClass: raw.trueClass,
    predictedClass: raw.predictedClass,
    probabilities: JSON.parse(raw.probabilities) as number[],
    confidence: raw.confidence,
    margin: raw.margin,
    loss: raw.loss,
    correct: raw.trueClass === raw.predictedClass
  }
}

function galleryFromRaw(raw: RawGalleryItem): GalleryItem {
  return { ...predictionFromRaw(raw), relPath: raw.relPath, width: raw.width, height: raw.height, present: raw.present === 1 }
}

/** Best-effort class of an unreadable file from its path: <class>/<file> or <split>/<class>/<file>. */
function classFromPath(relPath: string, layout: Layout): string | null {
  const parts = relPath.split('/')
  if (layout === 'presplit') return parts.length >= 3 ? (parts[1] ?? null) : null
  return parts.length >= 2 ? (parts[0] ?? null) : null
}

function listSome(items: string[], max = 5): string {
  const shown = items.slice(0, max).join(', ')
  return items.length > max ? `${shown} (and ${items.length - max} more)` : shown
}

function assertSplit(split: string, what: string): asserts split is SplitName {
  if (!(SPLIT_NAMES as readonly string[]).includes(split)) {
    throw new Error(`${what}: unknown split '${split}' (expected one of ${SPLIT_NAMES.join(', ')})`)
  }
}

function assertLimit(n: number): void {
  if (!Number.isInteger(n) || n < 0) throw new Error(`gallery size must be a non-negative integer, got ${n}`)
}

export class ProjectStore {
  private readonly statements = new Map<string, Database.Statement>()
  /** Runs this open marked interrupted because their owner process was gone. */
  readonly recovered: readonly RecoveredRun[]

  private constructor(
    readonly db: Database.Database,
    readonly dbPath: string,
    opts: OpenStoreOptions
  ) {
    this.recovered = opts.recover === false ? [] : this.recoverRuns(opts)
  }

  /** Opens (creating if needed) the database, configures it, migrates it, and recovers orphaned runs. */
  static open(dbPath: string, opts: OpenStoreOptions = {}): ProjectStore {
    const path = dbPath === ':memory:' ? dbPath : resolve(dbPath)
    if (path !== ':memory:') {
      const dir = dirname(path)
      if (!existsSync(dir) || !statSync(dir).isDirectory()) {
        throw new Error(`Cannot open TuneLab database ${path}: folder ${dir} does not exist`)
      }
    }
    let db: Database.Database | undefined
    try {
      db = new Database(path, sqliteNativeBinding(opts))
      db.pragma(`busy_timeout = ${Math.max(0, Math.floor(opts.busyTimeoutMs ?? 5000))}`)
      db.pragma('journal_mode = WAL')
      // NORMAL in WAL mode: a killed process loses nothing committed; only an OS crash may lose the last commits.
      db.pragma('synchronous = NORMAL')
      db.pragma('foreign_keys = ON')
      migrate(db, path)
      return new ProjectStore(db, path, opts)
    } catch (err) {
      db?.close()
      if (err instanceof StoreVersionError) throw err
      throw new Error(`Cannot open TuneLab database ${path}: ${(err as Error).message}`, { cause: err })
    }
  }

  close(): void {
    if (this.db.open) this.db.close()
  }

  /** PRAGMA integrity_check result: ['ok'] when healthy. */
  integrityCheck(): string[] {
    const rows = this.db.pragma('integrity_check') as Record<string, unknown>[]
    return rows.map((row) => String(Object.values(row)[0]))
  }

  private stmt(sql: string): Database.Statement {
    let statement = this.statements.get(sql)
    if (!statement) {
      statement = this.db.prepare(sql)
      this.statements.set(sql, statement)
    }
    return statement
  }

  private get<T>(sql: string, ...params: SqlValue[]): T | undefined {
    return this.stmt(sql).get(...params) as T | undefined
  }

  private all<T>(sql: string, ...params: SqlValue[]): T[] {
    return this.stmt(sql).all(...params) as T[]
  }

  private run(sql: string, ...params: SqlValue[]): Database.RunResult {
    return this.stmt(sql).run(...params)
  }

  // ---------- recovery ----------

  private recoverRuns(opts: OpenStoreOptions): RecoveredRun[] {
    return this.db
      .transaction(() => {
        const running = this.all<RawRun>(`SELECT ${RUN_COLUMNS} FROM runs r WHERE r.status = 'running'`)
        const recovered: RecoveredRun[] = []
        const at = nowIso()
        for (const raw of running) {
          const run = runFromRaw(raw)
          const verdict = judgeOwner(run.owner, run.heartbeatAt, { staleHeartbeatMs: opts.staleHeartbeatMs })
          if (!verdict.interrupted) continue
          this.run(
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

  // ---------- projects ----------

  /** Creates the project for this root (made absolute) or finds it; returns its id. A given layout overwrites the stored one. */
  upsertProject(root: string, layout: Layout | null = null): number {
    const abs = resolve(root)
    const row = this.get<{ id: number }>(
      `INSERT INTO projects (root, layout, created_at) VALUES (?, ?, ?)
       ON CONFLICT (root) DO UPDATE SET layout = COALESCE(excluded.layout, projects.layout)
       RETURNING id`,
      abs,
      layout,
      nowIso()
    )
    if (!row) throw new Error(`upsertProject(${abs}) returned no row`)
    return row.id
  }

  getProject(id: number): ProjectRow | null {
    const raw = this.get<{
      id: number
      root: string
      layout: Layout | null
      createdAt: string
      lastScannedAt: string | null
      scanSummary: string | null
    }>(
      `SELECT id, root, layout, created_at AS createdAt, last_scanned_at AS lastScannedAt, scan_summary AS scanSummary
       FROM projects WHERE id = ?`,
      id
    )
    if (!raw) return null
    return { ...raw, scanSummary: raw.scanSummary === null ? null : (JSON.parse(raw.scanSummary) as ScanSummary) }
  }

  findProject(root: string): ProjectRow | null {
    const row = this.get<{ id: number }>(`SELECT id FROM projects WHERE root = ?`, resolve(root))
    return row ? this.getProject(row.id) : null
  }

  private requireProject(id: number): ProjectRow {
    const project = this.getProject(id)
    if (!project) throw new Error(`No project with id ${id} in ${this.dbPath}`)
    return project
  }

  // ---------- images ----------

  /**
   * Stores a scan in one transaction. Rows are matched by relative path: an unchanged path keeps its id (so
   * predictions of earlier runs still join), a new path gets a new row, a path the scan no longer lists is kept
   * with present = false. The assigned split of a kept row is kept until the next saveSplit.
   */
  saveScan(projectId: number, scan: ScanResult): SaveScanResult {
    this.requireProject(projectId)
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

    return this.db
      .transaction((): SaveScanResult => {
        const existing = new Set(
          this.all<{ relPath: string }>(`SELECT rel_path AS relPath FROM images WHERE project_id = ?`, projectId).map(
            (r) => r.relPath
          )
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
          this.run(upsert, projectId, img.path, img.className, img.folderSplit, img.hash, img.width, img.height, img.bytes, 1, null, img.mtimeMs ?? null, img.ctimeMs ?? null)
        }
        for (const bad of scan.unreadable) {
          if (!existing.has(bad.path)) inserted++
          this.run(upsert, projectId, bad.path, classFromPath(bad.path, scan.layout), null, null, null, null, bad.bytes ?? null, 0, bad.reason, bad.mtimeMs ?? null, bad.ctimeMs ?? null)
        }
        let missing = 0
        for (const path of existing) {
          if (seen.has(path)) continue
          missing += this.run(
            `UPDATE images SET present = 0, split = NULL WHERE project_id = ? AND rel_path = ?`,
            projectId,
            path
          ).changes
        }
        this.run(
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
    return recordsFromRows(this.all<ScanRecordRow>(SCAN_RECORDS_SQL, projectId))
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
    return this.all<RawImage>(`SELECT ${IMAGE_COLUMNS} FROM images WHERE ${where.join(' AND ')} ORDER BY rel_path`, ...params).map(
      imageFromRaw
    )
  }

  getImage(id: number): ImageRow | null {
    const raw = this.get<RawImage>(`SELECT ${IMAGE_COLUMNS} FROM images WHERE id = ?`, id)
    return raw ? imageFromRaw(raw) : null
  }

  getImageByPath(projectId: number, relPath: string): ImageRow | null {
    const raw = this.get<RawImage>(`SELECT ${IMAGE_COLUMNS} FROM images WHERE project_id = ? AND rel_path = ?`, projectId, relPath)
    return raw ? imageFromRaw(raw) : null
  }

  // ---------- splits ----------

  /**
   * Records a split (strategy + full assignment) and makes it the current one: images.split is set from it
   * (null for present images it does not name). Paths must be present, readable images of the project.
   */
  saveSplit(projectId: number, strategy: SplitStrategy, assignment: ReadonlyMap<string, SplitName>): StoredSplit {
    this.requireProject(projectId)
    for (const [path, split] of assignment) assertSplit(split, `saveSplit (${path})`)
    const createdAt = nowIso()
    const id = this.db
      .transaction((): number => {
        const ids = new Map(
          this.all<{ id: number; relPath: string }>(
            `SELECT id, rel_path AS relPath FROM images WHERE project_id = ? AND present = 1 AND readable = 1`,
            projectId
          ).map((r) => [r.relPath, r.id])
        )
        const unknown = [...assignment.keys()].filter((p) => !ids.has(p))
        if (unknown.length > 0) {
          throw new Error(
            `saveSplit: ${unknown.length} path(s) are not readable images of project ${projectId} (scan first?): ${listSome(unknown)}`
          )
        }
        const splitId = Number(
          this.run(
            `INSERT INTO splits (project_id, strategy, seed, created_at) VALUES (?, ?, ?, ?)`,
            projectId,
            JSON.stringify(strategy),
            strategy.seed,
            createdAt
          ).lastInsertRowid
        )
        this.run(`UPDATE images SET split = NULL WHERE project_id = ?`, projectId)
        for (const [path, split] of assignment) {
          const imageId = ids.get(path)
          if (imageId === undefined) continue
          this.run(`INSERT INTO split_members (split_id, image_id, split) VALUES (?, ?, ?)`, splitId, imageId, split)
          this.run(`UPDATE images SET split = ? WHERE id = ?`, split, imageId)
        }
        return splitId
      })
      .immediate()
    const stored = this.getSplit(projectId, id)
    if (!stored) throw new Error(`saveSplit: split ${id} vanished`)
    return stored
  }

  /** The latest split of the project (or the given one), with its assignment by relative path; null if none. */
  getSplit(projectId: number, splitId?: number): StoredSplit | null {
    const row =
      splitId === undefined
        ? this.get<{ id: number; strategy: string; seed: number; createdAt: string }>(
            `SELECT id, strategy, seed, created_at AS createdAt FROM splits WHERE project_id = ? ORDER BY id DESC LIMIT 1`,
            projectId
          )
        : this.get<{ id: number; strategy: string; seed: number; createdAt: string }>(
            `SELECT id, strategy, seed, created_at AS createdAt FROM splits WHERE project_id = ? AND id = ?`,
            projectId,
            splitId
          )
    if (!row) return null
    const members = this.all<{ relPath: string; split: SplitName }>(
      `SELECT i.rel_path AS relPath, m.split FROM split_members m JOIN images i ON i.id = m.image_id
       WHERE m.split_id = ? ORDER BY i.rel_path`,
      row.id
    )
    return {
      id: row.id,
      projectId,
      strategy: JSON.parse(row.strategy) as SplitStrategy,
      seed: row.seed,
      createdAt: row.createdAt,
      assignment: new Map(members.map((m) => [m.relPath, m.split]))
    }
  }

  // ---------- runs ----------

  /** Creates a run in status 'running', owned by the given process (default: this one). */
  createRun(run: NewRun, owner: RunOwner = currentOwner()): RunRow {
    this.requireProject(run.projectId)
    if (run.classes.length < 2) throw new Error(`createRun: a run needs at least 2 classes, got [${run.classes.join(', ')}]`)
    if (new Set(run.classes).size !== run.classes.length) {
      throw new Error(`createRun: class names must be unique, got [${run.classes.join(', ')}]`)
    }
    if (run.splitId !== undefined && run.splitId !== null && !this.getSplit(run.projectId, run.splitId)) {
      throw new Error(`createRun: split ${run.splitId} does not belong to project ${run.projectId}`)
    }
    const at = nowIso()
    const id = Number(
      this.run(
        `INSERT INTO runs (project_id, split_id, name, created_at, status, config, classes, base_id, weights_source,
           weights_checksum, backend, backend_notes, seed, owner_pid, owner_host, owner_token, owner_start, heartbeat_at)
         VALUES (?, ?, ?, ?, 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        run.projectId,
        run.splitId ?? null,
        run.name ?? null,
        at,
        JSON.stringify(run.config),
        JSON.stringify(run.classes),
        run.baseId ?? null,
        run.weightsSource ?? null,
        run.weightsChecksum ?? null,
        run.backend ?? null,
        toJson(run.backendNotes),
        run.seed ?? null,
        owner.pid,
        owner.host,
        owner.token,
        owner.start,
        at
      ).lastInsertRowid
    )
    return this.requireRun(id)
  }

  getRun(runId: number): RunRow | null {
    const raw = this.get<RawRun>(`SELECT ${RUN_COLUMNS} FROM runs r WHERE r.id = ?`, runId)
    return raw ? runFromRaw(raw) : null
  }

  private requireRun(runId: number): RunRow {
    const run = this.getRun(runId)
    if (!run) throw new Error(`No run with id ${runId} in ${this.dbPath}`)
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
      this.run(
        `UPDATE runs SET started_at = ?, heartbeat_at = ?, backend = ?, backend_notes = ? WHERE id = ?`,
        at,
        at,
        backend.backend,
        toJson(backend.notes),
        runId
      )
    } else {
      this.run(`UPDATE runs SET started_at = ?, heartbeat_at = ? WHERE id = ?`, at, at, runId)
    }
  }

  /** Tells other processes the owner is alive (appendEpoch does this too). */
  heartbeat(runId: number): void {
    this.run(`UPDATE runs SET heartbeat_at = ? WHERE id = ? AND status = 'running'`, nowIso(), runId)
  }

  /** Writes one epoch and the heartbeat in one transaction. Epoch numbers are unique per run. */
  appendEpoch(runId: number, epoch: NewEpoch): EpochRow {
    if (!Number.isInteger(epoch.epoch) || epoch.epoch < 0) throw new Error(`appendEpoch: bad epoch number ${epoch.epoch}`)
    if (epoch.phase !== 1 && epoch.phase !== 2) throw new Error(`appendEpoch: phase must be 1 or 2, got ${String(epoch.phase)}`)
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
    this.db
      .transaction(() => {
        this.requireRunning(runId, 'appendEpoch')
        if (this.get(`SELECT 1 FROM epochs WHERE run_id = ? AND epoch = ?`, runId, row.epoch)) {
          throw new Error(`appendEpoch: run ${runId} already has epoch ${row.epoch}`)
        }
        const at = nowIso()
        this.run(
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
        this.run(`UPDATE runs SET heartbeat_at = ? WHERE id = ?`, at, runId)
      })
      .immediate()
    return row
  }

  getEpochs(runId: number): EpochRow[] {
    return this.all<EpochRow>(
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
    this.db
      .transaction(() => {
        const run = this.requireRun(runId)
        if (run.status !== 'running' && run.status !== 'interrupted') {
          throw new Error(`finishRun: run ${runId} already ended as ${run.status}`)
        }
        this.run(
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
    const rows = this.all<RawRun & { epochCount: number; bestValAccuracy: number | null; bestEpoch: number | null }>(
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
    return this.run(`DELETE FROM runs WHERE id = ?`, runId).changes > 0
  }

  // ---------- predictions ----------

  /**
   * Stores (or replaces, per image) a run's predictions in one transaction. The store derives confidence
   * (probability of the predicted class) and margin (top-1 minus top-2 probability) for the gallery queries.
   */
  savePredictions(runId: number, rows: readonly NewPrediction[]): number {
    const run = this.requireRun(runId)
    const classIndex = new Map(run.classes.map((c, i) => [c, i]))
    const prepared = rows.map((p) => {
      const where = `savePredictions (run ${runId}, image ${p.imageId})`
      assertSplit(p.split, where)
      const predicted = classIndex.get(p.predictedClass)
      if (predicted === undefined) throw new Error(`${where}: predicted class '${p.predictedClass}' is not a class of the run`)
      if (!classIndex.has(p.trueClass)) throw new Error(`${where}: true class '${p.trueClass}' is not a class of the run`)
      if (p.probabilities.length !== run.classes.length) {
        throw new Error(`${where}: ${p.probabilities.length} probabilities for ${run.classes.length} classes`)
      }
      if (p.probabilities.some((x) => !Number.isFinite(x) || x < 0 || x > 1)) {
        throw new Error(`${where}: probabilities must be finite numbers in [0, 1], got [${p.probabilities.join(', ')}]`)
      }
      const sorted = [...p.probabilities].sort((a, b) => b - a)
      return {
        ...p,
        confidence: p.probabilities[predicted] ?? 0,
        margin: (sorted[0] ?? 0) - (sorted[1] ?? 0)
      }
    })
    return this.db
      .transaction((): number => {
        const projectImages = new Set(
          this.all<{ id: number }>(`SELECT id FROM images WHERE project_id = ?`, run.projectId).map((r) => r.id)
        )
        const foreign = prepared.filter((p) => !projectImages.has(p.imageId)).map((p) => String(p.imageId))
        if (foreign.length > 0) {
          throw new Error(`savePredictions: image ids not in project ${run.projectId}: ${listSome(foreign)}`)
        }
        for (const p of prepared) {
          this.run(
            `INSERT INTO predictions (run_id, image_id, split, true_class, predicted_class, probabilities, confidence, margin, loss)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (run_id, image_id) DO UPDATE SET split = excluded.split, true_class = excluded.true_class,
               predicted_class = excluded.predicted_class, probabilities = excluded.probabilities,
               confidence = excluded.confidence, margin = excluded.margin, loss = excluded.loss`,
            runId,
            p.imageId,
            p.split,
            p.trueClass,
            p.predictedClass,
            JSON.stringify(p.probabilities),
            p.confidence,
            p.margin,
            finiteOrNull(p.loss)
          )
        }
        this.run(`UPDATE runs SET heartbeat_at = ? WHERE id = ? AND status = 'running'`, nowIso(), runId)
        return prepared.length
      })
      .immediate()
  }

  getPredictions(runId: number, filter: PredictionFilter = {}): PredictionRow[] {
    const where = ['p.run_id = ?']
    const params: SqlValue[] = [runId]
    if (filter.split !== undefined) {
      assertSplit(filter.split, 'getPredictions')
      where.push('p.split = ?')
      params.push(filter.split)
    }
    if (filter.className !== undefined) {
      where.push('p.true_class = ?')
      params.push(filter.className)
    }
    return this.all<RawPrediction>(
      `SELECT ${PREDICTION_COLUMNS} FROM predictions p WHERE ${where.join(' AND ')} ORDER BY p.image_id`,
      ...params
    ).map(predictionFromRaw)
  }

  private gallery(
    runId: number,
    split: SplitName,
    trueClass: string | null,
    condition: string,
    order: string,
    n: number,
    extra: SqlValue[] = []
  ): GalleryItem[] {
    assertSplit(split, 'gallery')
    assertLimit(n)
    const classClause = trueClass === null ? '' : 'AND p.true_class = ?'
    const params: SqlValue[] = [runId, split, ...(trueClass === null ? [] : [trueClass]), ...extra, n]
    return this.all<RawGalleryItem>(
      `SELECT ${GALLERY_COLUMNS} FROM predictions p JOIN images i ON i.id = p.image_id
       WHERE p.run_id = ? AND p.split = ? ${classClause} AND ${condition}
       ORDER BY ${order}, p.image_id LIMIT ?`,
      ...params
    ).map(galleryFromRaw)
  }

  /** Correct predictions of images of class `trueClass` (null: all classes), highest confidence first. */
  mostConfident(runId: number, split: SplitName, trueClass: string | null, n: number): GalleryItem[] {
    return this.gallery(runId, split, trueClass, 'p.predicted_class = p.true_class', 'p.confidence DESC', n)
  }

  /**
   * Images of class `trueClass` nearest the decision boundary, right or wrong: smallest margin between the top-2
   * probabilities first (for 2 classes that is the same order as |p - 0.5|).
   */
  leastConfident(runId: number, split: SplitName, trueClass: string | null, n: number): GalleryItem[] {
    return this.gallery(runId, split, trueClass, '1', 'p.margin ASC', n)
  }

  /** Wrong predictions of images whose true class is `trueClass`, highest confidence in the wrong class first. */
  confidentlyWrong(runId: number, split: SplitName, trueClass: string | null, n: number): GalleryItem[] {
    return this.gallery(runId, split, trueClass, 'p.predicted_class <> p.true_class', 'p.confidence DESC', n)
  }

  /** Images of one confusion-matrix cell, highest confidence first. */
  confusionCellImages(
    runId: number,
    split: SplitName,
    trueClass: string,
    predictedClass: string,
    n = 1_000_000
  ): GalleryItem[] {
    return this.gallery(runId, split, trueClass, 'p.predicted_class = ?', 'p.confidence DESC', n, [predictedClass])
  }

  /** Non-empty cells of the confusion matrix of a split. */
  confusionMatrix(runId: number, split: SplitName): ConfusionCell[] {
    assertSplit(split, 'confusionMatrix')
    return this.all<ConfusionCell>(
      `SELECT true_class AS trueClass, predicted_class AS predictedClass, COUNT(*) AS count
       FROM predictions WHERE run_id = ? AND split = ? GROUP BY true_class, predicted_class ORDER BY true_class, predicted_class`,
      runId,
      split
    )
  }

  // ---------- analyses ----------

  /** Appends an analysis; earlier ones of the same kind are kept, getAnalysis returns the latest. */
  saveAnalysis(runId: number, kind: string, payload: JsonValue): AnalysisRow {
    this.requireRun(runId)
    if (kind.trim() === '') throw new Error('saveAnalysis: kind must not be empty')
    const createdAt = nowIso()
    const id = Number(
      this.run(
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
    const raw = this.get<{ id: number; runId: number; kind: string; payload: string; createdAt: string }>(
      `SELECT id, run_id AS runId, kind, payload, created_at AS createdAt FROM analyses
       WHERE run_id = ? AND kind = ? ORDER BY id DESC LIMIT 1`,
      runId,
      kind
    )
    return raw ? { ...raw, payload: fromJson(raw.payload) } : null
  }

  listAnalyses(runId: number): AnalysisRow[] {
    return this.all<{ id: number; runId: number; kind: string; payload: string; createdAt: string }>(
      `SELECT id, run_id AS runId, kind, payload, created_at AS createdAt FROM analyses WHERE run_id = ? ORDER BY id`,
      runId
    ).map((raw) => ({ ...raw, payload: fromJson(raw.payload) }))
  }
}
