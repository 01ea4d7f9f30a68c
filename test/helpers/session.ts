// An app session (the real handlers, as serve mode runs them) over a temp folder, for service-level tests.
import { join, resolve } from 'node:path'
import { afterAll } from 'vitest'
import type { ChannelName as Channel } from '@shared/contract'
import { dispatch } from '@main/handlers'
import { createSession } from '@main/services/session'
import { tempDir } from './synthetic'

export interface TestSession {
  /** The temp folder: projects go in it, the session's state under app/. */
  dir: string
  /** Dispatches one request; a refusal throws its message. */
  call<T>(channel: Channel, request: object): Promise<T>
  /** Dispatches one request and returns the raw answer (to check a refusal's code and message). */
  raw(channel: Channel, request: object): ReturnType<typeof dispatch>
  ctx: ReturnType<typeof createSession>
}

/** Registers a session for the describe block it is called in (closed and removed after the block). */
export function testSession(prefix: string): TestSession {
  const tmp = tempDir(prefix)
  const ctx = createSession({
    transport: 'serve',
    userDataDir: join(tmp.dir, 'app'),
    workerPath: resolve('src/main/workers/training.ts'),
    broadcast: () => undefined
  })
  afterAll(async () => {
    await ctx.runner.shutdown()
    ctx.projects.closeAll()
    tmp.cleanup()
  })
  const raw = (channel: Channel, request: object): ReturnType<typeof dispatch> =>
    dispatch(channel as 'project.open', request as never, ctx)
  return {
    dir: tmp.dir,
    ctx,
    raw,
    async call<T>(channel: Channel, request: object): Promise<T> {
      const r = await raw(channel, request)
      if (!r.ok) throw new Error(r.error.message)
      return r.result as T
    }
  }
}
