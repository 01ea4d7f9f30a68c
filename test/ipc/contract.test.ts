import { describe, expect, expectTypeOf, it } from 'vitest'
import {
  ApiError,
  buildBridge,
  CHANNEL_NAMES,
  channels,
  EVENT_NAMES,
  events,
  imageUrl,
  parseImagePath,
  unwrapBridge,
  type Envelope,
  type ProjectInfo,
  type TrainingProgress,
  type TuneLabApi
} from '@shared/contract'

describe('contract', () => {
  it('lists every channel and event once, as domain.method', () => {
    expect(new Set(CHANNEL_NAMES).size).toBe(CHANNEL_NAMES.length)
    expect([...CHANNEL_NAMES].sort()).toEqual(Object.keys(channels).sort())
    expect([...EVENT_NAMES].sort()).toEqual(Object.keys(events).sort())
    for (const name of [...CHANNEL_NAMES, ...EVENT_NAMES]) expect(name).toMatch(/^[a-z]+\.[a-zA-Z]+$/)
  })

  it('rejects requests that do not match, with the field named', () => {
    const bad = channels['dataset.previewSplit'].request.safeParse({
      projectKey: '0123456789abcdef',
      strategy: { kind: 'ratios', ratios: [0.8, 0.1], seed: 1 }
    })
    expect(bad.success).toBe(false)
    expect(bad.error?.issues[0]?.path.slice(0, 2)).toEqual(['strategy', 'ratios'])
    expect(channels['project.open'].request.safeParse({ path: '/x', extra: 1 }).success).toBe(false)
    expect(channels['app.info'].request.safeParse({}).success).toBe(true)
  })

  it('builds a grouped bridge and an unwrapped api over one invoke', async () => {
    const calls: [string, unknown][] = []
    const listeners = new Map<string, (p: unknown) => void>()
    const bridge = buildBridge(
      async (channel, request): Promise<Envelope<unknown>> => {
        calls.push([channel, request])
        if (channel === 'project.scan') return { ok: false, error: { code: 'not-found', message: 'no such project' } }
        return { ok: true, result: { echoed: channel } }
      },
      (event, listener) => {
        listeners.set(event, listener)
        return () => listeners.delete(event)
      }
    )
    const api = unwrapBridge(bridge, { kind: 'serve', token: 'abc' })
    await expect(api.project.open({ path: '/p' })).resolves.toEqual({ echoed: 'project.open' })
    await api.app.info()
    expect(calls).toEqual([
      ['project.open', { path: '/p' }],
      ['app.info', {}]
    ])
    const err = await api.project.scan({ projectKey: '0123456789abcdef' }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect(err).toMatchObject({ code: 'not-found', message: 'no such project' })

    const got: TrainingProgress[] = []
    const off = api.training.onProgress((e) => got.push(e))
    expect(listeners.has('training.progress')).toBe(true)
    off()
    expect(listeners.has('training.progress')).toBe(false)
    expect(api.imageUrl('0123456789abcdef', 7)).toBe('/image/0123456789abcdef/7?size=thumb&token=abc')

    expectTypeOf(api.project.open).returns.resolves.toEqualTypeOf<ProjectInfo>()
    expectTypeOf<TuneLabApi['app']['info']>().toBeCallableWith()
  })

  it('image URLs round-trip and odd paths are refused', () => {
    expect(imageUrl({ kind: 'electron' }, '0123456789abcdef', 12, 'full')).toBe(
      'tunelab://image/0123456789abcdef/12?size=full'
    )
    expect(parseImagePath('0123456789abcdef/12')).toEqual({ projectKey: '0123456789abcdef', imageId: 12 })
    for (const p of [
      '0123456789abcdef/../1',
      '../0123456789abcdef/1',
      '0123456789abcdef/0',
      '0123456789abcdef/1/x',
      '/etc/passwd',
      '0123456789abcdef/%2e%2e'
    ])
      expect(parseImagePath(p)).toBeNull()
  })
})
