import type { ParseArgsConfig } from 'node:util'

export type OptionSpec = NonNullable<ParseArgsConfig['options']>

export interface CommandContext {
  json: boolean
  /** Writes one JSON object as one line on stdout. */
  emit(obj: unknown): void
  /** Human output on stdout (suppressed with --json). */
  say(line: string): void
  signal: AbortSignal
}

export interface Command {
  name: string
  summary: string
  usage: string
  options: OptionSpec
  run(
    positionals: string[],
    values: Record<string, string | boolean | string[] | undefined>,
    ctx: CommandContext
  ): Promise<void>
}
