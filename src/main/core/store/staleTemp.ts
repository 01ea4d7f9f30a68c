// Temporary files a killed process left in a project's state folder (a cache entry or model being written when
// the process died, phase 2's activation folder). Each name carries its writer's pid: removed when that process is
// gone (a file also after a day).
import { readdirSync, rmSync, statSync, unlinkSync } from 'node:fs'
import { join } from 'node:path'
import { ACTIVATION_DIR_PREFIX } from '../training/activationCache'
import { pidLiveness } from './runOwner'

/** `<name>.<pid>.tmp`, `<name>.<pid>.<hex>.tmp` (cache writers) and `<name>.tmp-<pid>-<time>` (model writer). */
const TEMP_NAME = /\.(\d+)(?:\.[0-9a-f]+)?\.tmp$|\.tmp-(\d+)-\d+$/
/** Phase 2's activation folder: `tunelab-activations-<pid>-<random>`. */
const TEMP_DIR_NAME = new RegExp(`^${ACTIVATION_DIR_PREFIX}(\\d+)-`)
const MAX_AGE_MS = 24 * 3600 * 1000

export function removeStaleTempFiles(dirs: readonly string[], now = Date.now()): string[] {
  const removed: string[] = []
  for (const dir of dirs) {
    let entries
    try {
      entries = readdirSync(dir, { recursive: true, withFileTypes: true })
    } catch {
      continue
    }
    for (const e of entries) {
      const m = e.isFile() ? TEMP_NAME.exec(e.name) : e.isDirectory() ? TEMP_DIR_NAME.exec(e.name) : null
      if (!m) continue
      const path = join(e.parentPath, e.name)
      const pid = Number(m[1] ?? m[2])
      try {
        // A folder's time does not move while its run reads it, so only a dead writer frees it.
        const old = !e.isDirectory() && now - statSync(path).mtimeMs > MAX_AGE_MS
        if (pid !== process.pid && (old || pidLiveness(pid) === 'dead')) {
          if (e.isDirectory()) rmSync(path, { recursive: true })
          else unlinkSync(path)
          removed.push(path)
        }
      } catch {
        // gone meanwhile, or not ours to remove: leave it
      }
    }
  }
  return removed
}
