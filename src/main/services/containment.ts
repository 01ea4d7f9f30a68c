// Resolves a stored relative image path to a real file that is provably inside the project root.
import { realpath, stat } from 'node:fs/promises'
import { isAbsolute, relative, resolve, sep } from 'node:path'
import { ApiError } from '@shared/contract'

function inside(root: string, path: string): boolean {
  const rel = relative(root, path)
  return rel !== '' && !rel.startsWith('..' + sep) && rel !== '..' && !isAbsolute(rel)
}

/**
 * The real path of `relPath` under `root`, following symlinks, refused ('forbidden') when the resolved file lies
 * outside the resolved root (a symlink pointing out, `..` segments) and 'not-found' when it does not exist.
 */
export async function resolveInside(root: string, relPath: string): Promise<string> {
  if (relPath.includes('\0') || isAbsolute(relPath))
    throw new ApiError('forbidden', `image path is not relative to the project: ${JSON.stringify(relPath)}`)
  const realRoot = await realpath(root).catch(() => {
    throw new ApiError('not-found', `project folder not found: ${root}`)
  })
  const candidate = resolve(realRoot, relPath)
  if (!inside(realRoot, candidate)) throw new ApiError('forbidden', `image path leaves the project folder: ${relPath}`)
  const real = await realpath(candidate).catch(() => {
    throw new ApiError('not-found', `image file not found: ${relPath}`)
  })
  if (!inside(realRoot, real))
    throw new ApiError('forbidden', `image file resolves outside the project folder: ${relPath}`)
  const st = await stat(real)
  if (!st.isFile()) throw new ApiError('not-found', `not a file: ${relPath}`)
  return real
}
