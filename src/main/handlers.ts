// The one handler registry both transports use: validates the request against the contract, runs the handler,
// answers the envelope. Responses are validated too when TUNELAB_VALIDATE_RESPONSES=1 or NODE_ENV is not production.
import { ZodError } from 'zod'
import { ApiError, channels, isChannelName, type Envelope } from '@shared/contract'
import { ProjectError } from '@core/project/errors'
import type { HandlerContext, HandlerTable } from './services/context'
import { modelHandlers } from './services/modelService'
import { projectHandlers } from './services/projectService'
import { runHandlers } from './services/runService'
import { labelHandlers } from './services/labelService'
import { exportHandlers } from './services/exportService'
import { startupHandlers } from './services/startupService'
import { auditHandlers } from './services/auditService'
import { gradCamHandlers } from './services/gradCamService'
import { lrFindHandlers } from './services/lrFindService'

export const handlers: HandlerTable = {
  ...modelHandlers,
  ...projectHandlers,
  ...runHandlers,
  ...labelHandlers,
  ...exportHandlers,
  ...startupHandlers,
  ...auditHandlers,
  ...gradCamHandlers,
  ...lrFindHandlers
}

function describeZod(err: ZodError, what: string): string {
  const issues = err.issues.slice(0, 5).map((i) => `${i.path.length > 0 ? i.path.join('.') : '(root)'}: ${i.message}`)
  return `${what}: ${issues.join('; ')}${err.issues.length > 5 ? ` (and ${err.issues.length - 5} more)` : ''}`
}

function errorEnvelope(err: unknown): Envelope<never> {
  // A write a handler did not guard, on a project opened read-only: say so rather than SQLite's words.
  if ((err as { code?: unknown } | null)?.code === 'SQLITE_READONLY')
    return {
      ok: false,
      error: {
        code: 'conflict',
        message: 'this project is open read-only (its state cannot be written): nothing was saved'
      }
    }
  if (err instanceof ApiError) return { ok: false, error: { code: err.code, message: err.message } }
  if (err instanceof ProjectError) return { ok: false, error: { code: 'bad-input', message: err.message } }
  if (
    err instanceof RangeError ||
    (err instanceof Error && /Error$/.test(err.name) && err.name !== 'Error' && err.name !== 'TypeError')
  ) {
    return { ok: false, error: { code: 'bad-input', message: err.message } }
  }
  const message = err instanceof Error ? err.message : String(err)
  return { ok: false, error: { code: 'internal', message } }
}

export interface DispatchOptions {
  validateResponses?: boolean
  table?: HandlerTable
}

export function shouldValidateResponses(env: NodeJS.ProcessEnv = process.env): boolean {
  return env['TUNELAB_VALIDATE_RESPONSES'] === '1' || env['NODE_ENV'] !== 'production'
}

/** Runs one request through the contract: never throws, always answers an envelope. */
export async function dispatch(
  channel: unknown,
  request: unknown,
  ctx: HandlerContext,
  opts: DispatchOptions = {}
): Promise<Envelope<unknown>> {
  if (!isChannelName(channel))
    return { ok: false, error: { code: 'invalid-request', message: `unknown channel ${JSON.stringify(channel)}` } }
  const def = channels[channel]
  const parsed = def.request.safeParse(request ?? {})
  if (!parsed.success)
    return { ok: false, error: { code: 'invalid-request', message: describeZod(parsed.error, `${channel} request`) } }
  const table = opts.table ?? handlers
  let result: unknown
  try {
    const handler = table[channel] as (req: unknown, ctx: HandlerContext) => Promise<unknown>
    result = await handler(parsed.data, ctx)
  } catch (err) {
    return errorEnvelope(err)
  }
  if (opts.validateResponses ?? shouldValidateResponses()) {
    const checked = def.response.safeParse(result)
    if (!checked.success)
      return {
        ok: false,
        error: {
          code: 'internal',
          message: describeZod(checked.error, `${channel} response does not match the contract`)
        }
      }
  }
  return { ok: true, result }
}
