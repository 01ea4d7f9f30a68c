// The only place main touches ipcMain: one wrapper per channel that checks the sender, validates through the
// contract (dispatch) and answers the envelope; events go out through sendEvent.
import { ipcMain, type IpcMainInvokeEvent, type WebContents } from 'electron'
import { CHANNEL_NAMES, IPC_EVENT_CHANNEL, IPC_PREFIX, type EventName } from '@shared/contract'
import type { Envelope } from '@shared/contract'

export type SenderCheck = (event: IpcMainInvokeEvent) => boolean
export type ChannelFn = (channel: string, request: unknown) => Promise<Envelope<unknown>>

/** Answers with the envelope; refuses senders other than our window/origin with 'forbidden'. */
export function wrapHandler(channel: string, fn: ChannelFn, isTrusted: SenderCheck) {
  return async (event: IpcMainInvokeEvent, request: unknown): Promise<Envelope<unknown>> => {
    if (!isTrusted(event)) return { ok: false, error: { code: 'forbidden', message: `${channel}: sender not allowed` } }
    try {
      return await fn(channel, request)
    } catch (err) {
      return { ok: false, error: { code: 'internal', message: err instanceof Error ? err.message : String(err) } }
    }
  }
}

export function addHandler(channel: string, fn: ChannelFn, isTrusted: SenderCheck): void {
  ipcMain.handle(IPC_PREFIX + channel, wrapHandler(channel, fn, isTrusted))
}

/** Registers every channel of the contract through the wrapper. */
export function registerAll(fn: ChannelFn, isTrusted: SenderCheck): void {
  for (const channel of CHANNEL_NAMES) addHandler(channel, fn, isTrusted)
}

/** Trusted = the main window's own webContents, showing our page (file:// build or the dev server). */
export function trustedSender(
  getWindowContents: () => WebContents | null,
  allowedOrigins: readonly string[]
): SenderCheck {
  return (event) => {
    const wc = getWindowContents()
    if (!wc || event.sender !== wc) return false
    const frame = event.senderFrame
    if (!frame || frame !== wc.mainFrame) return false
    const url = frame.url
    return allowedOrigins.some((o) => url.startsWith(o))
  }
}

export function sendEvent(target: WebContents | null, event: EventName, payload: unknown): void {
  if (target && !target.isDestroyed()) target.send(IPC_EVENT_CHANNEL, { event, payload })
}
