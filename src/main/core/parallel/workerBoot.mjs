// Starts a worker entry given as a URL in workerData.entry. A .ts entry (source runs: tsx, vitest) needs
// tsx's loader registered inside the worker first: Node 20 does not apply `--import tsx` from Worker
// execArgv to the worker's own entry (ERR_UNKNOWN_FILE_EXTENSION), so we register it here, then import.
import { workerData } from 'node:worker_threads'

const entry = workerData && workerData.entry
if (typeof entry !== 'string') throw new Error('workerBoot: workerData.entry (URL of the worker module) is missing')
if (entry.endsWith('.ts')) {
  const { register } = await import('tsx/esm/api')
  register()
}
await import(entry)
