// Folders no client may open as a project: opening one would create a state folder (.tunelab) in it, and as root
// that write succeeds. A project is a folder of the user's images, never a filesystem root or a system folder.
import { dirname, resolve, sep } from 'node:path'

const SYSTEM_TOP = ['bin', 'boot', 'dev', 'etc', 'lib', 'lib32', 'lib64', 'proc', 'run', 'sbin', 'sys', 'usr', 'var']
/** Whole trees that are kernel or device views, never image folders. */
const SYSTEM_TREES = ['/proc', '/sys', '/dev']

/** Why `path` cannot be a project, or null when it may be one. */
export function systemFolderReason(path: string, platform: NodeJS.Platform = process.platform): string | null {
  const abs = resolve(path)
  if (dirname(abs) === abs) return `${abs} is the root of a file system, not a project folder`
  if (platform === 'win32') return null
  if (SYSTEM_TREES.some((t) => abs === t || abs.startsWith(t + sep)))
    return `${abs} is a system folder, not a project folder`
  if (dirname(abs) === sep && SYSTEM_TOP.includes(abs.slice(1)))
    return `${abs} is a system folder, not a project folder`
  return null
}
