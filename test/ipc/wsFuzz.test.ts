// Fuzz of the serve-mode API as a hostile client would: every kind of malformed message, against the real server in
// its own process (so a crash is seen as an exit, not as a broken test runner). The server must live through all of
// them, answer every message that has an id with an error envelope under that id, answer the others with a protocol
// error, and close (code 1007/1009) only the connection that sent a frame the protocol forbids.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { join, resolve } from 'node:path'
import WebSocket from 'ws'
import { makeProject, tempDir } from '@test/helpers/synthetic'
import { hostileHttpPaths, hostileMessages, type HostileMessage } from '@test/helpers/hostileMessages'

const ANSWER_WAIT_MS = 30_000

interface Served {
  child: ChildProcess
  port: number
  token: string
  exited: () => boolean
}

function startServeProcess(base: string, project: string): Promise<Served> {
  const rendererDir = join(base, 'renderer')
  mkdirSync(rendererDir, { recursive: true })
  writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>TuneLab</title>')
  const child = spawn(resolve('node_modules/.bin/tsx'), ['src/server/index.ts', project, '--port', '0'], {
    env: {
      ...process.env,
      TUNELAB_RENDERER_DIR: rendererDir,
      TUNELAB_USER_DATA: join(base, 'userData'),
      TUNELAB_DATA_DIR: join(base, 'data')
    },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let exited = false
  child.on('exit', () => (exited = true))
  let stderr = ''
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()))
  return new Promise((resolvePromise, reject) => {
    let out = ''
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString()
      const m = /serving at http:\/\/127\.0\.0\.1:(\d+)\/\?token=(\S+)/.exec(out)
      if (m) resolvePromise({ child, port: Number(m[1]), token: m[2] ?? '', exited: () => exited })
    })
    child.on('exit', (code) => reject(new Error(`serve exited (${code}) before listening: ${stderr}`)))
  })
}

function connect(s: Served): Promise<WebSocket> {
  return new Promise((resolvePromise, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${s.port}/api?token=${s.token}`)
    ws.on('open', () => resolvePromise(ws))
    ws.on('error', reject)
  })
}

type Outcome = 'envelope' | 'protocol-error' | 'closed' | 'hang' | 'wrong-answer'

/** Sends one message on `ws` and waits for what must answer it. */
function sendOne(ws: WebSocket, m: HostileMessage): Promise<Outcome> {
  return new Promise((resolvePromise) => {
    const done = (o: Outcome): void => {
      clearTimeout(timer)
      ws.off('message', onMessage)
      ws.off('close', onClose)
      resolvePromise(o)
    }
    const timer = setTimeout(() => done('hang'), ANSWER_WAIT_MS)
    const onMessage = (data: WebSocket.RawData): void => {
      const msg = JSON.parse(String(data)) as {
        type: string
        id?: number
        envelope?: { ok: boolean; error?: { code: string; message: string } }
      }
      if (m.id !== null && msg.type === 'response' && msg.id === m.id)
        done(msg.envelope?.ok === false && msg.envelope.error?.message ? 'envelope' : 'wrong-answer')
      else if (m.id === null && msg.type === 'error') done('protocol-error')
    }
    const onClose = (code: number): void => done(m.closes === code ? 'closed' : 'wrong-answer')
    ws.on('message', onMessage)
    ws.on('close', onClose)
    ws.send(m.frame, { binary: m.binary ?? false })
  })
}

function httpStatus(port: number, method: string, path: string, body?: Buffer): Promise<number> {
  return new Promise((resolvePromise) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers: { Host: `127.0.0.1:${port}` } }, (res) => {
      // The status counts once it arrives, whatever happens to the rest of the exchange.
      resolvePromise(res.statusCode ?? 0)
      res.resume()
      res.on('error', () => undefined)
    })
    req.on('error', () => resolvePromise(-1))
    // The server may stop reading an over-limit body once it has answered: the rest of our write is then refused.
    req.on('socket', (socket) => socket.on('error', () => undefined))
    req.end(body)
  })
}

function upgradeStatusOf(url: string): Promise<number> {
  return new Promise((resolvePromise) => {
    const ws = new WebSocket(url)
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

describe('WebSocket API fuzz (serve mode in its own process)', () => {
  const tmp = tempDir('tunelab-fuzz-')
  const root = join(tmp.dir, 'project')
  let served: Served

  beforeAll(async () => {
    await makeProject(root, { classes: ['cat', 'dog'], perClass: 4, size: 32 })
    served = await startServeProcess(tmp.dir, root)
  })

  afterAll(() => {
    served?.child.kill('SIGTERM')
    tmp.cleanup()
  })

  it('lives through every hostile message and answers each one', async () => {
    let ws = await connect(served)
    const opened = await new Promise<{ projectKey: string }>((resolvePromise) => {
      ws.once('message', (d) =>
        resolvePromise((JSON.parse(String(d)) as { envelope: { result: { projectKey: string } } }).envelope.result)
      )
      ws.send(JSON.stringify({ type: 'request', id: 1, channel: 'project.open', request: { path: root } }))
    })
    const messages = hostileMessages(opened.projectKey, root)
    const outcomes: Array<[string, Outcome]> = []
    for (const m of messages) {
      if (m.closes !== undefined) {
        // A forbidden frame closes its connection: send it on a connection of its own.
        const own = await connect(served)
        own.on('error', () => undefined)
        outcomes.push([m.kind, await sendOne(own, m)])
      } else {
        outcomes.push([m.kind, await sendOne(ws, m)])
      }
      if (served.exited()) break
      if (ws.readyState !== ws.OPEN) ws = await connect(served)
    }
    const http = hostileHttpPaths(served.token)
    const httpStatuses = new Map<string, number>()
    for (const h of http) httpStatuses.set(h.kind, await httpStatus(served.port, h.method, h.path, h.body))
    const upgradeStatus = await upgradeStatusOf(`ws://127.0.0.1:${served.port}/api%?token=${served.token}`)

    // Still alive and still serving.
    const alive = await sendOne(ws, {
      kind: 'probe',
      frame: JSON.stringify({ type: 'request', id: 99_999, channel: 'app.info', request: { bad: 1 } }),
      id: 99_999
    })
    ws.close()

    const values = outcomes.map(([, o]) => o)
    const figures = {
      sent: messages.length + http.length + 1,
      answered:
        values.filter((o) => o === 'envelope' || o === 'protocol-error' || o === 'closed').length +
        [...httpStatuses.values()].filter((s) => s >= 400 && s < 500).length +
        (upgradeStatus === 400 ? 1 : 0),
      crashes: served.exited() ? 1 : 0,
      hangs: values.filter((o) => o === 'hang').length
    }
    process.stdout.write(
      `ws fuzz: ${figures.sent} hostile messages sent, ${figures.answered} answered (error envelope, protocol error, close code or 4xx), ${figures.crashes} crashes, ${figures.hangs} hangs\n`
    )
    const failures = outcomes.filter(([, o]) => !['envelope', 'protocol-error', 'closed'].includes(o))
    expect(failures).toEqual([])
    expect([...httpStatuses].filter(([, s]) => s < 400 || s >= 500)).toEqual([])
    expect(httpStatuses.get('upload over the size limit')).toBe(413)
    expect(upgradeStatus).toBe(400)
    expect(alive).toBe('envelope')
    expect(figures).toMatchObject({ crashes: 0, hangs: 0, answered: figures.sent })
    expect(figures.sent).toBeGreaterThanOrEqual(84)
    // No hostile path became a project: no state folder was created in a system folder.
    for (const dir of ['/', '/etc', '/usr', '/sys', '/proc/self']) expect(existsSync(join(dir, '.tunelab'))).toBe(false)
  }, 600_000)
})
