// Project images by id, for the tunelab:// protocol (Electron) and the /image route (serve mode) alike.
// The id is looked up in the project's database; the file must resolve inside the project root.
import sharp from 'sharp'
import { readFile } from 'node:fs/promises'
import { extname } from 'node:path'
import { ApiError, THUMB_SIZE, type ImageSize } from '@shared/contract'
import { decodeFull } from '@core/pipeline/decode'
import { resolveInside } from './containment'
import type { ProjectRegistry } from './projects'

export interface ImageBody {
  body: Buffer
  contentType: string
}

const BROWSER_TYPES: Readonly<Record<string, string>> = {
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
  '.gif': 'image/gif',
  '.webp': 'image/webp'
}

export async function projectImage(
  projects: ProjectRegistry,
  projectKey: string,
  imageId: number,
  size: ImageSize
): Promise<ImageBody> {
  const p = projects.get(projectKey)
  const row = p.state.store.getImage(imageId)
  if (!row || row.projectId !== p.state.project.id)
    throw new ApiError('not-found', `no image ${imageId} in this project`)
  const abs = await resolveInside(p.root, row.relPath)
  const type = BROWSER_TYPES[extname(abs).toLowerCase()]
  if (size === 'full' && type) return { body: await readFile(abs), contentType: type }
  // BMP/TIFF (not shown by browsers) and every thumbnail: decode with the core (it reads BMP), re-encode.
  let decoded
  try {
    decoded = await decodeFull(abs)
  } catch (err) {
    throw new ApiError('bad-input', (err as Error).message)
  }
  const img = sharp(Buffer.from(decoded.data.buffer, decoded.data.byteOffset, decoded.data.length), {
    raw: { width: decoded.width, height: decoded.height, channels: 3 }
  })
  if (size === 'full') return { body: await img.png().toBuffer(), contentType: 'image/png' }
  const body = await img
    .resize(THUMB_SIZE, THUMB_SIZE, { fit: 'inside', withoutEnlargement: true })
    .jpeg({ quality: 82 })
    .toBuffer()
  return { body, contentType: 'image/jpeg' }
}

export function httpStatusOf(err: unknown): number {
  if (err instanceof ApiError) {
    if (err.code === 'not-found') return 404
    if (err.code === 'forbidden') return 403
    if (err.code === 'bad-input' || err.code === 'invalid-request') return 400
  }
  return 500
}
