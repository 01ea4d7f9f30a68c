// Serve mode: the renderer, the handlers (over a WebSocket) and project images on 127.0.0.1, behind a random token.
// Every request must carry the token: in the query (?token=) or in the cookie the page sets once it was loaded with it.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { randomBytes, timingSafeEqual } from 'node:crypto'
import { readFile, realpath, stat } from 'node:fs/promises'
import { extname, isAbsolute, join, relative, resolve, sep } from 'node:path'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import { WebSocketServer, type WebSocket } from 'ws'
import { parseImagePath, parseImageSize, WS_MAX_PAYLOAD_BYTES, type EventName } from '@shared/contract'
import type { ServerMessage } from '@shared/contract/wire'
import type { HandlerContext } from '../main/services/context'
import { httpStatusOf, projectImage } from '../main/services/imageService'
import { createSession } from '../main/services/session'
import { serveApiSocket } from './apiSocket'
import { PREDICT_UPLOAD_PREFIX, predictUpload } from './predictUpload'

export const HOST = '127.0.0.1'
const COOKIE = 'tunelab_token'

/** The page's policy: scripts and connections only to this origin, images also from data:/blob: (previews). */
export const SERVE_CSP =
  "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'"

const STATIC_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
  '.ico': 'image/x-icon'
}

export interface ServeOptions {
  /** Folder with the built renderer (out/renderer). */
  rendererDir: string
  workerPath: string
  userDataDir: string
  /** 0 = a free port. */
  port?: number
  token?: string
  initialProject?: string | null
  weightsCacheDir?: string
  /** The session's native-module check (default: this Node process's); tests pass Electron's to render its report. */
  startupCheck?: HandlerContext['startupCheck']
}

export interface RunningServer {
  url: string
  port: number
  token: string
  ctx: HandlerContext
  close(): Promise<void>
}

function tokenMatches(given: string | null | undefined, token: string): boolean {
  if (!given) return false
  const a = Buffer.from(given)
  const b = Buffer.from(token)
  return a.length === b.length && timingSafeEqual(a, b)
}

function cookieToken(req: IncomingMessage): string | null {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, v] = part.trim().split('=')
    if (k === COOKIE && v) return decodeURIComponent(v)
  }
  return null
}

function authorised(req: IncomingMessage, url: URL, token: string): boolean {
  return tokenMatches(url.searchParams.get('token'), token) || tokenMatches(cookieToken(req), token)
}

/** Refuses Host headers other than ours (DNS rebinding: a page on evil.example resolving to 127.0.0.1). */
function hostAllowed(req: IncomingMessage, port: number): boolean {
  const host = req.headers.host ?? ''
  return host === `${HOST}:${port}` || host === `localhost:${port}`
}

/** The request's URL, or null when it cannot be one (a malformed percent escape is answered 400, not 500). */
function requestUrl(req: IncomingMessage, port: number): URL | null {
  try {
    const url = new URL(req.url ?? '/', `http://${HOST}:${port}`)
    decodeURIComponent(url.pathname)
    return url
  } catch {
    return null
  }
}

function originAllowed(req: IncomingMessage, port: number): boolean {
  const origin = req.headers.origin
  return origin === undefined || origin === `http://${HOST}:${port}` || origin === `http://localhost:${port}`
}

function send(
  res: ServerResponse,
  status: number,
  body: string | Buffer,
  type = 'text/plain; charset=utf-8',
  extra: Record<string, string> = {}
): void {
  res.writeHead(status, {
    'Content-Type': type,
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    ...extra
  })
  res.end(body)
}

async function staticFile(rendererDir: string, pathname: string): Promise<{ body: Buffer; type: string } | null> {
  const rel = pathname === '/' ? 'index.html' : decodeURIComponent(pathname).replace(/^\/+/, '')
  if (rel.includes('\0')) return null
  const root = await realpath(rendererDir).catch(() => null)
  if (!root) return null
  const candidate = resolve(root, rel)
  const inside = relative(root, candidate)
  if (inside.startsWith('..' + sep) || inside === '..' || isAbsolute(inside)) return null
  const real = await realpath(candidate).catch(() => null)
  if (!real || relative(root, real).startsWith('..')) return null
  const st = await stat(real)
  if (!st.isFile()) return null
  return { body: await readFile(real), type: STATIC_TYPES[extname(real).toLowerCase()] ?? 'application/octet-stream' }
}

export async function startServer(o: ServeOptions): Promise<RunningServer> {
  const token = o.token ?? randomBytes(24).toString('base64url')
  const clients = new Set<WebSocket>()
  const broadcast = (event: EventName, payload: unknown): void => {
    const text = JSON.stringify({ type: 'event', event, payload } satisfies ServerMessage)
    for (const ws of clients) if (ws.readyState === ws.OPEN) ws.send(text)
  }
  const ctx = createSession({
    transport: 'serve',
    userDataDir: o.userDataDir,
    workerPath: o.workerPath,
    broadcast,
    initialProject: o.initialProject ?? null,
    ...(o.weightsCacheDir ? { weightsCacheDir: o.weightsCacheDir } : {}),
    ...(o.startupCheck ? { startupCheck: o.startupCheck } : {})
  })
  let port = 0

  const server = createServer((req, res) => {
    void (async () => {
      if (!hostAllowed(req, port)) return send(res, 403, 'Forbidden: unexpected Host header\n')
      const url = requestUrl(req, port)
      if (!url) return send(res, 400, 'Bad request: malformed URL\n')
      if (!authorised(req, url, token))
        return send(res, 401, 'Unauthorized: open the URL with the token that `npm run serve` printed\n')
      if (req.method === 'POST' && url.pathname.startsWith(PREDICT_UPLOAD_PREFIX)) {
        if (!originAllowed(req, port)) return send(res, 403, 'Forbidden: unexpected Origin\n')
        return predictUpload(req, res, url, ctx)
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'Method not allowed\n')
      if (url.pathname.startsWith('/image/')) {
        const parsed = parseImagePath(url.pathname.slice('/image/'.length))
        const size = parseImageSize(url.searchParams.get('size'))
        if (!parsed || !size)
          return send(res, 400, 'Bad image address: expected /image/<projectKey>/<imageId>?size=thumb|full\n')
        try {
          const img = await projectImage(ctx.projects, parsed.projectKey, parsed.imageId, size)
          return send(res, 200, img.body, img.contentType)
        } catch (err) {
          return send(res, httpStatusOf(err), `${(err as Error).message}\n`)
        }
      }
      const file = await staticFile(o.rendererDir, url.pathname)
      if (!file) return send(res, 404, 'Not found\n')
      const extra: Record<string, string> = { 'Content-Security-Policy': SERVE_CSP }
      // The page carries the token in its address; scripts and styles it loads get it from this cookie.
      if (file.type.startsWith('text/html'))
        extra['Set-Cookie'] = `${COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`
      return send(res, 200, file.body, file.type, extra)
    })().catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, `Internal error: ${(err as Error).message}\n`)
    })
  })

  const wss = new WebSocketServer({ noServer: true, maxPayload: WS_MAX_PAYLOAD_BYTES })
  wss.on('error', () => undefined)
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy())
    const reject = (status: string): void => {
      socket.write(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`)
      socket.destroy()
    }
    const url = requestUrl(req, port)
    if (!url) return reject('400 Bad Request')
    if (!hostAllowed(req, port) || !originAllowed(req, port)) return reject('403 Forbidden')
    if (!authorised(req, url, token)) return reject('401 Unauthorized')
    if (url.pathname !== '/api') return reject('404 Not Found')
    wss.handleUpgrade(req, socket, head, (ws) => {
      clients.add(ws)
      ws.on('close', () => clients.delete(ws))
      serveApiSocket(ws, { ctx })
    })
  })

  await new Promise<void>((resolveListen, rejectListen) => {
    server.once('error', rejectListen)
    server.listen(o.port ?? 0, HOST, () => resolveListen())
  })
  port = (server.address() as AddressInfo).port
  return {
    url: `http://${HOST}:${port}/?token=${token}`,
    port,
    token,
    ctx,
    async close() {
      for (const ws of clients) ws.terminate()
      wss.close()
      await Promise.all([ctx.runner.shutdown(), ctx.audits.shutdown(), ctx.lrFinder.shutdown(), ctx.exports.shutdown()])
      ctx.projects.closeAll()
      await new Promise<void>((r) => server.close(() => r()))
    }
  }
}

export function defaultRendererDir(): string {
  return join(process.cwd(), 'out', 'renderer')
}
