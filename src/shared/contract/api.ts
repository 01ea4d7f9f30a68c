// The typed client interface both transports implement, and the generic builders of it. zod-free (preload bundles it).
import type { ChannelName, EventName, EventOf, RequestOf, ResponseOf } from './channels'
import { ApiError, type Envelope } from './envelope'
import { imageUrl, type ImageSize, type ImageTransport } from './imageUrl'
import { CHANNEL_NAMES, EVENT_NAMES } from './names'

export type Unsubscribe = () => void

type DomainOf<C> = C extends `${infer D}.${string}` ? D : never
export type Domain = DomainOf<ChannelName>

/** Channels whose request is an empty object take no argument. */
type ArgsOf<C extends ChannelName> =
  Record<string, never> extends RequestOf<C> ? [request?: RequestOf<C>] : [request: RequestOf<C>]

type EventMethods<D extends string> = {
  [E in EventName as E extends `${D}.${infer N}` ? `on${Capitalize<N>}` : never]: (
    listener: (event: EventOf<E>) => void
  ) => Unsubscribe
}

type BridgeMethods<D extends string> = {
  [C in ChannelName as C extends `${D}.${infer M}` ? M : never]: (
    ...args: ArgsOf<C>
  ) => Promise<Envelope<ResponseOf<C>>>
}

type ApiMethods<D extends string> = {
  [C in ChannelName as C extends `${D}.${infer M}` ? M : never]: (...args: ArgsOf<C>) => Promise<ResponseOf<C>>
}

/**
 * What a transport exposes: one method per channel, grouped by domain (`bridge.project.open({path})`), answering
 * the envelope; `on<Event>` subscriptions return an unsubscribe. The preload exposes this as `window.api`.
 */
export type TuneLabBridge = { [D in Domain]: BridgeMethods<D> & EventMethods<D> }

/**
 * What the screens use: the same methods, answering the result or throwing ApiError(code, message).
 * `imageUrl` builds the URL of a project image for the transport in use (ids only, never paths).
 */
export type TuneLabApi = { [D in Domain]: ApiMethods<D> & EventMethods<D> } & {
  readonly transport: ImageTransport['kind']
  imageUrl(projectKey: string, imageId: number, size?: ImageSize): string
}

export type Invoke = (channel: ChannelName, request: unknown) => Promise<Envelope<unknown>>
export type Subscribe = (event: EventName, listener: (payload: unknown) => void) => Unsubscribe

function split(name: string): [string, string] {
  const dot = name.indexOf('.')
  return [name.slice(0, dot), name.slice(dot + 1)]
}

function domainObject(target: Record<string, Record<string, unknown>>, domain: string): Record<string, unknown> {
  let obj = target[domain]
  if (!obj) {
    obj = {}
    target[domain] = obj
  }
  return obj
}

/** Builds the grouped bridge from one invoke and one subscribe function (used by the preload and the WebSocket client). */
export function buildBridge(invoke: Invoke, subscribe: Subscribe): TuneLabBridge {
  const bridge: Record<string, Record<string, unknown>> = {}
  for (const name of CHANNEL_NAMES) {
    const [domain, method] = split(name)
    domainObject(bridge, domain)[method] = (request?: unknown) => invoke(name, request ?? {})
  }
  for (const name of EVENT_NAMES) {
    const [domain, event] = split(name)
    domainObject(bridge, domain)[`on${event.charAt(0).toUpperCase()}${event.slice(1)}`] = (
      listener: (p: unknown) => void
    ) => subscribe(name, listener)
  }
  return bridge as unknown as TuneLabBridge
}

/** Wraps a bridge so methods answer results and throw ApiError; adds imageUrl for the transport. */
export function unwrapBridge(bridge: TuneLabBridge, transport: ImageTransport): TuneLabApi {
  const api: Record<string, unknown> = {
    transport: transport.kind,
    imageUrl: (projectKey: string, imageId: number, size?: ImageSize) => imageUrl(transport, projectKey, imageId, size)
  }
  const source = bridge as unknown as Record<string, Record<string, (...args: unknown[]) => unknown>>
  for (const name of CHANNEL_NAMES) {
    const [domain, method] = split(name)
    const call = source[domain]?.[method]
    if (!call) throw new Error(`transport lacks ${name}`)
    domainObject(api as Record<string, Record<string, unknown>>, domain)[method] = async (request?: unknown) => {
      const env = (await call(request ?? {})) as Envelope<unknown>
      if (env.ok) return env.result
      throw new ApiError(env.error.code, env.error.message)
    }
  }
  for (const name of EVENT_NAMES) {
    const [domain, event] = split(name)
    const key = `on${event.charAt(0).toUpperCase()}${event.slice(1)}`
    const sub = source[domain]?.[key]
    if (!sub) throw new Error(`transport lacks ${name} subscriptions`)
    domainObject(api as Record<string, Record<string, unknown>>, domain)[key] = sub
  }
  return api as unknown as TuneLabApi
}
