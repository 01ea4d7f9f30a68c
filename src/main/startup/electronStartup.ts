// Electron only: which better-sqlite3 build SQLite opens with, and the start-up check run with it before the window
// opens. The check itself (core/native/startupCheck.ts) works without Electron.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import {
  describeStartupReport,
  runStartupCheck,
  type RuntimeKind,
  type SqliteBindingChoice
} from '@core/native/startupCheck'
import type { StartupReport } from '@shared/contract/startupCheck'

export interface ElectronPaths {
  /** app.getAppPath(): the repository in development, resources/app(.asar) when packaged. */
  appPath: string
  /** process.resourcesPath: where the installer puts native/electron-<abi>/ (extraResources). */
  resourcesPath: string | undefined
  packaged: boolean
  /** process.versions.modules of Electron's Node. */
  abi: string
}

/**
 * scripts/electron-native.mjs puts better-sqlite3 for Electron's ABI into native/electron-<abi>/ (packaged:
 * resources/native/electron-<abi>/). The chosen file goes to TUNELAB_SQLITE_BINDING, which the store reads (and the
 * training worker threads inherit). A value set by the user wins.
 */
export function chooseSqliteBinding(p: ElectronPaths, env: NodeJS.ProcessEnv = process.env): SqliteBindingChoice {
  const own = env['TUNELAB_SQLITE_BINDING']
  if (own) return { path: own, source: 'TUNELAB_SQLITE_BINDING set by you' }
  const rel = join('native', `electron-${p.abi}`, 'better_sqlite3.node')
  const looked = [...(p.resourcesPath && p.packaged ? [join(p.resourcesPath, rel)] : []), join(p.appPath, rel)]
  const found = looked.find((f) => existsSync(f))
  if (!found) return { path: null, source: "node_modules' build", looked }
  env['TUNELAB_SQLITE_BINDING'] = found
  return { path: found, source: `native/electron-${p.abi}` }
}

/** Runs the check with Electron's binding and logs it: every module, the backend, why the better ones will not load. */
export async function electronStartupCheck(
  p: ElectronPaths,
  log: (line: string) => void = console.log,
  env: NodeJS.ProcessEnv = process.env
): Promise<StartupReport> {
  const kind: RuntimeKind = p.packaged ? 'electron-packaged' : 'electron'
  const report = await runStartupCheck({ kind, sqlite: chooseSqliteBinding(p, env), resolveFrom: p.appPath, env })
  for (const line of describeStartupReport(report)) log(`tunelab: start-up check: ${line}`)
  return report
}
