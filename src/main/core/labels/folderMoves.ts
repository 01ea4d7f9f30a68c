// The file operations of apply-labels: a writability probe, a move that never overwrites, and the suffix
// given to a name that is taken.
import {
  copyFileSync,
  constants,
  existsSync,
  linkSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync
} from 'node:fs'
import { randomUUID } from 'node:crypto'
import { basename, dirname, extname, join } from 'node:path'

/** Whether a file can be created in `dir` (or, if it does not exist yet, in its nearest existing ancestor). Real I/O. */
export function probeWritable(dir: string): { ok: true } | { ok: false; dir: string; reason: string } {
  let d = dir
  while (!existsSync(d) && dirname(d) !== d) d = dirname(d)
  const probe = join(d, `.tunelab-probe-${process.pid}-${randomUUID()}`)
  try {
    writeFileSync(probe, '', { flag: 'wx' })
    rmSync(probe)
    return { ok: true }
  } catch (err) {
    return { ok: false, dir: d, reason: (err as NodeJS.ErrnoException).code ?? (err as Error).message }
  }
}

/** `name (1).ext`, `name (2).ext`, … : the first name free on disk and not in `taken`. */
export function freeName(absPath: string, taken: ReadonlySet<string>): { path: string; renamed: boolean } {
  if (!existsSync(absPath) && !taken.has(absPath)) return { path: absPath, renamed: false }
  const ext = extname(absPath)
  const stem = basename(absPath, ext)
  for (let i = 1; ; i++) {
    const candidate = join(dirname(absPath), `${stem} (${i})${ext}`)
    if (!existsSync(candidate) && !taken.has(candidate)) return { path: candidate, renamed: true }
  }
}

/**
 * Moves a file without ever replacing one: a hard link to the new name (fails if it exists), then the old name
 * goes. Where hard links are not possible (another device, a file system without them) it copies exclusively.
 */
export function moveNoOverwrite(from: string, to: string): void {
  if (!statSync(from).isFile()) throw new Error(`${from} is not a file`)
  try {
    linkSync(from, to)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw err
    copyFileSync(from, to, constants.COPYFILE_EXCL)
  }
  try {
    unlinkSync(from)
  } catch (err) {
    // The old name must stay the only one: take the new one back.
    unlinkSync(to)
    throw err
  }
}

/** rename(2) when the destination is free; used only to put a file back where this process just took it from. */
export function moveBack(from: string, to: string): void {
  if (existsSync(to)) throw new Error(`cannot put ${from} back: ${to} exists`)
  renameSync(from, to)
}
