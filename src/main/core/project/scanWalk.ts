// Scan step 1, walk: finds the layout (flat or pre-split), the class folders and the image files under them,
// and counts what is skipped. Reads directory entries only, never file contents.
import type { Dirent } from 'node:fs'
import { readdir, realpath, stat } from 'node:fs/promises'
import { extname, join, relative, isAbsolute } from 'node:path'
import type { SplitName, UnreadableFile } from '@shared/domain'
import { SPLIT_NAMES } from '@shared/domain'
import { IMAGE_EXTENSIONS } from '../pipeline/decode'
import { noClassesError, oneClassError, ProjectError } from './errors'
import { EXCLUDED_DIR_NAME } from '../labels/applyLabels'

/** Folder names (lower-case) that mark a pre-split layout, and the split each stands for. */
const SPLIT_DIRS: Record<string, SplitName> = {
  train: 'train',
  validation: 'validation',
  val: 'validation',
  test: 'test'
}

const MAX_SKIPPED_EXAMPLES = 20

export interface Candidate {
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
  /** The project folder's real path: symbolic links resolving outside it are not followed. */
  rootReal: string
  /** Links leaving the project and folders that cannot be listed: listed, never read, never fatal. */
  refused: UnreadableFile[]
}

export const LINK_OUTSIDE_REASON = 'symbolic link to a place outside the project folder (not followed)'

function inside(rootReal: string, real: string): boolean {
  const rel = relative(rootReal, real)
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel))
}

/** Whether a symbolic link may be followed: only when it resolves inside the project (else it is listed as refused). */
async function followable(abs: string, rel: string, state: WalkState): Promise<boolean> {
  let real: string
  try {
    real = await realpath(abs)
  } catch {
    return true // a dangling link: the stat that follows finds nothing and it is left out as before
  }
  if (inside(state.rootReal, real)) return true
  state.refused.push({ path: rel, reason: LINK_OUTSIDE_REASON })
  return false
}

/** Collects image candidates under a class folder, recursing into sub-folders (as Keras does). */
async function walkClass(
  absDir: string,
  relDir: string,
  className: string,
  folderSplit: SplitName | null,
  state: WalkState,
  out: Candidate[]
): Promise<void> {
  const real = await realpath(absDir)
  if (!inside(state.rootReal, real)) {
    state.refused.push({ path: relDir, reason: LINK_OUTSIDE_REASON })
    return
  }
  if (state.visited.has(real)) return // symlink loop or the same folder linked twice
  state.visited.add(real)
  let entries: Dirent[]
  try {
    entries = await readdir(absDir, { withFileTypes: true })
  } catch (err) {
    const e = err as NodeJS.ErrnoException
    state.refused.push({
      path: relDir,
      reason: `folder cannot be read (${e.code ?? 'error'}: ${e.message.replace(/^[A-Z]+: /, '')})`
    })
    return
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  for (const d of entries) {
    if (isHidden(d.name)) continue
    const abs = join(absDir, d.name)
    const rel = `${relDir}/${d.name}`
    if (d.isSymbolicLink() && !(await followable(abs, rel, state))) continue
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
    if (state.skippedExamples.length < MAX_SKIPPED_EXAMPLES)
      state.skippedExamples.push(relDir === '' ? d.name : `${relDir}/${d.name}`)
  }
}

export interface Layout {
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
      throw new ProjectError(
        'MIXED_LAYOUT',
        `both "${previous}" and "${name}" are present in ${root}; keep only one folder for the ${split} split`,
        join(root, name)
      )
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

export interface Walk extends Layout, Omit<WalkState, 'visited' | 'rootReal'> {
  candidates: Candidate[]
  /** Every class folder found, with its relative paths, to name empty ones. */
  classFolders: Map<string, string[]>
}

function classesPlace(absRoot: string, { layout, splitDirs }: Layout): string {
  return layout === 'flat' ? absRoot : [...splitDirs.values()].map((d) => join(absRoot, d)).join(', ')
}

/**
 * The walk's checks that need only the top folders (layout, at least two classes): lets opening a folder refuse
 * one that is no project before anything is stored for it.
 */
export async function checkProjectFolder(absRoot: string, stateDirName: string): Promise<void> {
  const topDirs = (await listDirs(absRoot, stateDirName)).filter((d) => d !== EXCLUDED_DIR_NAME)
  const layout = await detectLayout(absRoot, topDirs)
  const inSplits = await Promise.all(
    [...layout.splitDirs.values()].map((d) => listDirs(join(absRoot, d), stateDirName))
  )
  const classes = [...new Set(layout.layout === 'flat' ? topDirs : inSplits.flat())]
  if (classes.length === 0) throw noClassesError(classesPlace(absRoot, layout), absRoot)
  if (classes.length === 1) throw oneClassError(classes[0] as string, absRoot)
}

/** Lists the image candidates of the project at `absRoot` (absolute, an existing folder). */
export async function walkProject(absRoot: string, stateDirName: string): Promise<Walk> {
  // apply-labels puts excluded images in <root>/_excluded/: they are no longer part of the project.
  const topDirs = (await listDirs(absRoot, stateDirName)).filter((d) => d !== EXCLUDED_DIR_NAME)
  const { layout, splitDirs } = await detectLayout(absRoot, topDirs)

  const state: WalkState = {
    skippedCount: 0,
    skippedExamples: [],
    visited: new Set(),
    rootReal: await realpath(absRoot),
    refused: []
  }
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
      if (!(await followable(join(absRoot, cls), cls, state))) continue
      addClassFolder(cls, cls)
      await walkClass(join(absRoot, cls), cls, cls, null, state, candidates)
    }
  } else {
    for (const split of SPLIT_NAMES) {
      const dir = splitDirs.get(split)
      if (dir === undefined) continue
      await skipLooseFiles(join(absRoot, dir), dir, state)
      for (const cls of await listDirs(join(absRoot, dir), stateDirName)) {
        if (!(await followable(join(absRoot, dir, cls), `${dir}/${cls}`, state))) continue
        addClassFolder(cls, `${dir}/${cls}`)
        await walkClass(join(absRoot, dir, cls), `${dir}/${cls}`, cls, split, state, candidates)
      }
    }
  }
  if (classFolders.size === 0) throw noClassesError(classesPlace(absRoot, { layout, splitDirs }), absRoot)
  return {
    layout,
    splitDirs,
    candidates,
    classFolders,
    skippedCount: state.skippedCount,
    skippedExamples: state.skippedExamples,
    refused: state.refused
  }
}
