// Starts the real serve-mode server on a generated project, for the serve and e2e tests.
import { mkdirSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { join, resolve } from 'node:path'
import WebSocket from 'ws'
import { startServer, type RunningServer } from '@server/server'
import { createWsBridge } from '@renderer/api/wsClient'
import { unwrapBridge, type TuneLabApi } from '@shared/contract'

export const WORKER_PATH = resolve('src/main/workers/training.ts')

export async function startTestServer(
  base: string,
  rendererDir?: string,
  initialProject?: string
): Promise<RunningServer> {
  let dir = rendererDir
  if (!dir) {
    dir = join(base, 'renderer')
    mkdirSync(join(dir, 'assets'), { recursive: true })
    writeFileSync(
      join(dir, 'index.html'),
      '<!doctype html><title>TuneLab</title><script type="module" src="./assets/app.js"></script>'
    )
    writeFileSync(join(dir, 'assets', 'app.js'), 'document.title = "TuneLab ok"\n')
  }
  return startServer({
    rendererDir: dir,
    workerPath: WORKER_PATH,
    userDataDir: join(base, 'userData'),
    weightsCacheDir: join(base, 'weights'),
    ...(initialProject ? { initialProject } : {})
  })
}

export interface RawResponse {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: Buffer
}

/** A GET with the path sent byte for byte (no URL normalisation), as an attacker would. */
export function rawGet(port: number, path: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  return new Promise((resolvePromise, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, method: 'GET', headers: { Host: `127.0.0.1:${port}`, ...headers } },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () =>
          resolvePromise({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) })
        )
      }
    )
    req.on('error', reject)
    req.end()
  })
}

/** Status of a WebSocket upgrade: 101 when accepted, else the HTTP status the server refused with. */
export function wsUpgradeStatus(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolvePromise) => {
    const ws = new WebSocket(url, { headers })
    ws.on('open', () => {
      ws.close()
      resolvePromise(101)
    })
    ws.on('unexpected-response', (_req, res) => {
      resolvePromise(res.statusCode ?? 0)
      ws.terminate()
    })
    ws.on('error', () => resolvePromise(-1))
  })
}

export function wsApi(server: RunningServer): { api: TuneLabApi; close(): void } {
  const { bridge, close } = createWsBridge({
    url: `ws://127.0.0.1:${server.port}/api?token=${server.token}`,
    WebSocketImpl: WebSocket as unknown as typeof globalThis.WebSocket
  })
  return { api: unwrapBridge(bridge, { kind: 'serve', token: server.token }), close }
}
