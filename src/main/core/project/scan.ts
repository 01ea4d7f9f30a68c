// Opens a project folder: detects its layout, lists classes and images, decodes every image once to
// find unreadable files, hashes file bytes (sha256) and reports leakage across folder splits.
// Incremental: given the previous scan's records, a file whose size, mtime and ctime are unchanged is not
// read again (its hash, size or unreadable reason are reused).
import { createHash } from 'node:crypto'
import type { Dirent } from 'node:fs'
import { readdir, readFile, realpath, stat } from 'node:fs/promises'
import { availableParallelism } from 'node:os'
import { extname, join, resolve } from 'node:path'
import type { ClassCounts, LeakageGroup, ScanFileRecord, ScannedImage, ScanResult, SplitName, UnreadableFile } from '@shared/domain'
import { SPLIT_NAMES } from '@shared/domain'
import { IMAGE_EXTENSIONS, probeImage } from '../pipeline/decode'
import { mapLimit } from '../util/pool'
import { ProjectError } from './errors'
import { groupIdentical } from './leakage'

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
  /** Called with the relative path of every file whose bytes are read (test and benchmark hook). */
  onRead?: (relPath: string) => void
}

export interface DuplicateGroup {
  hash: string
  paths: string[]
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

/** Folder names (lower-case) that mark a pre-split layout, and the split each stands for. */
const SPLIT_DIRS: Record<string, SplitName> = { train: 'train', validation: 'validation', val: 'validation', test: 'test' }

const MAX_SKIPPED_EXAMPLES = 20

interface Candidate {
  abs: string
  rel: string
  className: string
  folderSplit: SplitName | null
}

function isHidden(name: string): boolean {
  return name.startsWith('.')
}

async function direntIsDir(dir: string, d: Dirent): Promise<boolean> {
  if (d.isDirectory()) return true
  if (!d.isSymbolicLink()) return false
  try {
    return (await stat(join(dir, d.name))).isDirectory()
  } catch {
    return false
  }
}

async function direntIsFile(dir: string, d: Dirent): Promise<boolean> {
  if (d.isFile()) return true
  if (!d.isSymbolicLink()) return false
  try {
    return (await stat(join(dir, d.name))).isFile()
  } catch {
    return false
  }
}

async function listDirs(dir: string, exclude: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true })
  const out: string[] = []
  for (const d of entries) {
    if (isHidden(d.name) || d.name === exclude) continue
    if (await direntIsDir(dir, d)) out.push(d.name)
  }
  return out.sort()
}

interface WalkState {
  skippedCount: number
  skippedExamples: string[]
  visited: Set<string>
}

/** Collects image candidates under a class folder, recursing into sub-folders (as Keras does). */
async function walkClass(absDir: string, relDir: string, className: string, folderSplit: SplitName | null, state: WalkState, out: Candidate[]): Promise<void> {
  const real = await realpath(absDir)
  if (state.visited.has(real)) return // symlink loop or the same folder linked twice
  state.visited.add(real)
  const entries = await readdir(absDir, { withFileTypes: true })
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  for (const d of entries) {
    if (isHidden(d.name)) continue
    const abs = join(absDir, d.name)
    const rel = `${relDir}/${d.name}`
    if (await direntIsDir(absDir, d)) {
      await walkClass(abs, rel, className, folderSplit, state, out)
    } else if (await direntIsFile(absDir, d)) {
      if (IMAGE_EXTENSIONS.has(extname(d.name).toLowerCase())) {
        out.push({ abs, rel, className, folderSplit })
      } else {
        state.skippedCount++
        if (state.skippedExamples.length < MAX_SKIPPED_EXAMPLES) state.skippedExamples.push(rel)
      }
    }
  }
}

/** Counts non-hidden files lying directly in `absDir` (outside any class folder) as skipped. */
async function skipLooseFiles(absDir: string, relDir: string, state: WalkState): Promise<void> {
  const entries = await readdir(absDir, { withFileTypes: true })
  for (const d of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (isHidden(d.name) || !(await direntIsFile(absDir, d))) continue
    state.skippedCount++
    if (state.skippedExamples.length < MAX_SKIPPED_EXAMPLES) state.skippedExamples.push(relDir === '' ? d.name : `${relDir}/${d.name}`)
  }
}

interface Layout {
  layout: 'flat' | 'presplit'
  /** Split folder (actual name on disk) per split, presplit only. */
  splitDirs: Map<SplitName, string>
}

async function detectLayout(root: string, topDirs: string[]): Promise<Layout> {
  const splitDirs = new Map<SplitName, string>()
  const others: string[] = []
  for (const name of topDirs) {
    const split = SPLIT_DIRS[name.toLowerCase()]
    if (split === undefined) {
      others.push(name)
      continue
    }
    const previous = splitDirs.get(split)
    if (previous !== undefined) {
      throw new ProjectError('MIXED_LAYOUT', `both "${previous}" and "${name}" are present in ${root}; keep only one folder for the ${split} split`, join(root, name))
    }
    splitDirs.set(split, name)
  }
  if (splitDirs.size === 0) return { layout: 'flat', splitDirs }
  if (others.length === 0) return { layout: 'presplit', splitDirs }
  // Mixed names: a class may legitimately be called "test" in a flat folder. It is a split folder only
  // if it holds sub-folders; a flat class folder holds images.
  let splitLike = 0
  for (const dir of splitDirs.values()) if ((await listDirs(join(root, dir), '')).length > 0) splitLike++
  if (splitLike === 0) return { layout: 'flat', splitDirs: new Map() }
  throw new ProjectError(
    'MIXED_LAYOUT',
    `${root} mixes split folders (${[...splitDirs.values()].join(', ')}) with other folders (${others.join(', ')}); ` +
      'use either <dir>/<class>/ or <dir>/{train,validation,test}/<class>/',
    root
  )
}

function hashHex(buf: Buffer): string {
  return createHash('sha256').update(buf).digest('hex')
}

/**
 * Same size, mtime and ctime as recorded. ctime counts because a user cannot set it: an edit that restores
 * the mtime (touch -d, some sync tools) still moves the ctime. A copied file gets a new mtime and ctime and is read.
 */
function unchanged(before: ScanFileRecord, st: { size: number; mtimeMs: number; ctimeMs: number }): boolean {
  return before.bytes === st.size && before.mtimeMs === st.mtimeMs && before.ctimeMs === st.ctimeMs
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

  const topDirs = await listDirs(absRoot, stateDirName)
  const { layout, splitDirs } = await detectLayout(absRoot, topDirs)

  const state: WalkState = { skippedCount: 0, skippedExamples: [], visited: new Set() }
  const candidates: Candidate[] = []
  /** Every class folder found, with its relative path, to name empty ones. */
  const classFolders = new Map<string, string[]>()
  const addClassFolder = (cls: string, rel: string): void => {
    const list = classFolders.get(cls) ?? []
    list.push(rel)
    classFolders.set(cls, list)
  }
  await skipLooseFiles(absRoot, '', state)
  if (layout === 'flat') {
    for (const cls of topDirs) {
      addClassFolder(cls, cls)
      await walkClass(join(absRoot, cls), cls, cls, null, state, candidates)
    }
  } else {
    for (const split of SPLIT_NAMES) {
      const dir = splitDirs.get(split)
      if (dir === undefined) continue
      await skipLooseFiles(join(absRoot, dir), dir, state)
      for (const cls of await listDirs(join(absRoot, dir), stateDirName)) {
        addClassFolder(cls, `${dir}/${cls}`)
        await walkClass(join(absRoot, dir, cls), `${dir}/${cls}`, cls, split, state, candidates)
      }
    }
  }
  if (classFolders.size === 0) {
    const where = layout === 'flat' ? absRoot : [...splitDirs.values()].map((d) => join(absRoot, d)).join(', ')
    throw new ProjectError('NO_CLASSES', `no class folders found in ${where}: put each class's images in its own sub-folder`, absRoot)
  }

  const total = candidates.length
  let done = 0
  opts.onProgress?.(0, total)
  const unreadable: UnreadableFile[] = []
  const previous = opts.full ? undefined : opts.previous
  let reused = 0
  let read = 0
  const results = await mapLimit(candidates, concurrency, async (c): Promise<ScannedImage | null> => {
    try {
      let st
      try {
        st = await stat(c.abs)
      } catch (err) {
        unreadable.push({ path: c.rel, reason: `cannot read file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` })
        return null
      }
      const times = { mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs }
      const before = previous?.get(c.rel)
      if (before && unchanged(before, st)) {
        reused++
        if (before.hash !== null && before.width !== null && before.height !== null) {
          return { path: c.rel, className: c.className, folderSplit: c.folderSplit, hash: before.hash, width: before.width, height: before.height, bytes: before.bytes, ...times }
        }
        unreadable.push({ path: c.rel, reason: before.error ?? 'unreadable', bytes: st.size, ...times })
        return null
      }
      read++
      opts.onRead?.(c.rel)
      let buf: Buffer
      try {
        buf = await readFile(c.abs)
      } catch (err) {
        unreadable.push({ path: c.rel, reason: `cannot read file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, bytes: st.size, ...times })
        return null
      }
      try {
        const probed = await probeImage(buf)
        return { path: c.rel, className: c.className, folderSplit: c.folderSplit, hash: hashHex(buf), width: probed.width, height: probed.height, bytes: buf.length, ...times }
      } catch (err) {
        unreadable.push({ path: c.rel, reason: err instanceof Error ? err.message : String(err), bytes: st.size, ...times })
        return null
      }
    } finally {
      done++
      opts.onProgress?.(done, total)
    }
  })
  const images = results.filter((r): r is ScannedImage => r !== null)
  images.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
  unreadable.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))

  const folderSplits = SPLIT_NAMES.filter((s) => splitDirs.has(s))
  const classes: ClassCounts[] = []
  for (const name of [...classFolders.keys()].sort()) {
    const counts: ClassCounts['counts'] = {}
    if (layout === 'flat') counts.all = 0
    for (const s of folderSplits) counts[s] = 0
    classes.push({ name, counts, total: 0 })
  }
  const byName = new Map(classes.map((c) => [c.name, c]))
  for (const img of images) {
    const c = byName.get(img.className)
    if (!c) continue
    const key = img.folderSplit ?? 'all'
    c.counts[key] = (c.counts[key] ?? 0) + 1
    c.total++
  }

  const empty = classes.filter((c) => c.total === 0)
  if (empty.length > 0) {
    const first = empty[0] as ClassCounts
    const folders = classFolders.get(first.name) ?? [first.name]
    const bad = unreadable.filter((u) => folders.some((f) => u.path.startsWith(`${f}/`)))
    const detail = bad.length > 0 ? ` (${bad.length} unreadable: ${bad.slice(0, 3).map((u) => `${u.path}: ${u.reason}`).join('; ')}${bad.length > 3 ? '; ...' : ''})` : ''
    const others = empty.length > 1 ? `; also empty: ${empty.slice(1).map((c) => `"${c.name}"`).join(', ')}` : ''
    throw new ProjectError('EMPTY_CLASS', `class "${first.name}" has no readable images in ${folders.join(', ')}${detail}${others}`, join(absRoot, folders[0] ?? first.name))
  }
  if (classes.length === 1) {
    const only = classes[0] as ClassCounts
    throw new ProjectError('ONE_CLASS', `only one class ("${only.name}") in ${absRoot}: a classifier needs at least two class folders`, absRoot)
  }

  const leakage: LeakageGroup[] = []
  const duplicates: DuplicateGroup[] = []
  for (const group of groupIdentical(images)) {
    const splits = [...new Set(group.map((g) => g.folderSplit))]
    if (layout === 'presplit' && splits.length > 1) {
      leakage.push({ hash: group[0]?.hash ?? '', paths: group.map((g) => g.path), splits: SPLIT_NAMES.filter((s) => splits.includes(s)) })
    } else {
      duplicates.push({ hash: group[0]?.hash ?? '', paths: group.map((g) => g.path) })
    }
  }

  return {
    root: absRoot,
    layout,
    folderSplits,
    classes,
    images,
    unreadable,
    leakage,
    duplicates,
    skippedCount: state.skippedCount,
    skippedExamples: state.skippedExamples,
    reused,
    read,
    seconds: (performance.now() - started) / 1000
  }
}

/** The records a later scanProject({ previous }) needs, from a scan kept in memory (the store keeps the same). */
export function recordsFromScan(scan: ScanResult): Map<string, ScanFileRecord> {
  const out = new Map<string, ScanFileRecord>()
  for (const im of scan.images) {
    if (im.mtimeMs === undefined || im.ctimeMs === undefined) continue
    out.set(im.path, { bytes: im.bytes, mtimeMs: im.mtimeMs, ctimeMs: im.ctimeMs, hash: im.hash, width: im.width, height: im.height, error: null })
  }
  for (const u of scan.unreadable) {
    if (u.bytes === undefined || u.mtimeMs === undefined || u.ctimeMs === undefined) continue
    out.set(u.path, { bytes: u.bytes, mtimeMs: u.mtimeMs, ctimeMs: u.ctimeMs, hash: null, width: null, height: null, error: u.reason })
  }
  return out
}
