// An export folder is written whole or not at all: everything goes into a temporary sibling folder, which is
// renamed into place only after the checks passed. A previous export is replaced only when asked (force).
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'
import { META_FILE } from './meta'

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
          `export: ${dir} already holds an export; use --force (the dialog's "Replace") to replace it`
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
  const staging = join(parent, `.${basename(dir)}.tunelab-export-${process.pid}-${Date.now()}`)
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
