// The Electron IPC wrapper and the preload, with ONLY electron's ipcMain/ipcRenderer/contextBridge objects mocked.
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { CHANNEL_NAMES, EVENT_NAMES, IPC_EVENT_CHANNEL, IPC_PREFIX, type Envelope } from '@shared/contract'

const ipcHandlers = new Map<string, (event: unknown, request: unknown) => Promise<Envelope<unknown>>>()
const exposed: Record<string, unknown> = {}
const rendererListeners = new Map<string, Set<(e: unknown, msg: unknown) => void>>()
const invoked: [string, unknown][] = []

vi.mock('electron', () => ({
  ipcMain: {
    handle: (channel: string, fn: (event: unknown, request: unknown) => Promise<Envelope<unknown>>) =>
      ipcHandlers.set(channel, fn)
  },
  contextBridge: { exposeInMainWorld: (key: string, value: unknown) => (exposed[key] = value) },
  ipcRenderer: {
    invoke: async (channel: string, request: unknown) => {
      invoked.push([channel, request])
      return { ok: true, result: { channel } }
    },
    on: (channel: string, fn: (e: unknown, msg: unknown) => void) => {
      const set = rendererListeners.get(channel) ?? new Set()
      set.add(fn)
      rendererListeners.set(channel, set)
    },
    removeListener: (channel: string, fn: (e: unknown, msg: unknown) => void) =>
      rendererListeners.get(channel)?.delete(fn)
  }
}))

const { registerAll, wrapHandler, trustedSender } = await import('@main/ipc')
const { dispatch } = await import('@main/handlers')

type Ctx = Parameters<typeof dispatch>[2]
const fakeWindow = { mainFrame: { url: 'file:///app/out/renderer/index.html' } }

describe('main-side IPC wrapper', () => {
  beforeEach(() => ipcHandlers.clear())

  it('registers every channel, prefixed, and refuses senders other than the main window frame', async () => {
    const calls: string[] = []
    registerAll(
      async (channel) => {
        calls.push(channel)
        return { ok: true, result: 1 }
      },
      trustedSender(() => fakeWindow as never, ['file://'])
    )
    expect([...ipcHandlers.keys()].sort()).toEqual(CHANNEL_NAMES.map((c) => IPC_PREFIX + c).sort())
    const handler = ipcHandlers.get(IPC_PREFIX + 'app.info')
    if (!handler) throw new Error('missing')
    expect(await handler({ sender: fakeWindow, senderFrame: fakeWindow.mainFrame }, {})).toEqual({
      ok: true,
      result: 1
    })
    expect(await handler({ sender: {}, senderFrame: fakeWindow.mainFrame }, {})).toMatchObject({
      ok: false,
      error: { code: 'forbidden' }
    })
    expect(await handler({ sender: fakeWindow, senderFrame: { url: 'file:///x' } }, {})).toMatchObject({
      ok: false,
      error: { code: 'forbidden' }
    })
    const evilWindow = { mainFrame: { url: 'https://evil.example/' } }
    const strict = wrapHandler(
      'app.info',
      async () => ({ ok: true, result: 1 }),
      trustedSender(() => evilWindow as never, ['file://'])
    )
    expect(await strict({ sender: evilWindow, senderFrame: evilWindow.mainFrame } as never, {})).toMatchObject({
      ok: false,
      error: { code: 'forbidden' }
    })
    expect(calls).toEqual(['app.info'])
  })

  it('turns a throwing handler into an internal-error envelope', async () => {
    const h = wrapHandler(
      'app.info',
      async () => {
        throw new Error('boom')
      },
      () => true
    )
    expect(await h({} as never, {})).toEqual({ ok: false, error: { code: 'internal', message: 'boom' } })
  })

  it('dispatch validates requests and responses against the contract', async () => {
    const ctx = {} as Ctx
    expect(await dispatch('nope.nothing', {}, ctx)).toMatchObject({
      ok: false,
      error: { code: 'invalid-request', message: expect.stringContaining('nope.nothing') }
    })
    const r = await dispatch(
      'results.gallery',
      { projectKey: 'XYZ', runId: -1, split: 'train', kind: 'best', className: null, n: 0 },
      ctx
    )
    expect(r.ok).toBe(false)
    if (r.ok) return
    expect(r.error.code).toBe('invalid-request')
    for (const field of ['projectKey', 'runId', 'kind', 'n']) expect(r.error.message).toContain(field)
    // A handler answering something off-contract is caught before it reaches the renderer.
    const table = { 'app.pickFolder': async () => ({ path: 42 }) } as never
    expect(await dispatch('app.pickFolder', {}, ctx, { table, validateResponses: true })).toMatchObject({
      ok: false,
      error: { code: 'internal', message: expect.stringContaining('path') }
    })
    expect(
      await dispatch('app.pickFolder', {}, ctx, {
        table: { 'app.pickFolder': async () => ({ path: '/x' }) } as never,
        validateResponses: true
      })
    ).toEqual({ ok: true, result: { path: '/x' } })
  })
})

describe('preload', () => {
  it('exposes window.api with one method per channel grouped by domain, and on<Event> subscriptions; nothing raw', async () => {
    await import('@preload/index')
    const api = exposed['api'] as Record<string, Record<string, unknown>>
    expect(Object.keys(exposed)).toEqual(['api'])
    const methods = Object.entries(api).flatMap(([d, obj]) => Object.keys(obj).map((m) => `${d}.${m}`))
    const expected = [
      ...CHANNEL_NAMES,
      ...EVENT_NAMES.map((e) => e.replace(/\.(\w)/, (_m, c: string) => `.on${c.toUpperCase()}`))
    ]
    expect(methods.sort()).toEqual(expected.sort())
    for (const obj of Object.values(api)) for (const fn of Object.values(obj)) expect(typeof fn).toBe('function')
    expect(JSON.stringify(Object.keys(api))).not.toMatch(/ipc|invoke|send/i)

    const open = api['project']?.['open'] as (r: unknown) => Promise<unknown>
    await expect(open({ path: '/p' })).resolves.toEqual({ ok: true, result: { channel: 'tunelab:project.open' } })
    expect(invoked.at(-1)).toEqual(['tunelab:project.open', { path: '/p' }])

    const got: unknown[] = []
    const off = (api['training']?.['onProgress'] as (l: (p: unknown) => void) => () => void)((p) => got.push(p))
    const fire = (msg: unknown): void => rendererListeners.get(IPC_EVENT_CHANNEL)?.forEach((l) => l({}, msg))
    fire({ event: 'training.progress', payload: 1 })
    fire({ event: 'models.downloadProgress', payload: 2 })
    off()
    fire({ event: 'training.progress', payload: 3 })
    expect(got).toEqual([1])
  })
})
