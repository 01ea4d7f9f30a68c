// The one way TuneLab starts a worker thread (forward pool, decode thread, training, prediction), from a built
// .js entry or, under tsx/vitest, from a .ts source entry.
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { Worker, type WorkerOptions } from 'node:worker_threads'

/**
 * The built entry when it exists (bundled app), else the .ts source (tsx, vitest). Callers write both as literal
 * `new URL('./x.js', import.meta.url)` so the bundler sees (and test/e2e/bundle.test.ts checks) the worker chunk.
 */
export function workerEntry(js: URL, ts: URL): URL {
  return existsSync(fileURLToPath(js)) ? js : ts
}

/**
 * Starts `entry` (URL or path) in a worker thread. A .ts entry is imported by a tiny inline module that
 * registers tsx's loader inside the worker first: Node does not apply `--import tsx` from the parent to a
 * worker's own entry (ERR_UNKNOWN_FILE_EXTENSION). workerData and the other options pass through unchanged.
 */
export function spawnWorker(entry: URL | string, options: WorkerOptions = {}): Worker {
  const url = typeof entry === 'string' ? (entry.includes('://') ? new URL(entry) : pathToFileURL(entry)) : entry
  if (!url.pathname.endsWith('.ts')) return new Worker(url, options)
  const tsxApi = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api')).href.replace(/\.cjs$/, '.mjs')
  const boot = `import { register } from ${JSON.stringify(tsxApi)}; register(); await import(${JSON.stringify(url.href)})`
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(boot)}`), options)
}
