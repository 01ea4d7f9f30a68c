// The serve-mode transport: the same grouped bridge as the preload, over one WebSocket to 127.0.0.1 with the token.
import {
  buildBridge,
  isEventName,
  type ChannelName,
  type Envelope,
  type EventName,
  type TuneLabBridge
} from '@shared/contract'
import { parseServerMessage, type ClientMessage } from '@shared/contract/wire'
import { isBytesPredict, uploadPredict } from './predictUpload'

export interface WsClientOptions {
  /** ws://host:port/api?token=… */
  url: string
  /** How long a request may wait for its answer (default 10 min: a scan of a large folder takes a while). */
  timeoutMs?: number
  /** Injected for tests under Node; defaults to the browser's WebSocket. */
  WebSocketImpl?: typeof WebSocket
}

interface Pending {
  resolve(env: Envelope<unknown>): void
  timer: ReturnType<typeof setTimeout>
}

export interface WsBridge {
  bridge: TuneLabBridge
  close(): void
}

/** Connects lazily on the first call; reconnects on the next call after a drop. Failures answer error envelopes. */
export function createWsBridge(opts: WsClientOptions): WsBridge {
  const Impl = opts.WebSocketImpl ?? WebSocket
  const timeoutMs = opts.timeoutMs ?? 600_000
  const pending = new Map<number, Pending>()
  const listeners = new Map<EventName, Set<(payload: unknown) => void>>()
  let nextId = 1
  let socket: WebSocket | null = null
  let opened: Promise<WebSocket> | null = null

  function failAll(message: string): void {
    for (const [id, p] of pending) {
      clearTimeout(p.timer)
      p.resolve({ ok: false, error: { code: 'internal', message } })
      pending.delete(id)
    }
  }

  function connect(): Promise<WebSocket> {
    if (opened) return opened
    opened = new Promise<WebSocket>((resolve, reject) => {
      const ws = new Impl(opts.url)
      socket = ws
      ws.onopen = () => resolve(ws)
      ws.onerror = () =>
        reject(new Error(`cannot connect to the TuneLab server at ${opts.url.replace(/token=[^&]*/, 'token=…')}`))
      ws.onclose = () => {
        opened = null
        socket = null
        failAll('the connection to the TuneLab server closed')
      }
      ws.onmessage = (ev: MessageEvent) => {
        const msg = parseServerMessage(typeof ev.data === 'string' ? ev.data : String(ev.data))
        if (!msg) return
        if (msg.type === 'response') {
          const p = pending.get(msg.id)
          if (!p) return
          pending.delete(msg.id)
          clearTimeout(p.timer)
          p.resolve(msg.envelope)
        } else if (msg.type === 'event' && isEventName(msg.event)) {
          for (const l of listeners.get(msg.event) ?? []) l(msg.payload)
        }
      }
    })
    opened.catch(() => {
      opened = null
    })
    return opened
  }

  async function invoke(channel: ChannelName, request: unknown): Promise<Envelope<unknown>> {
    if (isBytesPredict(channel, request)) return uploadPredict(opts.url, request)
    let ws: WebSocket
    try {
      ws = await connect()
    } catch (err) {
      return { ok: false, error: { code: 'internal', message: (err as Error).message } }
    }
    const id = nextId++
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        pending.delete(id)
        resolve({ ok: false, error: { code: 'internal', message: `${channel}: no answer within ${timeoutMs} ms` } })
      }, timeoutMs)
      pending.set(id, { resolve, timer })
      const msg: ClientMessage = { type: 'request', id, channel, request }
      ws.send(JSON.stringify(msg))
    })
  }

  function subscribe(event: EventName, listener: (payload: unknown) => void): () => void {
    let set = listeners.get(event)
    if (!set) {
      set = new Set()
      listeners.set(event, set)
    }
    set.add(listener)
    // Events only flow over an open socket: open it now so a subscriber hears runs started elsewhere.
    void connect().catch(() => undefined)
    return () => {
      set.delete(listener)
    }
  }

  return {
    bridge: buildBridge(invoke, subscribe),
    close() {
      socket?.close()
    }
  }
}
