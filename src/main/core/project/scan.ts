// Opens a project folder: detects its layout, lists classes and images, decodes every image once to
// find unreadable files, hashes file bytes (sha256) and reports leakage across folder splits.
// Incremental: given the previous scan's records, a file whose size, mtime and ctime are unchanged is not
// read again (its hash, size or unreadable reason are reused).
import { stat } from 'node:fs/promises'
import { availableParallelism } from 'node:os'
import { resolve } from 'node:path'
import type { ScanFileRecord, ScanResult } from '@shared/domain'
import { ProjectError } from './errors'
import { walkProject } from './scanWalk'
import { probeFiles, type ScanWarm } from './scanProbe'
import { countClasses, identicalFiles, type DuplicateGroup } from './scanCount'

export type { DuplicateGroup } from './scanCount'

export interface ScanOptions {
  onProgress?: (done: number, total: number) => void
  /** Files decoded at once. Default defaultScanConcurrency() (sharp has its own thread pool; I/O overlaps decode). */
  concurrency?: number
  /** The project's own state folder, never scanned. Default '.tunelab'. */
  stateDirName?: string
  /**
   * The previous scan's records by relative path (ProjectStore.scanRecords). A file whose bytes, mtimeMs and
   * ctimeMs all match its record is not read: its hash and dimensions (or its unreadable reason) are reused.
   */
  previous?: ReadonlyMap<string, ScanFileRecord>
  /** Ignore `previous`: read, hash and decode every file (a full validation). */
  full?: boolean
  /** Decode the images read at a training size into the image cache (see ScanWarm); only with 2+ classes. */
  warm?: ScanWarm
  /** Called with the relative path of every file whose bytes are read (test and benchmark hook). */
  onRead?: (relPath: string) => void
}

export interface ScanReport extends ScanResult {
  /** Files that were ignored: non-image extensions, and files outside class folders. Hidden files are not counted. */
  skippedCount: number
  /** Up to 20 of them, relative paths. */
  skippedExamples: string[]
  /** Identical files inside the same split (or anywhere in a flat folder); several classes in one group means conflicting labels. */
  duplicates: DuplicateGroup[]
  /** Files taken from `previous` unread (unchanged size, mtime and ctime). */
  reused: number
  /** Files read (and, if they are images, decoded) by this scan. */
  read: number
}

/** 8 per core, 8..32: on 2 cores 16 in flight beat 8 (50k small JPEGs); the cap bounds memory with big photos. */
export function defaultScanConcurrency(): number {
  return Math.min(32, Math.max(8, availableParallelism() * 8))
}

export async function scanProject(root: string, opts: ScanOptions = {}): Promise<ScanReport> {
  const started = performance.now()
  const absRoot = resolve(root)
  const stateDirName = opts.stateDirName ?? '.tunelab'
  const concurrency = opts.concurrency ?? defaultScanConcurrency()

  let rootStat
  try {
    rootStat = await stat(absRoot)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT') throw new ProjectError('NOT_FOUND', `project folder not found: ${absRoot}`, absRoot)
    throw new ProjectError('NOT_FOUND', `cannot open project folder ${absRoot}: ${(err as Error).message}`, absRoot)
  }
  if (!rootStat.isDirectory()) throw new ProjectError('NOT_A_DIRECTORY', `not a folder: ${absRoot}`, absRoot)

  const walk = await walkProject(absRoot, stateDirName)
  const probed = await probeFiles(walk.candidates, {
    concurrency,
    previous: opts.full ? undefined : opts.previous,
    onProgress: opts.onProgress,
    onRead: opts.onRead,
    // A folder that cannot be trained on (one class) gets no state folder from its scan.
    warm: new Set(walk.candidates.map((c) => c.className)).size >= 2 ? opts.warm : undefined
  })
  const { images } = probed
  const unreadable = [...walk.refused, ...probed.unreadable].sort((a, b) =>
    a.path < b.path ? -1 : a.path > b.path ? 1 : 0
  )
  const { folderSplits, classes } = countClasses(absRoot, walk, images, unreadable)
  const { leakage, duplicates } = identicalFiles(walk.layout, images)

  return {
    root: absRoot,
    layout: walk.layout,
    folderSplits,
    classes,
    images,
    unreadable,
    leakage,
    duplicates,
    skippedCount: walk.skippedCount,
    skippedExamples: walk.skippedExamples,
    reused: probed.reused,
    read: probed.read,
    seconds: (performance.now() - started) / 1000
  }
}

/** The records a later scanProject({ previous }) needs, from a scan kept in memory (the store keeps the same). */
export function recordsFromScan(scan: ScanResult): Map<string, ScanFileRecord> {
  const out = new Map<string, ScanFileRecord>()
  for (const im of scan.images) {
    if (im.mtimeMs === undefined || im.ctimeMs === undefined) continue
    out.set(im.path, {
      bytes: im.bytes,
      mtimeMs: im.mtimeMs,
      ctimeMs: im.ctimeMs,
      hash: im.hash,
      width: im.width,
      height: im.height,
      error: null
    })
  }
  for (const u of scan.unreadable) {
    if (u.bytes === undefined || u.mtimeMs === undefined || u.ctimeMs === undefined) continue
    out.set(u.path, {
      bytes: u.bytes,
      mtimeMs: u.mtimeMs,
      ctimeMs: u.ctimeMs,
      hash: null,
      width: null,
      height: null,
      error: u.reason
    })
  }
  return out
}
