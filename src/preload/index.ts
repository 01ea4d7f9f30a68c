// Sandboxed preload (bundled to CJS): exposes `window.api`, one method per contract channel grouped by domain,
// plus on<Event> subscriptions returning an unsubscribe. Nothing raw: no ipcRenderer, no channel strings from the page.
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron'
import { buildBridge } from '../shared/contract/api'
import { IPC_EVENT_CHANNEL, IPC_PREFIX, isChannelName, isEventName } from '../shared/contract/names'
import type { Envelope } from '../shared/contract/envelope'

export function createPreloadBridge(renderer: Pick<typeof ipcRenderer, 'invoke' | 'on' | 'removeListener'>) {
  return buildBridge(
    (channel, request) => {
      if (!isChannelName(channel))
        return Promise.resolve<Envelope<unknown>>({
          ok: false,
          error: { code: 'invalid-request', message: `unknown channel ${String(channel)}` }
        })
      return renderer.invoke(IPC_PREFIX + channel, request) as Promise<Envelope<unknown>>
    },
    (event, listener) => {
      if (!isEventName(event)) throw new Error(`unknown event ${String(event)}`)
      const handler = (_e: IpcRendererEvent, msg: { event?: unknown; payload?: unknown }): void => {
        if (msg && msg.event === event) listener(msg.payload)
      }
      renderer.on(IPC_EVENT_CHANNEL, handler)
      return () => {
        renderer.removeListener(IPC_EVENT_CHANNEL, handler)
      }
    }
  )
}

contextBridge.exposeInMainWorld('api', createPreloadBridge(ipcRenderer))
