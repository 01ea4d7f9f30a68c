// The start-up report as plain text (what a user pastes into an issue) and the notes the app shows when optional
// native modules are missing.
import type { StartupReport } from '@shared/contract/startupCheck'

export function reportText(r: StartupReport): string {
  const lines = [
    `TuneLab start-up check (${r.runtime.kind}, ABI ${r.runtime.abi}, ${r.runtime.platform}-${r.runtime.arch})`
  ]
  for (const c of r.checks)
    lines.push(
      `${c.module}: ${c.status}${c.required ? ' (required)' : ''}: ${c.detail}${c.fix ? ` [fix: ${c.fix}]` : ''}`
    )
  lines.push(`backend: ${r.backend.expected}`)
  for (const s of r.backend.skipped) lines.push(`  not ${s.name}: ${s.reason}`)
  return lines.join('\n')
}

export interface StartupNote {
  module: string
  level: 'warn' | 'info'
  text: string
  fix: string | null
}

/** Optional modules that failed (warn), and oneDNN missing (info: training runs in WebAssembly). */
export function startupNotes(r: StartupReport | null): StartupNote[] {
  if (!r) return []
  return r.checks.flatMap((c): StartupNote[] => {
    if (c.required || c.status === 'ok') return []
    if (c.status === 'failed')
      return [{ module: c.module, level: 'warn', text: `${c.module} did not load: ${c.detail}`, fix: c.fix }]
    if (c.module === 'onednn')
      return [
        { module: c.module, level: 'info', text: `Convolutions run in WebAssembly: oneDNN ${c.detail}`, fix: c.fix }
      ]
    return []
  })
}
