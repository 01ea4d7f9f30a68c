// The project database behind one front: projects, scanned images, splits, runs with their epochs and predictions,
// analyses. Each concern lives in its own table module (projects, images, splits, runs, predictions, analyses over
// db.ts); this class opens the database, recovers orphaned runs, and forwards. Every multi-row write is one
// transaction, so a killed process leaves whole rows or none.
import type Database from 'better-sqlite3'
import type { Layout, ScanFileRecord, ScanResult, SplitName, SplitStrategy } from '@shared/domain'
import { currentOwner } from './runOwner'
import { StoreDb, type OpenStoreOptions } from './db'
import { ProjectsTable } from './projects'
import { ImagesTable } from './images'
import { SplitsTable } from './splits'
import { RunsTable, type RecoveredRun } from './runs'
import { PredictionsTable } from './predictions'
import { AnalysesTable } from './analyses'
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
  StoredSplit
} from './rows'

export { sqliteNativeBinding, type OpenStoreOptions } from './db'
export { recordsFromRows, SCAN_RECORDS_SQL, type ScanRecordRow } from './images'
export type { RecoveredRun } from './runs'

export class ProjectStore {
  readonly db: Database.Database
  readonly dbPath: string
  readonly projects: ProjectsTable
  readonly images: ImagesTable
  readonly splits: SplitsTable
  readonly runs: RunsTable
  readonly predictions: PredictionsTable
  readonly analyses: AnalysesTable
  /** Opened read-only (a project state that cannot be written): every write fails. */
  readonly readOnly: boolean
  /** Runs this open marked interrupted because their owner process was gone. */
  readonly recovered: readonly RecoveredRun[]

  private constructor(store: StoreDb, opts: OpenStoreOptions) {
    this.db = store.db
    this.dbPath = store.dbPath
    this.projects = new ProjectsTable(store)
    this.images = new ImagesTable(store, this.projects)
    this.splits = new SplitsTable(store, this.projects)
    this.runs = new RunsTable(store, this.projects, this.splits)
    this.predictions = new PredictionsTable(store, this.runs)
    this.analyses = new AnalysesTable(store, this.runs)
    this.readOnly = opts.readonly === true
    this.recovered = opts.recover === false || this.readOnly ? [] : this.runs.recoverRuns(opts)
  }

  /** Opens (creating if needed) the database, configures it, migrates it, and recovers orphaned runs. */
  static open(dbPath: string, opts: OpenStoreOptions = {}): ProjectStore {
    const store = StoreDb.open(dbPath, opts)
    try {
      return new ProjectStore(store, opts)
    } catch (err) {
      store.db.close()
      throw new Error(`Cannot open TuneLab database ${store.dbPath}: ${(err as Error).message}`, { cause: err })
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

  // ---------- projects (projects.ts) ----------

  upsertProject(root: string, layout: Layout | null = null): number {
    return this.projects.upsertProject(root, layout)
  }
  getProject(id: number): ProjectRow | null {
    return this.projects.getProject(id)
  }
  findProject(root: string): ProjectRow | null {
    return this.projects.findProject(root)
  }

  // ---------- images (images.ts) ----------

  saveScan(projectId: number, scan: ScanResult): SaveScanResult {
    return this.images.saveScan(projectId, scan)
  }
  scanRecords(projectId: number): Map<string, ScanFileRecord> {
    return this.images.scanRecords(projectId)
  }
  listImages(projectId: number, opts: ListImagesOptions = {}): ImageRow[] {
    return this.images.listImages(projectId, opts)
  }
  getImage(id: number): ImageRow | null {
    return this.images.getImage(id)
  }
  getImageByPath(projectId: number, relPath: string): ImageRow | null {
    return this.images.getImageByPath(projectId, relPath)
  }

  // ---------- splits (splits.ts) ----------

  saveSplit(projectId: number, strategy: SplitStrategy, assignment: ReadonlyMap<string, SplitName>): StoredSplit {
    return this.splits.saveSplit(projectId, strategy, assignment)
  }
  getSplit(projectId: number, splitId?: number): StoredSplit | null {
    return this.splits.getSplit(projectId, splitId)
  }

  // ---------- runs and epochs (runs.ts) ----------

  createRun(run: NewRun, owner: RunOwner = currentOwner()): RunRow {
    return this.runs.createRun(run, owner)
  }
  beginRun(run: Pick<NewRun, 'projectId' | 'config' | 'name'>, owner: RunOwner = currentOwner()): RunRow {
    return this.runs.beginRun(run, owner)
  }
  resolveRun(runId: number, details: Omit<NewRun, 'projectId' | 'name'>): RunRow {
    return this.runs.resolveRun(runId, details)
  }
  getRun(runId: number): RunRow | null {
    return this.runs.getRun(runId)
  }
  markRunStarted(runId: number, backend?: { backend: string; notes?: JsonValue }): void {
    this.runs.markRunStarted(runId, backend)
  }
  heartbeat(runId: number): void {
    this.runs.heartbeat(runId)
  }
  appendEpoch(runId: number, epoch: NewEpoch): EpochRow {
    return this.runs.appendEpoch(runId, epoch)
  }
  getEpochs(runId: number): EpochRow[] {
    return this.runs.getEpochs(runId)
  }
  finishRun(runId: number, status: FinalRunStatus, details: FinishRunDetails = {}): RunRow {
    return this.runs.finishRun(runId, status, details)
  }
  listRuns(projectId: number): RunSummaryRow[] {
    return this.runs.listRuns(projectId)
  }
  deleteRun(runId: number): boolean {
    return this.runs.deleteRun(runId)
  }

  // ---------- predictions, galleries, confusion (predictions.ts) ----------

  savePredictions(runId: number, rows: readonly NewPrediction[]): number {
    return this.predictions.savePredictions(runId, rows)
  }
  getPredictions(runId: number, filter: PredictionFilter = {}): PredictionRow[] {
    return this.predictions.getPredictions(runId, filter)
  }
  mostConfident(runId: number, split: SplitName, trueClass: string | null, n: number): GalleryItem[] {
    return this.predictions.mostConfident(runId, split, trueClass, n)
  }
  leastConfident(runId: number, split: SplitName, trueClass: string | null, n: number): GalleryItem[] {
    return this.predictions.leastConfident(runId, split, trueClass, n)
  }
  confidentlyWrong(runId: number, split: SplitName, trueClass: string | null, n: number): GalleryItem[] {
    return this.predictions.confidentlyWrong(runId, split, trueClass, n)
  }
  confusionCellImages(
    runId: number,
    split: SplitName,
    trueClass: string,
    predictedClass: string,
    n?: number
  ): GalleryItem[] {
    return this.predictions.confusionCellImages(runId, split, trueClass, predictedClass, n)
  }
  confusionMatrix(runId: number, split: SplitName): ConfusionCell[] {
    return this.predictions.confusionMatrix(runId, split)
  }

  // ---------- analyses (analyses.ts) ----------

  saveAnalysis(runId: number, kind: string, payload: JsonValue): AnalysisRow {
    return this.analyses.saveAnalysis(runId, kind, payload)
  }
  getAnalysis(runId: number, kind: string): AnalysisRow | null {
    return this.analyses.getAnalysis(runId, kind)
  }
  listAnalyses(runId: number): AnalysisRow[] {
    return this.analyses.listAnalyses(runId)
  }
}
