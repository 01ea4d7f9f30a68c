// Image URLs by id: tunelab://image/<projectKey>/<imageId>?size=thumb in Electron, /image/<projectKey>/<imageId>?token=…
// in serve mode. The backend resolves the id to a file inside the project root; no path ever leaves the renderer.

export type ImageTransport = { kind: 'electron' } | { kind: 'serve'; token: string }
/** 'thumb' = at most THUMB_SIZE px on the long side (JPEG); 'full' = the file as stored (browser-displayable or PNG). */
export type ImageSize = 'thumb' | 'full'

export const THUMB_SIZE = 256
export const IMAGE_SCHEME = 'tunelab'

export function imageUrl(
  transport: ImageTransport,
  projectKey: string,
  imageId: number,
  size: ImageSize = 'thumb'
): string {
  const path = `${encodeURIComponent(projectKey)}/${Math.trunc(imageId)}`
  if (transport.kind === 'electron') return `${IMAGE_SCHEME}://image/${path}?size=${size}`
  return `/image/${path}?size=${size}&token=${encodeURIComponent(transport.token)}`
}

export interface ParsedImagePath {
  projectKey: string
  imageId: number
}

/** Parses '<projectKey>/<imageId>' (the part after /image/); null when it is anything else. */
export function parseImagePath(path: string): ParsedImagePath | null {
  const m = /^([0-9a-f]{16})\/([1-9][0-9]{0,15})$/.exec(path)
  if (!m || !m[1] || !m[2]) return null
  const imageId = Number(m[2])
  return Number.isSafeInteger(imageId) ? { projectKey: m[1], imageId } : null
}

export function parseImageSize(value: string | null): ImageSize | null {
  if (value === null || value === '' || value === 'thumb') return 'thumb'
  return value === 'full' ? 'full' : null
}
