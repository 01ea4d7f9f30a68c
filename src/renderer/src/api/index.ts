// The renderer's one typed api. Electron: window.api from the preload; a browser (serve mode): the WebSocket client.
// main.ts imports it once and hands it to setApi (stores/apiContext.ts); stores reach it through useApi(), so
// component tests can install a fake. Failures throw ApiError { code, message }; `onProgress(fn)` returns an unsubscribe.
import { ApiError, unwrapBridge, type TuneLabApi, type TuneLabBridge } from '@shared/contract'
import { createWsBridge } from './wsClient'

declare global {
  interface Window {
    /** Set by the preload in Electron; absent in a browser. */
    api?: TuneLabBridge
  }
}

function serveToken(): string {
  const token = new URLSearchParams(window.location.search).get('token')
  if (!token)
    throw new ApiError(
      'forbidden',
      'No access token in the page address: open the exact URL that `npm run serve` printed.'
    )
  return token
}

export function createApi(): TuneLabApi {
  if (window.api) return unwrapBridge(window.api, { kind: 'electron' })
  const token = serveToken()
  const scheme = window.location.protocol === 'https:' ? 'wss:' : 'ws:'
  const { bridge } = createWsBridge({
    url: `${scheme}//${window.location.host}/api?token=${encodeURIComponent(token)}`
  })
  return unwrapBridge(bridge, { kind: 'serve', token })
}

export const api: TuneLabApi = createApi()
export { ApiError }
export type * from '@shared/contract'
