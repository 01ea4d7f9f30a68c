// What a killed run leaves in the state folder is swept on the next open: temp files and phase 2's activation
// folders of dead (or day-old) writers; a live writer's are left alone.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { removeStaleTempFiles } from '@core/store/staleTemp'
import { createActivationStore } from '@core/training/activationCache'
import { tempDir } from '@test/helpers/synthetic'

const tmp = tempDir('tunelab-stale-')
afterAll(() => tmp.cleanup())

/** The pid of a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' })
  return Number(r.stdout)
}

describe('removeStaleTempFiles', () => {
  it("removes a dead writer's activation folder and temp file, keeps a live one's (even a day old) and this process's own", () => {
    const cache = join(tmp.dir, 'cache')
    const features = join(cache, 'features')
    mkdirSync(features, { recursive: true })
    const dead = deadPid()
    const live = process.ppid
    const deadDir = join(features, `tunelab-activations-${dead}-AbC123`)
    const liveDir = join(features, `tunelab-activations-${live}-XyZ789`)
    const oldLiveDir = join(features, `tunelab-activations-${live}-OlD000`)
    for (const d of [deadDir, liveDir, oldLiveDir]) {
      mkdirSync(d)
      writeFileSync(join(d, 'cut-0.f32'), Buffer.alloc(64))
    }
    const twoDaysAgo = new Date(Date.now() - 48 * 3600 * 1000)
    utimesSync(oldLiveDir, twoDaysAgo, twoDaysAgo)
    const deadFile = join(features, `x.f32.${dead}.tmp`)
    writeFileSync(deadFile, 'partial')
    const own = createActivationStore(4, [8], 0, features)
    expect(own.where).toBe('disk')
    try {
      const removed = removeStaleTempFiles([cache])
      expect(removed.sort()).toEqual([deadDir, deadFile].sort())
      expect(existsSync(deadDir) || existsSync(deadFile)).toBe(false)
      expect(existsSync(liveDir) && existsSync(oldLiveDir)).toBe(true)
      // The store's own folder carries this process's pid, so a later run can sweep it after a crash.
      expect(readdirSync(features).filter((n) => n.startsWith(`tunelab-activations-${process.pid}-`))).toHaveLength(1)
    } finally {
      own.dispose()
    }
  })
})
