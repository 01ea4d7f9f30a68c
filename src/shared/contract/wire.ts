// Serve-mode WebSocket messages (JSON). zod-free: the renderer parses with these narrowing checks.
import type { ChannelName, EventName } from './channels'
import type { ApiErrorInfo, Envelope } from './envelope'

export type ClientMessage = { type: 'request'; id: number; channel: ChannelName; request: unknown }
export type ServerMessage =
  | { type: 'response'; id: number; envelope: Envelope<unknown> }
  | { type: 'event'; event: EventName; payload: unknown }
  /** The answer to a message that carried no usable id: nothing can be matched to it, but it is not left unanswered. */
  | { type: 'error'; error: ApiErrorInfo }

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** A server message, or null for anything malformed. Event names are checked by the caller. */
export function parseServerMessage(text: string): ServerMessage | null {
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch {
    return null
  }
  if (!isObject(v)) return null
  if (
    v['type'] === 'response' &&
    typeof v['id'] === 'number' &&
    isObject(v['envelope']) &&
    typeof v['envelope']['ok'] === 'boolean'
  ) {
    return { type: 'response', id: v['id'], envelope: v['envelope'] as Envelope<unknown> }
  }
  if (v['type'] === 'event' && typeof v['event'] === 'string')
    return { type: 'event', event: v['event'] as EventName, payload: v['payload'] }
  if (v['type'] === 'error' && isObject(v['error']) && typeof v['error']['message'] === 'string')
    return { type: 'error', error: v['error'] as unknown as ApiErrorInfo }
  return null
}

/** A client message (id, channel string) or an explanation of why not. The channel is validated by the handler table. */
export function parseClientMessage(
  text: string
): { type: 'request'; id: number; channel: string; request: unknown } | { error: string; id: number | null } {
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch {
    return { error: 'message is not JSON', id: salvageId(text) }
  }
  if (!isObject(v)) return { error: 'message is not an object', id: null }
  const id = typeof v['id'] === 'number' && Number.isSafeInteger(v['id']) ? v['id'] : null
  if (v['type'] !== 'request' || id === null)
    return { error: 'expected {type: "request", id: <integer>, channel, request}', id }
  if (typeof v['channel'] !== 'string') return { error: 'channel must be a string', id }
  return { type: 'request', id, channel: v['channel'], request: v['request'] }
}

/** The id of a message that is not valid JSON, when one can still be read at its start (so its sender gets an answer). */
function salvageId(text: string): number | null {
  const m = /^\s*\{[^{}]*?"id"\s*:\s*(-?\d{1,15})\s*[,}]/.exec(text.slice(0, 4096))
  return m ? Number(m[1]) : null
}
