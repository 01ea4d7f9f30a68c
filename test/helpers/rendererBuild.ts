// The end-to-end tests serve the real build in out/. Several test files run at once (vitest forks), and each used
// to run `electron-vite build` into the same out/ folder: one file's build could replace the page another was
// serving. Here the build happens at most once per source change, under a lock every test process respects.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const REPO = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..')
const OUT = join(REPO, 'out')
const STAMP = join(OUT, '.test-build-stamp')
const LOCK = join(REPO, '.test-build-lock')
const SOURCES = ['src', 'electron.vite.config.ts', 'package.json']

export const RENDERER_DIR = join(OUT, 'renderer')

/** Builds out/ (main, preload, renderer) unless it is newer than every source file; returns out/renderer. */
export function ensureBuilt(): string {
  if (isFresh()) return RENDERER_DIR
  withLock(() => {
    if (isFresh()) return // another test process built it while we waited
    const newest = newestSourceMtime()
    execFileSync('npx', ['electron-vite', 'build'], { cwd: REPO, stdio: 'ignore' })
    writeFileSync(STAMP, String(newest))
  })
  return RENDERER_DIR
}

function isFresh(): boolean {
  if (!existsSync(STAMP) || !existsSync(join(RENDERER_DIR, 'index.html'))) return false
  return Number(readFileSync(STAMP, 'utf8')) >= newestSourceMtime()
}

function newestSourceMtime(): number {
  let newest = 0
  const visit = (path: string): void => {
    const st = statSync(path)
    if (st.isDirectory()) for (const name of readdirSync(path)) visit(join(path, name))
    else newest = Math.max(newest, st.mtimeMs)
  }
  for (const s of SOURCES) if (existsSync(join(REPO, s))) visit(join(REPO, s))
  return newest
}

function withLock(fn: () => void): void {
  const deadline = Date.now() + 10 * 60_000
  for (;;) {
    try {
      mkdirSync(LOCK)
      writeFileSync(join(LOCK, 'pid'), String(process.pid))
      break
    } catch {
      if (holderIsGone()) rmSync(LOCK, { recursive: true, force: true })
      else if (Date.now() > deadline) throw new Error(`timed out waiting for the test build lock ${LOCK}`)
      else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 250)
    }
  }
  try {
    fn()
  } finally {
    rmSync(LOCK, { recursive: true, force: true })
  }
}

function holderIsGone(): boolean {
  try {
    const pid = Number(readFileSync(join(LOCK, 'pid'), 'utf8'))
    if (!pid) return false // being created right now
    process.kill(pid, 0)
    return false
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH'
  }
}
