/**
 * The start-up check: before the first project opens, load every native module the app needs or can use, in the
 * process that will use it (Electron's main process with Electron's ABI, or Node in serve mode). A required module
 * that fails makes the window show the report instead of the app; the report also says which TF.js backend
 * training will start with and why the better ones will not load.
 */
import type { ModuleCheck, StartupReport } from '@shared/contract/startupCheck'
import { checkDnnl, checkSqlite, checkTfjsNode, type RuntimeKind, type SqliteBindingChoice } from './moduleChecks'

export type { RuntimeKind, SqliteBindingChoice } from './moduleChecks'

export interface StartupCheckOptions {
  kind: RuntimeKind
  sqlite: SqliteBindingChoice
  /** Where tfjs-node(-gpu) are resolved from (the app's folder). Default: the working directory. */
  resolveFrom?: string
  env?: NodeJS.ProcessEnv
}

/** Best first, as core/tf/backend.ts tries them: the native TensorFlow packages, then wasm with or without oneDNN. */
export function expectedBackend(checks: ModuleCheck[]): StartupReport['backend'] {
  const skipped: { name: string; reason: string }[] = []
  const byModule = new Map(checks.map((c) => [c.module, c]))
  for (const [name, module] of [
    ['tensorflow-gpu', '@tensorflow/tfjs-node-gpu'],
    ['tensorflow', '@tensorflow/tfjs-node']
  ] as const) {
    const c = byModule.get(module)
    if (c?.status === 'ok')
      return { expected: name === 'tensorflow-gpu' ? `${name} (when a CUDA device is found)` : name, skipped }
    skipped.push({ name, reason: c ? `${module}: ${c.detail}` : `${module}: not checked` })
  }
  const dnnl = byModule.get('onednn')
  return {
    expected: dnnl?.status === 'ok' ? 'wasm + oneDNN convolutions' : `wasm (oneDNN: ${dnnl?.detail ?? 'not checked'})`,
    skipped
  }
}

export async function runStartupCheck(o: StartupCheckOptions): Promise<StartupReport> {
  const env = o.env ?? process.env
  const abi = process.versions.modules
  const from = o.resolveFrom ?? process.cwd()
  const checks: ModuleCheck[] = [
    checkSqlite(o.kind, o.sqlite, abi),
    checkDnnl(o.kind, env),
    await checkTfjsNode('@tensorflow/tfjs-node-gpu', o.kind, from),
    await checkTfjsNode('@tensorflow/tfjs-node', o.kind, from)
  ]
  return {
    ok: checks.every((c) => !c.required || c.status === 'ok'),
    runtime: { kind: o.kind, abi, platform: process.platform, arch: process.arch },
    checks,
    backend: expectedBackend(checks)
  }
}

/** The report as log lines: one per module, then the backend and why the better ones will not load. */
export function describeStartupReport(r: StartupReport): string[] {
  const lines = r.checks.map(
    (c) =>
      `${c.module}: ${c.status}${c.status === 'ok' ? '' : c.required ? ' (required)' : ' (optional)'} — ${c.detail}${c.fix ? ` — fix: ${c.fix}` : ''}`
  )
  lines.push(
    `backend: ${r.backend.expected}${r.backend.skipped.length ? `; not used: ${r.backend.skipped.map((s) => `${s.name} (${s.reason})`).join('; ')}` : ''}`
  )
  return lines
}
