// One serve-mode API connection: every message with an id gets an answer, every other message a protocol error,
// and a frame the protocol forbids (invalid UTF-8, over the size limit) closes only this connection.
import type { WebSocket } from 'ws'
import { parseClientMessage, type ServerMessage } from '@shared/contract/wire'
import { dispatch } from '../main/handlers'
import type { HandlerContext } from '../main/services/context'

export interface ApiSocketOptions {
  ctx: HandlerContext
  /** Told about each connection closed for a protocol error (code 1007 invalid UTF-8, 1009 too big, 1002 other). */
  onProtocolError?: (err: Error) => void
}

function reply(ws: WebSocket, msg: ServerMessage): void {
  if (ws.readyState !== ws.OPEN) return
  let text: string
  try {
    text = JSON.stringify(msg)
  } catch (err) {
    const error = { code: 'internal' as const, message: `answer could not be serialised: ${(err as Error).message}` }
    text = JSON.stringify(
      msg.type === 'response'
        ? { type: 'response', id: msg.id, envelope: { ok: false, error } }
        : { type: 'error', error }
    )
  }
  ws.send(text)
}

export function serveApiSocket(ws: WebSocket, o: ApiSocketOptions): void {
  // ws has already started closing the connection with the right code; without this listener the error would be
  // uncaught and end the whole process (and any training it runs).
  ws.on('error', (err) => o.onProtocolError?.(err))
  ws.on('message', (data, isBinary) => {
    const text = Buffer.isBuffer(data)
      ? data.toString('utf8')
      : Array.isArray(data)
        ? Buffer.concat(data).toString('utf8')
        : Buffer.from(data).toString('utf8')
    const parsed = parseClientMessage(text)
    const msg =
      isBinary && !('error' in parsed)
        ? { error: 'binary frames are not accepted: send each request as a JSON text frame', id: parsed.id }
        : parsed
    if ('error' in msg) {
      const error = { code: 'invalid-request' as const, message: msg.error }
      if (msg.id !== null) reply(ws, { type: 'response', id: msg.id, envelope: { ok: false, error } })
      else reply(ws, { type: 'error', error })
      return
    }
    void dispatch(msg.channel, msg.request, o.ctx).then(
      (envelope) => reply(ws, { type: 'response', id: msg.id, envelope }),
      (err: unknown) =>
        reply(ws, {
          type: 'response',
          id: msg.id,
          envelope: { ok: false, error: { code: 'internal', message: String(err) } }
        })
    )
  })
}
