// apply-labels: moves relabelled files into their new class folder and excluded ones into <root>/_excluded/<class>/,
// all or nothing. Check first (sources there, folders writable, no overwrite), write a journal, move, and on the
// first failure put back what was moved. `undoApplyLabels` reads the journal and puts every file back.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import type { Layout } from '@shared/domain'
import type { LabelOverride, ResolvedOverride } from './types'
import { freeName, moveBack, moveNoOverwrite, probeWritable } from './folderMoves'

/** Where excluded files go; scans ignore this folder. */
export const EXCLUDED_DIR_NAME = '_excluded'

export interface PlannedMove {
  /** Relative paths, forward slashes. */
  from: string
  to: string
  reason: 'relabel' | 'exclude'
  renamed: boolean
}

export interface ApplyPlan {
  moves: PlannedMove[]
  skipped: { relPath: string; reason: string }[]
}

export interface ApplyResult {
  moved: number
  journal: string
  moves: PlannedMove[]
}

interface Journal {
  root: string
  createdAt: string
  status: 'in-progress' | 'applied' | 'rolled-back' | 'undone'
  moves: PlannedMove[]
  /** Folders this apply created (relative), removed again by undo/rollback when empty. */
  createdDirs: string[]
  error?: string
}

export class ApplyLabelsError extends Error {
  readonly code: string
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'ApplyLabelsError'
    this.code = 'LABELS'
  }
}

function listSome(items: readonly string[], max = 5): string {
  const shown = items.slice(0, max).join(', ')
  return items.length > max ? `${shown} (and ${items.length - max} more)` : shown
}

/** <class folder parts> and the rest of a path: flat `cls/rest`, presplit `split/cls/rest`. */
function splitPath(relPath: string, layout: Layout): { prefix: string[]; cls: string; rest: string[] } {
  const parts = relPath.split('/')
  const at = layout === 'presplit' ? 1 : 0
  return { prefix: parts.slice(0, at), cls: parts[at] ?? '', rest: parts.slice(at + 1) }
}

/** What apply would move, in path order. Nothing on disk changes. */
export function planApplyLabels(
  root: string,
  layout: Layout,
  resolved: Iterable<ResolvedOverride>,
  unmatched: readonly LabelOverride[] = []
): ApplyPlan {
  const moves: PlannedMove[] = []
  const skipped: ApplyPlan['skipped'] = unmatched.map((o) => ({
    relPath: o.relPath,
    reason: 'file not found in the last scan (moved, deleted or changed): rescan'
  }))
  const taken = new Set<string>()
  const sorted = [...resolved].sort((a, b) => (a.relPath < b.relPath ? -1 : 1))
  for (const o of sorted) {
    const { prefix, cls, rest } = splitPath(o.relPath, layout)
    let target: string[]
    if (o.excluded) target = [EXCLUDED_DIR_NAME, cls, ...prefix, ...rest]
    else if (o.newClass !== null && o.newClass !== cls) target = [...prefix, o.newClass, ...rest]
    else {
      skipped.push({ relPath: o.relPath, reason: `already in folder '${cls}'` })
      continue
    }
    const free = freeName(join(root, ...target), taken)
    taken.add(free.path)
    const to = free.path
      .slice(root.length + 1)
      .split(/[\\/]/)
      .join('/')
    moves.push({ from: o.relPath, to, reason: o.excluded ? 'exclude' : 'relabel', renamed: free.renamed })
  }
  return { moves, skipped }
}

function writeJournal(path: string, journal: Journal): void {
  const tmp = `${path}.tmp`
  writeFileSync(tmp, JSON.stringify(journal, null, 2))
  renameSync(tmp, path)
}

/** Fails (changing nothing) unless every source exists, no destination exists, and every folder involved is writable. */
function check(root: string, pairs: readonly { from: string; to: string }[]): void {
  const missing = pairs.filter((m) => !existsSync(join(root, m.from))).map((m) => m.from)
  if (missing.length > 0)
    throw new ApplyLabelsError(
      `${missing.length} file(s) to move are not there any more (rescan first): ${listSome(missing)}`
    )
  const clash = pairs.filter((m) => existsSync(join(root, m.to))).map((m) => m.to)
  if (clash.length > 0) throw new ApplyLabelsError(`would overwrite ${listSome(clash)}: nothing was moved`)
  const dirs = new Set(pairs.flatMap((m) => [dirname(join(root, m.from)), dirname(join(root, m.to))]))
  const blocked = [...dirs].map(probeWritable).flatMap((p) => (p.ok ? [] : [`${p.dir} (${p.reason})`]))
  if (blocked.length > 0) {
    throw new ApplyLabelsError(
      `cannot write in ${listSome([...new Set(blocked)])}: the folder is read-only or not yours; nothing was moved`
    )
  }
}

/** Creates the parent folders of `abs`, remembering the ones it made (outermost first). */
function ensureDir(root: string, abs: string, created: string[]): void {
  const missing: string[] = []
  for (let d = dirname(abs); !existsSync(d); d = dirname(d)) missing.unshift(d)
  for (const d of missing) {
    mkdirSync(d)
    created.push(
      d
        .slice(root.length + 1)
        .split(/[\\/]/)
        .join('/')
    )
  }
}

/** Removes the folders an apply created, innermost first, when empty (never anything else). */
function removeCreatedDirs(root: string, created: readonly string[]): void {
  for (const rel of [...created].reverse()) {
    const abs = join(root, rel)
    try {
      if (existsSync(abs) && readdirSync(abs).length === 0) rmdirSync(abs)
    } catch {
      // A folder we cannot remove stays; it is empty and harmless.
    }
  }
}

/** Moves each pair; on the first failure puts back the ones already moved (newest first) and rethrows. */
function moveAll(
  root: string,
  pairs: readonly { from: string; to: string }[],
  created: string[],
  onProgress?: (done: number, total: number) => void
): void {
  const done: { from: string; to: string }[] = []
  try {
    for (const m of pairs) {
      const to = join(root, m.to)
      ensureDir(root, to, created)
      moveNoOverwrite(join(root, m.from), to)
      done.push(m)
      onProgress?.(done.length, pairs.length)
    }
  } catch (err) {
    const stuck: string[] = []
    for (const m of done.reverse()) {
      try {
        moveBack(join(root, m.to), join(root, m.from))
      } catch (e) {
        stuck.push(`${m.to} (${(e as Error).message})`)
      }
    }
    removeCreatedDirs(root, created)
    const failed = pairs[done.length]
    const why = `moving ${failed?.from ?? '?'} to ${failed?.to ?? '?'} failed: ${(err as Error).message}`
    if (stuck.length > 0)
      throw new ApplyLabelsError(`${why}; these could not be put back: ${listSome(stuck)}`, { cause: err })
    throw new ApplyLabelsError(`${why}; the ${done.length} file(s) moved before were put back`, { cause: err })
  }
}

function journalDir(stateDir: string): string {
  return join(stateDir, 'apply-labels')
}

/** Applies a plan (from planApplyLabels) to the folder: all moves or none. The journal goes to <stateDir>/apply-labels/. */
export function applyLabels(
  root: string,
  plan: ApplyPlan,
  stateDir: string,
  onProgress?: (done: number, total: number) => void
): ApplyResult {
  if (plan.moves.length === 0)
    throw new ApplyLabelsError('nothing to apply: no relabelled or excluded image needs moving')
  check(root, plan.moves)
  const dir = journalDir(stateDir)
  mkdirSync(dir, { recursive: true })
  const createdAt = new Date().toISOString()
  const path = join(dir, `apply-${createdAt.replace(/[:.]/g, '-')}.json`)
  const journal: Journal = { root, createdAt, status: 'in-progress', moves: plan.moves, createdDirs: [] }
  writeJournal(path, journal)
  try {
    moveAll(root, plan.moves, journal.createdDirs, onProgress)
  } catch (err) {
    writeJournal(path, { ...journal, status: 'rolled-back', error: (err as Error).message })
    throw err
  }
  writeJournal(path, { ...journal, status: 'applied' })
  return { moved: plan.moves.length, journal: path, moves: plan.moves }
}

/** The newest journal that still has files to put back, or null. */
function lastApplied(stateDir: string): { path: string; journal: Journal } | null {
  const dir = journalDir(stateDir)
  if (!existsSync(dir)) return null
  const names = readdirSync(dir)
    .filter((n) => /^apply-.*\.json$/.test(n))
    .sort()
    .reverse()
  for (const n of names) {
    const path = join(dir, n)
    const journal = JSON.parse(readFileSync(path, 'utf8')) as Journal
    if (journal.status === 'applied' || journal.status === 'in-progress') return { path, journal }
  }
  return null
}

/** The apply "undo apply" would undo: how many files it moved and when; null when there is none. */
export function lastApplySummary(stateDir: string): { files: number; at: string } | null {
  const last = lastApplied(stateDir)
  return last ? { files: last.journal.moves.length, at: last.journal.createdAt } : null
}

/** Puts back every file the last apply moved (all or nothing), and removes the folders it created if empty. */
export function undoApplyLabels(
  root: string,
  stateDir: string,
  onProgress?: (done: number, total: number) => void
): ApplyResult {
  const last = lastApplied(stateDir)
  if (!last) throw new ApplyLabelsError('nothing to undo: no apply-labels has moved files in this project')
  const { path, journal } = last
  // A journal left 'in-progress' by a crash: only the moves that happened are put back.
  const back = journal.moves
    .filter((m) => journal.status === 'applied' || (existsSync(join(root, m.to)) && !existsSync(join(root, m.from))))
    .map((m) => ({ from: m.to, to: m.from }))
    .reverse()
  check(root, back)
  const created: string[] = []
  moveAll(root, back, created, onProgress)
  removeCreatedDirs(root, [...journal.createdDirs, ...created])
  writeJournal(path, { ...journal, status: 'undone' })
  return { moved: back.length, journal: path, moves: journal.moves }
}
