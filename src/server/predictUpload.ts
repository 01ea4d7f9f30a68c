// POST /predict/<projectKey>/<runId>?name=<file name>: "Predict an image" in serve mode. The image travels as the raw
// request body (not as a base64 WebSocket frame), up to PREDICT_IMAGE_MAX_BYTES; the answer is the channel's envelope.
import type { IncomingMessage, ServerResponse } from 'node:http'
import { fail, formatMegabytes, PREDICT_IMAGE_MAX_BYTES, type Envelope } from '@shared/contract'
import { dispatch } from '../main/handlers'
import type { HandlerContext } from '../main/services/context'

export const PREDICT_UPLOAD_PREFIX = '/predict/'

function answer(res: ServerResponse, status: number, envelope: Envelope<unknown>): void {
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff'
  })
  res.end(JSON.stringify(envelope))
}

const tooBig = (): Envelope<never> =>
  fail(
    'bad-input',
    `the image is larger than ${formatMegabytes(PREDICT_IMAGE_MAX_BYTES)}, the most "Predict an image" accepts`
  )

/** The body, or null once it went over the limit (the rest is drained so the answer can be read). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    let over = false
    req.on('data', (c: Buffer) => {
      size += c.length
      if (size > limit) over = true
      if (!over) chunks.push(c)
    })
    req.on('end', () => resolve(over ? null : Buffer.concat(chunks)))
    req.on('error', reject)
  })
}

export async function predictUpload(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  ctx: HandlerContext
): Promise<void> {
  const m = /^\/predict\/([^/]+)\/(\d{1,9})$/.exec(url.pathname)
  if (!m)
    return answer(res, 400, fail('invalid-request', 'expected POST /predict/<projectKey>/<runId>?name=<file name>'))
  const declared = Number(req.headers['content-length'] ?? NaN)
  if (declared > PREDICT_IMAGE_MAX_BYTES) {
    // Answer at once and read the rest of the body away, keeping the connection open: closing it while the client
    // is still sending makes the kernel reset it, and the client may then lose the 413 it had not read yet.
    answer(res, 413, tooBig())
    req.resume()
    return
  }
  const body = await readBody(req, PREDICT_IMAGE_MAX_BYTES)
  if (!body) return answer(res, 413, tooBig())
  const name = url.searchParams.get('name') ?? 'image'
  const envelope = await dispatch(
    'predict.image',
    { projectKey: m[1], runId: Number(m[2]), image: { kind: 'bytes', name, base64: body.toString('base64') } },
    ctx
  )
  answer(res, envelope.ok ? 200 : 400, envelope)
}
