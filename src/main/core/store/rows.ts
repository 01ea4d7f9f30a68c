// Typed shapes of what the store returns and accepts. JSON columns are parsed; callers narrow them.
import type { Layout, RunStatus, SplitName, SplitStrategy } from '@shared/domain'

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue }

export interface ScanSummary {
  layout: Layout
  folderSplits: SplitName[]
  classes: { name: string; total: number; counts: Partial<Record<SplitName | 'all', number>> }[]
  images: number
  unreadable: number
  leakageGroups: number
  seconds: number
}

export interface ProjectRow {
  id: number
  root: string
  layout: Layout | null
  createdAt: string
  lastScannedAt: string | null
  scanSummary: ScanSummary | null
}

export interface ImageRow {
  id: number
  projectId: number
  /** Relative to the project root, forward slashes. */
  relPath: string
  /** Null only for unreadable files whose class cannot be told from the path. */
  className: string | null
  folderSplit: SplitName | null
  /** Split assigned by the latest saved split (null before any split, and for unreadable files). */
  split: SplitName | null
  contentHash: string | null
  width: number | null
  height: number | null
  bytes: number | null
  readable: boolean
  error: string | null
  /** False once a rescan no longer finds the file; the row stays so old predictions still join. */
  present: boolean
}

export interface ListImagesOptions {
  split?: SplitName
  className?: string
  /** Include rows of files that a later scan no longer found. Default false. */
  includeMissing?: boolean
  /** Include unreadable files. Default false. */
  includeUnreadable?: boolean
}

export interface SaveScanResult {
  /** Paths new to the database (new rows, new ids). */
  inserted: number
  /** Paths that already had a row (kept their id; fields refreshed whether or not they changed). */
  updated: number
  /** Rows whose file was not found by this scan (kept, marked present = false). */
  missing: number
}

export interface StoredSplit {
  id: number
  projectId: number
  strategy: SplitStrategy
  seed: number
  createdAt: string
  /** Relative path -> split. */
  assignment: Map<string, SplitName>
  /** Content hash -> split, to find a member whose file was moved or renamed since. */
  byContent: Map<string, SplitName>
}

export interface NewRun {
  projectId: number
  /** Full training configuration, JSON-serialisable. */
  config: JsonValue
  /** Class names in the order of the model outputs; prediction probabilities align with it. */
  classes: string[]
  splitId?: number | null
  name?: string | null
  baseId?: string | null
  weightsSource?: string | null
  weightsChecksum?: string | null
  backend?: string | null
  backendNotes?: JsonValue
  seed?: number | null
}

/** Which process owns a running run; see runOwner.ts for how it is used at open. */
export interface RunOwner {
  pid: number
  host: string
  /** Random per process: tells this process apart from an earlier one that had the same pid. */
  token: string
  /** Process start identity (Linux: start time in clock ticks from /proc), null where unknown. */
  start: string | null
}

export interface RunRow {
  id: number
  projectId: number
  splitId: number | null
  name: string | null
  createdAt: string
  startedAt: string | null
  endedAt: string | null
  status: RunStatus
  config: JsonValue
  classes: string[]
  baseId: string | null
  weightsSource: string | null
  weightsChecksum: string | null
  backend: string | null
  backendNotes: JsonValue
  seed: number | null
  timings: JsonValue
  metrics: JsonValue
  error: string | null
  owner: RunOwner | null
  heartbeatAt: string | null
}

export interface RunSummaryRow extends RunRow {
  epochs: number
  bestValAccuracy: number | null
  bestEpoch: number | null
}

export type FinalRunStatus = Exclude<RunStatus, 'running'>

export interface FinishRunDetails {
  metrics?: JsonValue
  timings?: JsonValue
  error?: string | null
}

export interface EpochRow {
  runId: number
  phase: 1 | 2
  /** Continues across phases (phase 2 starts after the last epoch of phase 1). */
  epoch: number
  /** Null when the loss was not a finite number (NaN: training diverged). */
  loss: number | null
  accuracy: number | null
  valLoss: number | null
  valAccuracy: number | null
  lr: number | null
  seconds: number | null
  imagesPerSec: number | null
}

export type NewEpoch = Omit<
  EpochRow,
  'runId' | 'accuracy' | 'valLoss' | 'valAccuracy' | 'lr' | 'seconds' | 'imagesPerSec'
> &
  Partial<Pick<EpochRow, 'accuracy' | 'valLoss' | 'valAccuracy' | 'lr' | 'seconds' | 'imagesPerSec'>>

export interface NewPrediction {
  imageId: number
  split: SplitName
  trueClass: string
  predictedClass: string
  /** One probability per class of the run, in the run's class order. */
  probabilities: number[]
  loss?: number | null
}

export interface PredictionRow {
  runId: number
  imageId: number
  split: SplitName
  trueClass: string
  predictedClass: string
  probabilities: number[]
  /** Probability of the predicted class. */
  confidence: number
  /** Top-1 minus top-2 probability (for 2 classes: |2p - 1|, i.e. distance from 0.5 doubled). */
  margin: number
  loss: number | null
  correct: boolean
}

/** A prediction joined with its image, as galleries show it. */
export interface GalleryItem extends PredictionRow {
  relPath: string
  width: number | null
  height: number | null
  present: boolean
}

export interface PredictionFilter {
  split?: SplitName
  /** True class. */
  className?: string
}

export interface ConfusionCell {
  trueClass: string
  predictedClass: string
  count: number
}

export interface AnalysisRow {
  id: number
  runId: number
  kind: string
  payload: JsonValue
  createdAt: string
}
