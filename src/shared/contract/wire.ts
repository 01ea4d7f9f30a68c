// Serve-mode WebSocket messages (JSON). zod-free: the renderer parses with these narrowing checks.
import type { ChannelName, EventName } from './channels'
import type { Envelope } from './envelope'

export type ClientMessage = { type: 'request'; id: number; channel: ChannelName; request: unknown }
export type ServerMessage =
  | { type: 'response'; id: number; envelope: Envelope<unknown> }
  | { type: 'event'; event: EventName; payload: unknown }

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
  if (v['type'] === 'response' && typeof v['id'] === 'number' && isObject(v['envelope']) && typeof v['envelope']['ok'] === 'boolean') {
    return { type: 'response', id: v['id'], envelope: v['envelope'] as Envelope<unknown> }
  }
  if (v['type'] === 'event' && typeof v['event'] === 'string') return { type: 'event', event: v['event'] as EventName, payload: v['payload'] }
  return null
}

/** A client message (id, channel string) or an explanation of why not. The channel is validated by the handler table. */
export function parseClientMessage(text: string): { type: 'request'; id: number; channel: string; request: unknown } | { error: string; id: number | null } {
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch {
    return { error: 'message is not JSON', id: null }
  }
  if (!isObject(v)) return { error: 'message is not an object', id: null }
  const id = typeof v['id'] === 'number' && Number.isSafeInteger(v['id']) ? v['id'] : null
  if (v['type'] !== 'request' || id === null) return { error: 'expected {type: "request", id: <integer>, channel, request}', id }
  if (typeof v['channel'] !== 'string') return { error: 'channel must be a string', id }
  return { type: 'request', id, channel: v['channel'], request: v['request'] }
}
