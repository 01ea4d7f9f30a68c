// Image decoding with sharp (plus our own BMP reader). Every decoded image is 8-bit sRGB, 3 channels:
// EXIF orientation applied, grayscale/CMYK/16-bit converted, alpha composited on WHITE.
import { readFile } from 'node:fs/promises'
import sharp from 'sharp'
import type { ResizeMode } from '@shared/domain'
import { BmpError, decodeBmp, isBmp } from './bmp'

/** Lower-case extensions (with dot) that are treated as images. */
export const IMAGE_EXTENSIONS: ReadonlySet<string> = new Set([
  '.jpg',
  '.jpeg',
  '.png',
  '.bmp',
  '.gif',
  '.webp',
  '.tif',
  '.tiff'
])

export const RESIZE_MODES: readonly ResizeMode[] = ['squash', 'center-crop', 'pad']

/** Background used when compositing transparent pixels. */
const ALPHA_BACKGROUND = { r: 255, g: 255, b: 255 }
/** Fill used by the 'pad' resize mode (letterbox bars). */
const PAD_FILL = { r: 0, g: 0, b: 0, alpha: 1 }

/** A file that exists but cannot be decoded as an image; `message` is the human reason. */
export class ImageDecodeError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ImageDecodeError'
  }
}

const TRUNCATED = 'truncated image: the file ends before its image data does'

/**
 * Whether a JPEG or PNG that failed to decode is cut short, read from its own structure: libvips keeps one error
 * buffer for all threads, so under concurrent decodes its message can be empty or name another file's problem.
 * Undefined for other formats (their reason comes from the message).
 */
function endsEarly(buf: Buffer): boolean | undefined {
  if (buf.length >= 3 && buf[0] === 0xff && buf[1] === 0xd8 && buf[2] === 0xff) return !jpegReachesEnd(buf)
  if (buf.length >= 8 && buf.readUInt32BE(0) === 0x89504e47) return !pngReachesEnd(buf)
  return undefined
}

/**
 * Walks the JPEG's segments by their lengths (so an EXIF thumbnail inside APP1 is skipped whole) and each scan's
 * entropy-coded data to its next marker, up to the first end-of-image marker. Bytes after it do not count.
 */
function jpegReachesEnd(buf: Buffer): boolean {
  let pos = 2
  while (pos + 1 < buf.length) {
    if (buf[pos] !== 0xff) return true // not at a marker: broken, but not cut short
    const marker = buf[pos + 1] as number
    if (marker === 0xff) {
      pos++ // fill byte
      continue
    }
    if (marker === 0xd9) return true
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      pos += 2 // no length field
      continue
    }
    if (pos + 4 > buf.length) return false
    pos += 2 + buf.readUInt16BE(pos + 2)
    if (marker !== 0xda) continue
    // Entropy-coded data: 0xFF is followed by 00 (a stuffed byte) or a restart marker inside it.
    while (pos + 1 < buf.length) {
      const next = buf[pos + 1] as number
      if (buf[pos] === 0xff && next !== 0x00 && !(next >= 0xd0 && next <= 0xd7)) break
      pos++
    }
  }
  return false
}

/** Walks the PNG's chunks by their lengths up to IEND. */
function pngReachesEnd(buf: Buffer): boolean {
  let pos = 8
  while (pos + 8 <= buf.length) {
    if (buf.toString('latin1', pos + 4, pos + 8) === 'IEND') return true
    pos += 12 + buf.readUInt32BE(pos)
  }
  return false
}

function explain(err: unknown, buf?: Buffer): ImageDecodeError {
  if (err instanceof ImageDecodeError) return err
  if (err instanceof BmpError) return new ImageDecodeError(err.message)
  const msg = err instanceof Error ? err.message : String(err)
  const first = (msg.split('\n')[0] ?? msg).replace(/:\s*$/, '')
  if (/Input Buffer is empty/i.test(msg)) return new ImageDecodeError('empty file (0 bytes)')
  if (/unsupported image format/i.test(msg))
    return new ImageDecodeError('not a recognised image format (corrupt or not an image)')
  const early = buf ? endsEarly(buf) : undefined
  if (early === true) return new ImageDecodeError(TRUNCATED)
  // One reason per file: libvips words truncation differently on each path (probe, resize, full decode).
  if (early === undefined && /premature end|truncated|unexpected end/i.test(msg)) return new ImageDecodeError(TRUNCATED)
  return new ImageDecodeError(`cannot decode: ${first}`)
}

/**
 * A sharp pipeline for the encoded bytes, oriented and ready to convert to sRGB.
 * failOn 'error' makes truncated and broken files throw instead of decoding grey garbage.
 */
function openBuffer(buf: Buffer): sharp.Sharp {
  if (buf.length === 0) throw new ImageDecodeError('empty file (0 bytes)')
  if (isBmp(buf)) {
    const bmp = decodeBmp(buf)
    return sharp(bmp.data, { raw: { width: bmp.width, height: bmp.height, channels: bmp.channels } })
  }
  return sharp(buf, { failOn: 'error', limitInputPixels: 268_402_689 }).rotate()
}

function toRgb(img: sharp.Sharp): sharp.Sharp {
  return img.flatten({ background: ALPHA_BACKGROUND }).toColourspace('srgb').removeAlpha()
}

const PLAIN_DECODE_MAX_PIXELS = 4_000_000

export interface ProbedImage {
  /** Displayed size (after EXIF orientation). */
  width: number
  height: number
  format: string
}

/**
 * Checks that the bytes decode completely (truncation is detected) and returns the displayed size.
 * Large photos are decoded at a small scale (JPEG shrink-on-load); the whole stream is still read.
 */
export async function probeImage(buf: Buffer): Promise<ProbedImage> {
  try {
    if (buf.length === 0) throw new ImageDecodeError('empty file (0 bytes)')
    if (isBmp(buf)) {
      const bmp = decodeBmp(buf)
      return { width: bmp.width, height: bmp.height, format: 'bmp' }
    }
    const meta = await sharp(buf, { failOn: 'error' }).metadata()
    if (!meta.width || !meta.height) throw new ImageDecodeError('image has no dimensions')
    const oriented = meta.autoOrient ?? { width: meta.width, height: meta.height }
    // A plain decode is the cheapest full read for small images (a resize pipeline costs more than the
    // pixels); large ones use shrink-on-load, which still reads the whole stream and so still fails on truncation.
    const img = sharp(buf, { failOn: 'error', limitInputPixels: 268_402_689 })
    if (meta.width * meta.height <= PLAIN_DECODE_MAX_PIXELS) await img.raw().toBuffer()
    else await img.resize(64, 64, { fit: 'fill' }).raw().toBuffer()
    return { width: oriented.width, height: oriented.height, format: meta.format ?? 'unknown' }
  } catch (err) {
    throw explain(err, buf)
  }
}

/**
 * probeImage and the training pixels in one decode: the resize pipeline reads the whole stream too, so truncated
 * files fail the same way. For a scan whose images are about to be trained on at this size.
 */
export async function probeImageResized(
  buf: Buffer,
  size: number,
  mode: ResizeMode
): Promise<ProbedImage & { pixels: Uint8Array }> {
  let probed: ProbedImage
  try {
    if (buf.length === 0) throw new ImageDecodeError('empty file (0 bytes)')
    if (isBmp(buf)) return { ...(await probeImage(buf)), pixels: await decodeBufferResized(buf, size, mode) }
    const meta = await sharp(buf, { failOn: 'error' }).metadata()
    if (!meta.width || !meta.height) throw new ImageDecodeError('image has no dimensions')
    const oriented = meta.autoOrient ?? { width: meta.width, height: meta.height }
    probed = { width: oriented.width, height: oriented.height, format: meta.format ?? 'unknown' }
  } catch (err) {
    throw explain(err, buf)
  }
  return { ...probed, pixels: await decodeBufferResized(buf, size, mode) }
}

function resizeOptions(size: number, mode: ResizeMode): sharp.ResizeOptions {
  switch (mode) {
    case 'squash':
      return { width: size, height: size, fit: 'fill' }
    case 'center-crop':
      return { width: size, height: size, fit: 'cover', position: 'centre' }
    case 'pad':
      return { width: size, height: size, fit: 'contain', position: 'centre', background: PAD_FILL }
    default:
      throw new RangeError(`unknown resize mode "${String(mode)}" (expected one of ${RESIZE_MODES.join(', ')})`)
  }
}

export function checkSize(size: number): void {
  if (!Number.isInteger(size) || size < 1 || size > 4096)
    throw new RangeError(`image size must be an integer in 1..4096, got ${size}`)
}

/** Decodes encoded bytes and resizes to size x size RGB (uint8, row-major HWC). */
export async function decodeBufferResized(buf: Buffer, size: number, mode: ResizeMode): Promise<Uint8Array> {
  checkSize(size)
  const opts = resizeOptions(size, mode)
  let out: Buffer
  try {
    out = await toRgb(openBuffer(buf)).resize(opts).raw().toBuffer()
  } catch (err) {
    throw explain(err, buf)
  }
  if (out.length !== size * size * 3)
    throw new ImageDecodeError(`decoder returned ${out.length} bytes, expected ${size * size * 3}`)
  return new Uint8Array(out.buffer, out.byteOffset, out.length)
}

/** Reads an image file and returns size*size*3 RGB bytes. Errors name the file. */
export async function decodeResized(absPath: string, size: number, mode: ResizeMode): Promise<Uint8Array> {
  const buf = await readFile(absPath)
  try {
    return await decodeBufferResized(buf, size, mode)
  } catch (err) {
    if (err instanceof ImageDecodeError) throw new ImageDecodeError(`${absPath}: ${err.message}`)
    throw err
  }
}

/** Decodes a file at its own size (oriented, RGB) — for previews. */
export async function decodeFull(absPath: string): Promise<{ data: Uint8Array; width: number; height: number }> {
  const buf = await readFile(absPath)
  try {
    const { data, info } = await toRgb(openBuffer(buf)).raw().toBuffer({ resolveWithObject: true })
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height }
  } catch (err) {
    throw new ImageDecodeError(`${absPath}: ${explain(err, buf).message}`)
  }
}
