// Who owns a running run, and whether that owner is still alive.
//
// The rule applied when a store is opened (ProjectStore.open -> recoverRuns): a run still marked
// 'running' is marked 'interrupted' (ended_at = now) when its owner is certainly gone:
//   - no owner was recorded; or
//   - the owner pid is this process's pid but the token differs (an earlier process that had our pid,
//     typical of containers where the app is always pid 1); or
//   - the owner ran on this host and process.kill(pid, 0) throws ESRCH (no such process); or
//   - (Linux) a process with that pid exists but started at another time than the owner (pid reused).
// It is left 'running' when the owner may be alive: this very process (same pid and token), a live pid
// (or EPERM: alive, other user), or another host (a database on a shared drive, where we cannot check),
// unless its heartbeat is older than the optional staleHeartbeatMs.
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { hostname } from 'node:os'
import type { RunOwner } from './rows'

// Shared by the worker threads of this process (they copy process.env when started), so a run row begun on the
// main thread and trained in a worker has one owner; a later process with the same pid gets a new token.
const PROCESS_TOKEN = (process.env['TUNELAB_PROCESS_TOKEN'] ??= randomUUID())

/** Start time of a process as an opaque string (Linux only: clock ticks since boot); null if unknown. */
export function processStartIdentity(pid: number): string | null {
  if (process.platform !== 'linux') return null
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The command name (field 2) is in parentheses and may contain spaces; fields after it are plain.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return fields[19] ?? null // field 22 (starttime), counted from field 3 (state)
  } catch {
    return null
  }
}

let selfOwner: RunOwner | null = null

export function currentOwner(): RunOwner {
  selfOwner ??= { pid: process.pid, host: hostname(), token: PROCESS_TOKEN, start: processStartIdentity(process.pid) }
  return selfOwner
}

export type Liveness = 'alive' | 'dead'

export function pidLiveness(pid: number): Liveness {
  try {
    process.kill(pid, 0)
    return 'alive'
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ESRCH') return 'dead'
    // EPERM: the process exists but belongs to someone else.
    return 'alive'
  }
}

export interface OwnerVerdict {
  interrupted: boolean
  reason: string
}

export function judgeOwner(
  owner: RunOwner | null,
  heartbeatAt: string | null,
  opts: { staleHeartbeatMs?: number; now?: number } = {}
): OwnerVerdict {
  if (!owner) return { interrupted: true, reason: 'no owner process was recorded' }
  const self = currentOwner()
  if (owner.pid === self.pid && owner.host === self.host) {
    return owner.token === self.token
      ? { interrupted: false, reason: 'owned by this process' }
      : { interrupted: true, reason: `owner was an earlier process with the same pid ${owner.pid}` }
  }
  if (opts.staleHeartbeatMs !== undefined && heartbeatAt) {
    const age = (opts.now ?? Date.now()) - Date.parse(heartbeatAt)
    if (age > opts.staleHeartbeatMs) {
      return { interrupted: true, reason: `no heartbeat for ${Math.round(age / 1000)} s` }
    }
  }
  if (owner.host !== self.host) {
    return { interrupted: false, reason: `owned by a process on another host (${owner.host}); cannot check it` }
  }
  if (pidLiveness(owner.pid) === 'dead') return { interrupted: true, reason: `owner process ${owner.pid} is gone` }
  if (owner.start !== null) {
    const start = processStartIdentity(owner.pid)
    if (start !== null && start !== owner.start) {
      return { interrupted: true, reason: `pid ${owner.pid} now belongs to another process` }
    }
  }
  return { interrupted: false, reason: `owner process ${owner.pid} is alive` }
}
