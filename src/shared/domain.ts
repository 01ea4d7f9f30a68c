// Domain types shared by core, CLI, main process and renderer. Plain data only (JSON-serialisable).

export type SplitName = 'train' | 'validation' | 'test'
export const SPLIT_NAMES: readonly SplitName[] = ['train', 'validation', 'test']

/** How a project folder is organised on disk. */
export type Layout = 'flat' | 'presplit'

export type ResizeMode = 'squash' | 'center-crop' | 'pad'

export interface UnreadableFile {
  /** Path relative to the project root, forward slashes. */
  path: string
  reason: string
  /** File size and times when it was scanned (absent when the file could not even be stat'ed). */
  bytes?: number
  mtimeMs?: number
  ctimeMs?: number
}

export interface ClassCounts {
  name: string
  /** Readable images per folder split ('all' for a flat layout). */
  counts: Partial<Record<SplitName | 'all', number>>
  total: number
}

export interface LeakageGroup {
  hash: string
  /** Relative paths of identical files that sit in different splits. */
  paths: string[]
  splits: SplitName[]
}

export interface ScannedImage {
  /** Relative path, forward slashes. */
  path: string
  className: string
  /** Split given by the folder structure (presplit layout only). */
  folderSplit: SplitName | null
  /** sha256 of the file bytes, hex. */
  hash: string
  width: number
  height: number
  bytes: number
  /** File modification / status-change times when scanned; with bytes, they let the next scan skip an unchanged file. */
  mtimeMs?: number
  ctimeMs?: number
}

/**
 * What an earlier scan recorded about one file, keyed by relative path: the next scan reuses hash and size
 * (or the unreadable reason) without reading the file when bytes, mtimeMs and ctimeMs all match.
 */
export interface ScanFileRecord {
  bytes: number
  mtimeMs: number
  ctimeMs: number
  /** Null when the file was unreadable; `error` then says why. */
  hash: string | null
  width: number | null
  height: number | null
  error: string | null
}

export interface ScanResult {
  root: string
  layout: Layout
  /** Splits present in a presplit layout. */
  folderSplits: SplitName[]
  classes: ClassCounts[]
  images: ScannedImage[]
  unreadable: UnreadableFile[]
  /** Identical files found in more than one folder split. */
  leakage: LeakageGroup[]
  seconds: number
}

export type SplitStrategy =
  | { kind: 'ratios'; ratios: [number, number, number]; seed: number }
  | { kind: 'folder'; testFromVal: number; seed: number }

export interface AugmentSpec {
  horizontalFlip: boolean
  verticalFlip: boolean
  /** Fraction of a full turn, as Keras RandomRotation(0.2): uniform in [-f, f] * 360 degrees. */
  rotation: number
  /** Fraction of width / height, uniform in [-f, f]. */
  widthShift: number
  heightShift: number
  /** Zoom range: scale uniform in [1 - z, 1 + z]. */
  zoom: number
  /** Additive brightness delta, fraction of full range, uniform in [-b, b]. */
  brightness: number
  /** Contrast factor uniform in [1 - c, 1 + c]. */
  contrast: number
}

export const NO_AUGMENTATION: AugmentSpec = {
  horizontalFlip: false,
  verticalFlip: false,
  rotation: 0,
  widthShift: 0,
  heightShift: 0,
  zoom: 0,
  brightness: 0,
  contrast: 0
}

export type RunStatus = 'running' | 'completed' | 'cancelled' | 'failed' | 'interrupted'
