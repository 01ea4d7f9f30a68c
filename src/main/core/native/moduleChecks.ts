/**
 * One check per native module the app loads: better-sqlite3 through the binding the store will use, the oneDNN
 * addon, tfjs-node(-gpu) when installed. Each loads the real module and answers what loaded or the loader's
 * reason, with the one command that fixes it. Never throws.
 */
import Database from 'better-sqlite3'
import { existsSync, readdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { Worker } from 'node:worker_threads'
import type { ModuleCheck, StartupReport } from '@shared/contract/startupCheck'
import { loadDnnl } from './dnnl'

export type RuntimeKind = StartupReport['runtime']['kind']

/** Which better-sqlite3 addon the store opens SQLite with, and where the Electron build was looked for. */
export interface SqliteBindingChoice {
  /** The nativeBinding path (TUNELAB_SQLITE_BINDING), or null for node_modules' own build. */
  path: string | null
  /** Why this one: 'TUNELAB_SQLITE_BINDING set by you', 'native/electron-150', … */
  source: string
  /** Electron: the files looked for when none was found (said when node_modules' build then fails). */
  looked?: string[]
}

const REPORT = 'reinstall TuneLab; if this message comes back, report it with the text of this window'

function firstSentences(err: unknown, n = 2): string {
  const msg = err instanceof Error ? err.message : String(err)
  const line = msg.split('\n')[0] ?? msg
  return line
    .split(/(?<=\.) /)
    .slice(0, n)
    .join(' ')
}

export function sqliteFix(kind: RuntimeKind): string {
  if (kind === 'electron') return 'npm run native:electron'
  if (kind === 'electron-packaged') return REPORT
  return 'npm rebuild better-sqlite3'
}

/** Opens an in-memory database through the binding the store will use and asks SQLite its version. */
export function checkSqlite(kind: RuntimeKind, binding: SqliteBindingChoice, abi: string): ModuleCheck {
  const role = 'SQLite (every project database)'
  try {
    const db = new Database(':memory:', binding.path ? { nativeBinding: binding.path } : {})
    try {
      const row = db.prepare('select sqlite_version() as v').get() as { v: string }
      const from = binding.path ?? 'node_modules/better-sqlite3'
      return {
        module: 'better-sqlite3',
        role,
        status: 'ok',
        required: true,
        detail: `SQLite ${row.v} via ${from} (${binding.source})`,
        fix: null
      }
    } finally {
      db.close()
    }
  } catch (err) {
    // dlopen's message starts with the file, which the detail already names.
    const why = binding.path ? firstSentences(err).replace(`${binding.path}: `, '') : firstSentences(err)
    const missing =
      kind !== 'node' && !binding.path && binding.looked?.length
        ? `no better-sqlite3 build for Electron's ABI ${abi} (looked for ${binding.looked.join(', ')}); node_modules' copy is built for Node: `
        : binding.path
          ? `${binding.path} (${binding.source}) did not load: `
          : ''
    return {
      module: 'better-sqlite3',
      role,
      status: 'failed',
      required: true,
      detail: missing + why,
      fix: sqliteFix(kind)
    }
  }
}

function dnnlFix(kind: RuntimeKind, platform: NodeJS.Platform): string {
  if (kind === 'electron-packaged') return 'reinstall TuneLab; until then convolutions run in WebAssembly'
  if (platform === 'linux') return 'sudo apt-get install libdnnl-dev && npm run build:native'
  return 'install oneDNN, then npm run build:native'
}

/** The oneDNN addon (optional): without it the convolutions run in WebAssembly. */
export function checkDnnl(kind: RuntimeKind, env: NodeJS.ProcessEnv = process.env): ModuleCheck {
  const role = 'oneDNN convolutions (about 4x faster training; without it WebAssembly)'
  if (env['TUNELAB_NATIVE'] === '0')
    return {
      module: 'onednn',
      role,
      status: 'absent',
      required: false,
      detail: 'turned off (TUNELAB_NATIVE=0)',
      fix: null
    }
  const load = loadDnnl(env)
  if (load.addon) {
    const { version, threads } = load.addon.info()
    return {
      module: 'onednn',
      role,
      status: 'ok',
      required: false,
      detail: `oneDNN ${version}, ${threads} threads (${load.path})`,
      fix: null
    }
  }
  const notBuilt = load.reason.startsWith('not built')
  return {
    module: 'onednn',
    role,
    status: notBuilt ? 'absent' : 'failed',
    required: false,
    detail:
      kind === 'electron-packaged' && notBuilt
        ? 'not part of this build (it could not be built for this platform)'
        : load.reason,
    fix: kind === 'electron-packaged' && notBuilt ? null : dnnlFix(kind, process.platform)
  }
}

type TfjsNodePackage = '@tensorflow/tfjs-node-gpu' | '@tensorflow/tfjs-node'

/** The package's compiled binding (lib/napi-v<N>/tfjs_binding.node), newest N-API version first. */
function tfjsBindingFile(pkgDir: string): string | null {
  const lib = join(pkgDir, 'lib')
  if (!existsSync(lib)) return null
  const dirs = readdirSync(lib)
    .filter((d) => /^napi-v\d+$/.test(d) && existsSync(join(lib, d, 'tfjs_binding.node')))
    .sort((a, b) => Number(b.slice(6)) - Number(a.slice(6)))
  return dirs[0] ? join(lib, dirs[0], 'tfjs_binding.node') : null
}

/** Loads a native file in a short-lived worker thread, so a library that loads is not pinned to this thread's state. */
function loadInWorker(file: string, timeoutMs = 30_000): Promise<string | null> {
  const code = `const { parentPort, workerData } = require('node:worker_threads')
try { require(workerData); parentPort.postMessage(null) } catch (e) { parentPort.postMessage(String((e && e.message) || e)) }`
  return new Promise((resolveLoad) => {
    const worker = new Worker(code, { eval: true, workerData: file })
    const timer = setTimeout(() => {
      void worker.terminate()
      resolveLoad(`did not load within ${timeoutMs / 1000} s`)
    }, timeoutMs)
    worker.once('message', (msg: string | null) => {
      clearTimeout(timer)
      void worker.terminate()
      resolveLoad(msg)
    })
    worker.once('error', (err) => {
      clearTimeout(timer)
      resolveLoad(err.message)
    })
  })
}

/** tfjs-node(-gpu), optional: absent when not installed (npm skips it when libtensorflow cannot be downloaded). */
export async function checkTfjsNode(
  pkg: TfjsNodePackage,
  kind: RuntimeKind,
  resolveFrom: string
): Promise<ModuleCheck> {
  const role = pkg.endsWith('-gpu') ? 'TensorFlow with CUDA (the fastest backend)' : 'TensorFlow native CPU backend'
  const fix = kind === 'electron-packaged' ? null : `npm rebuild ${pkg}`
  let pkgDir: string
  try {
    pkgDir = dirname(createRequire(join(resolveFrom, 'noop.js')).resolve(`${pkg}/package.json`))
  } catch {
    return { module: pkg, role, status: 'absent', required: false, detail: 'not installed (optional)', fix: null }
  }
  const file = tfjsBindingFile(pkgDir)
  if (!file) {
    const detail = `installed in ${pkgDir} but its native part (lib/napi-v*/tfjs_binding.node) is missing: libtensorflow was not downloaded at install`
    return { module: pkg, role, status: 'failed', required: false, detail, fix }
  }
  const error = await loadInWorker(file)
  if (error === null) return { module: pkg, role, status: 'ok', required: false, detail: file, fix: null }
  return {
    module: pkg,
    role,
    status: 'failed',
    required: false,
    detail: `${file} did not load: ${firstSentences(error)}`,
    fix
  }
}
