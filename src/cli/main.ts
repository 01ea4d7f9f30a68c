import { parseArgs } from 'node:util'
import type { Command, CommandContext } from './command'
import { UsageError } from './errors'

interface CommandEntry {
  name: string
  /** Loaded on use, so that `--help` and light commands do not pay for TF.js. */
  load: () => Promise<Command>
}

const COMMANDS: CommandEntry[] = [
  { name: 'scan', load: async () => (await import('./commands/scan')).scanCommand },
  { name: 'split', load: async () => (await import('./commands/split')).splitCommand },
  { name: 'train', load: async () => (await import('./commands/train')).trainCommand },
  { name: 'lr-find', load: async () => (await import('./commands/lrFind')).lrFindCommand },
  { name: 'runs', load: async () => (await import('./commands/runs')).runsCommand },
  { name: 'analyze', load: async () => (await import('./commands/analyze')).analyzeCommand },
  { name: 'predict', load: async () => (await import('./commands/models')).predictCommand },
  { name: 'export', load: async () => (await import('./commands/export')).exportCommand },
  { name: 'relabel', load: async () => (await import('./commands/labels')).relabelCommand },
  { name: 'overrides', load: async () => (await import('./commands/labels')).overridesCommand },
  { name: 'apply-labels', load: async () => (await import('./commands/labels')).applyLabelsCommand },
  { name: 'diff', load: async () => (await import('./commands/diff')).diffCommand },
  { name: 'audit', load: async () => (await import('./commands/audit')).auditCommand }
]

async function help(): Promise<string> {
  const lines = ['Usage: npm run cli -- <command> [options]', '', 'Commands:']
  for (const entry of COMMANDS) {
    const c = await entry.load()
    lines.push(`  ${c.usage}`, `      ${c.summary}`)
  }
  lines.push('', 'Every command takes --json (one JSON object per line on stdout) and --help.')
  return lines.join('\n')
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write((await help()) + '\n')
    return name ? 0 : 2
  }
  const entry = COMMANDS.find((c) => c.name === name)
  const controller = new AbortController()
  let json = rest.includes('--json')
  try {
    if (!entry) throw new UsageError(`unknown command '${name}' (commands: ${COMMANDS.map((c) => c.name).join(', ')})`)
    const command = await entry.load()
    if (rest.includes('--help')) {
      process.stdout.write(`${command.usage}\n  ${command.summary}\n`)
      return 0
    }
    let parsed
    try {
      parsed = parseArgs({
        args: rest,
        options: { ...command.options, json: { type: 'boolean' }, help: { type: 'boolean' } },
        allowPositionals: true,
        strict: true
      })
    } catch (e) {
      throw new UsageError(`${name}: ${(e as Error).message.replace(/\. To specify a positional.*$/s, '')}`)
    }
    json = parsed.values.json === true
    const ctx: CommandContext = {
      json,
      emit: (obj) => process.stdout.write(JSON.stringify(obj) + '\n'),
      say: (line) => {
        if (!json) process.stdout.write(line + '\n')
      },
      signal: controller.signal
    }
    let interrupts = 0
    const onSigint = (): void => {
      interrupts += 1
      if (interrupts > 1) process.exit(130)
      process.stderr.write('\nCancelling… (Ctrl-C again to quit at once)\n')
      controller.abort()
    }
    process.on('SIGINT', onSigint)
    try {
      await command.run(parsed.positionals, parsed.values, ctx)
    } finally {
      process.off('SIGINT', onSigint)
    }
    return controller.signal.aborted ? 130 : 0
  } catch (e) {
    const err = e as Error & { code?: string }
    if (controller.signal.aborted && err.name === 'AbortError') {
      if (json) process.stdout.write(JSON.stringify({ event: 'cancelled' }) + '\n')
      process.stderr.write('tunelab: cancelled\n')
      return 130
    }
    // One line, whatever failed (the README's promise); the stack only on request.
    const message = oneLine(err.message || String(err))
    if (process.env['TUNELAB_DEBUG'] === '1' && err.stack) process.stderr.write(`${err.stack}\n`)
    if (json)
      process.stdout.write(JSON.stringify({ event: 'error', code: err.code ?? err.name, message: err.message }) + '\n')
    process.stderr.write(`tunelab: error: ${message}\n`)
    return err instanceof UsageError ? 2 : 1
  }
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim()
}

export function runCli(): void {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code
    },
    (e: unknown) => {
      process.stderr.write(`tunelab: fatal: ${oneLine(e instanceof Error ? e.message : String(e))}\n`)
      process.exitCode = 1
    }
  )
}
