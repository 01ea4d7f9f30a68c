// Serve mode sends the image of "Predict an image" as an HTTP POST body, not as a base64 WebSocket frame
// (a large photo would make a frame bigger than the server reads). Answers the channel's envelope.
import type { Envelope, RequestOf } from '@shared/contract'

type PredictRequest = RequestOf<'predict.image'>

export function isBytesPredict(
  channel: string,
  request: unknown
): request is PredictRequest & { image: { kind: 'bytes' } } {
  if (channel !== 'predict.image' || typeof request !== 'object' || request === null) return false
  const image = (request as { image?: unknown }).image
  return typeof image === 'object' && image !== null && (image as { kind?: unknown }).kind === 'bytes'
}

function base64Bytes(base64: string): ArrayBuffer {
  const binary = atob(base64)
  const buffer = new ArrayBuffer(binary.length)
  const out = new Uint8Array(buffer)
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i)
  return buffer
}

/** wsUrl is the API socket's address (ws://host:port/api?token=…); the upload goes to the same host with the same token. */
export async function uploadPredict(
  wsUrl: string,
  request: PredictRequest & { image: { kind: 'bytes' } }
): Promise<Envelope<unknown>> {
  const api = new URL(wsUrl)
  const url = new URL(`/predict/${encodeURIComponent(request.projectKey)}/${request.runId}`, api)
  url.protocol = api.protocol === 'wss:' ? 'https:' : 'http:'
  const token = api.searchParams.get('token')
  if (token) url.searchParams.set('token', token)
  url.searchParams.set('name', request.image.name)
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/octet-stream' },
      body: base64Bytes(request.image.base64)
    })
    return (await res.json()) as Envelope<unknown>
  } catch (err) {
    return {
      ok: false,
      error: { code: 'internal', message: `could not send the image to the TuneLab server: ${(err as Error).message}` }
    }
  }
}
