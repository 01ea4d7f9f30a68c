// An export folder is written whole or not at all: everything goes into a temporary sibling folder, which is
// renamed into place only after the checks passed. A previous export is replaced only when asked (force).
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'
import { META_FILE } from './meta'
import { pidLiveness } from '../store/runOwner'

/** The temporary sibling folder an export of `dir` writes into: `.<name>.tunelab-export-<pid>-<time>`. */
function stagingName(dir: string, pid: number, time: number): string {
  return join(dirname(dir), `.${basename(dir)}.tunelab-export-${pid}-${time}`)
}

/**
 * Removes the temporary folders exports of `dir` left behind when their process died (or, with `endedPid`, when
 * that process's export is known to have ended without finishing: its worker thread was lost). Returns them.
 */
export async function removeLeftoverStaging(outDir: string, endedPid?: number): Promise<string[]> {
  const dir = resolve(outDir)
  const prefix = `.${basename(dir)}.tunelab-export-`
  const entries = await readdir(dirname(dir)).catch(() => [] as string[])
  const removed: string[] = []
  for (const name of entries) {
    if (!name.startsWith(prefix)) continue
    // Not `…-old`: that is a previous export moved aside while its replacement was renamed in; if the process died
    // in between it is the only copy, and it stays for a person to look at.
    const m = /^(\d+)-\d+$/.exec(name.slice(prefix.length))
    if (!m) continue
    const pid = Number(m[1])
    if (pid !== endedPid && (pid === process.pid || pidLiveness(pid) !== 'dead')) continue
    const path = join(dirname(dir), name)
    await rm(path, { recursive: true, force: true }).catch(() => undefined)
    removed.push(path)
  }
  return removed
}

export class ExportDestinationError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ExportDestinationError'
  }
}

/** A human reason for a file-system error code (read-only, full, no permission...). */
export function fsReason(err: unknown): string {
  const code = (err as { code?: unknown }).code
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return 'permission denied'
    case 'EROFS':
      return 'the file system is read-only'
    case 'ENOSPC':
      return 'no space left on the device (disk full)'
    case 'EDQUOT':
      return 'disk quota exceeded'
    case 'ENOTDIR':
      return 'a part of the path is a file, not a folder'
    default:
      return err instanceof Error ? err.message : String(err)
  }
}

export interface StagedExport {
  /** The final folder. */
  dir: string
  /** Where to write now. */
  staging: string
  /** Moves staging into place (replacing a previous export when forced). */
  commit(): Promise<void>
  /** Removes staging; the destination is left as it was. */
  discard(): Promise<void>
}

/**
 * Checks the destination and creates the staging folder beside it. Refuses: a file in the way, a folder
 * holding a previous export (unless force), a non-empty folder that is not a TuneLab export (even with force:
 * its files are the user's).
 */
export async function stageExport(outDir: string, force: boolean): Promise<StagedExport> {
  const dir = resolve(outDir)
  const st = await stat(dir).catch(() => null)
  let replace = false
  if (st) {
    if (!st.isDirectory()) throw new ExportDestinationError(`export: ${dir} exists and is not a folder`)
    const entries = await readdir(dir)
    if (entries.length > 0) {
      if (!entries.includes(META_FILE)) {
        throw new ExportDestinationError(
          `export: ${dir} is not empty and holds no TuneLab export (${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', …' : ''}); choose an empty or new folder`
        )
      }
      if (!force)
        throw new ExportDestinationError(
          `export: ${dir} already holds an export; to replace it, tick "Replace an earlier export" (the CLI: --force)`
        )
      replace = true
    }
  }
  const parent = dirname(dir)
  try {
    await mkdir(parent, { recursive: true })
  } catch (err) {
    throw new ExportDestinationError(`export: cannot create ${parent}: ${fsReason(err)}`)
  }
  await removeLeftoverStaging(dir)
  const staging = stagingName(dir, process.pid, Date.now())
  try {
    await mkdir(staging)
  } catch (err) {
    throw new ExportDestinationError(`export: cannot write into ${parent}: ${fsReason(err)}`)
  }
  return {
    dir,
    staging,
    async commit() {
      const old = replace || (st && (await readdir(dir).catch(() => [])).length === 0) ? `${staging}-old` : null
      try {
        if (old) await rename(dir, old)
        await rename(staging, dir)
      } catch (err) {
        if (old) await rename(old, dir).catch(() => undefined)
        throw new ExportDestinationError(`export: cannot move the finished export into ${dir}: ${fsReason(err)}`)
      }
      if (old) await rm(old, { recursive: true, force: true })
    },
    async discard() {
      await rm(staging, { recursive: true, force: true })
    }
  }
}
