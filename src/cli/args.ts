import { UsageError } from './errors'

type Values = Record<string, string | boolean | string[] | undefined>

export function str(values: Values, name: string): string | undefined {
  const v = values[name]
  if (v === undefined) return undefined
  if (typeof v !== 'string') throw new UsageError(`--${name} needs a value`)
  return v
}

export function num(
  values: Values,
  name: string,
  opts: { min?: number; max?: number; integer?: boolean } = {}
): number | undefined {
  const text = str(values, name)
  if (text === undefined) return undefined
  const n = Number(text)
  if (text.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${name}: '${text}' is not a number`)
  if (opts.integer && !Number.isInteger(n)) throw new UsageError(`--${name}: '${text}' is not a whole number`)
  if (opts.min !== undefined && n < opts.min) throw new UsageError(`--${name}: ${n} is below the minimum ${opts.min}`)
  if (opts.max !== undefined && n > opts.max) throw new UsageError(`--${name}: ${n} is above the maximum ${opts.max}`)
  return n
}

export function requireDir(positionals: string[], command: string): string {
  const dir = positionals[0]
  if (!dir) throw new UsageError(`${command}: missing the project folder (usage: tunelab ${command} <dir> ...)`)
  return dir
}
