// Minimal BMP decoder (sharp/libvips cannot read BMP).
// Supported: uncompressed 1/4/8-bit paletted, 16/24/32-bit (BI_RGB and BI_BITFIELDS), bottom-up and top-down.
// Not supported (a BmpError says which): RLE4/RLE8, embedded JPEG/PNG, OS/2 2.x variants.

export class BmpError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'BmpError'
  }
}

export interface DecodedBmp {
  width: number
  height: number
  /** 3 (RGB) or 4 (RGBA when the file declares an alpha channel that is actually used). */
  channels: 3 | 4
  data: Buffer
}

const MAX_PIXELS = 200_000_000

const COMPRESSION_NAMES: Record<number, string> = {
  1: 'RLE8',
  2: 'RLE4',
  4: 'embedded JPEG',
  5: 'embedded PNG',
  11: 'CMYK',
  12: 'CMYK RLE8',
  13: 'CMYK RLE4'
}

export function isBmp(buf: Uint8Array): boolean {
  return buf.length >= 2 && buf[0] === 0x42 && buf[1] === 0x4d
}

interface Mask {
  shift: number
  max: number
  mask: number
}

function maskInfo(mask: number): Mask {
  if (mask === 0) return { shift: 0, max: 0, mask: 0 }
  let shift = 0
  while (((mask >>> shift) & 1) === 0) shift++
  const max = mask >>> shift
  return { shift, max, mask: mask >>> 0 }
}

function channel(px: number, m: Mask, fallback: number): number {
  if (m.max === 0) return fallback
  const v = ((px & m.mask) >>> 0) >>> m.shift
  return m.max === 255 ? v : Math.round((v * 255) / m.max)
}

export function decodeBmp(buf: Buffer): DecodedBmp {
  if (!isBmp(buf)) throw new BmpError('not a BMP file (missing "BM" signature)')
  if (buf.length < 26) throw new BmpError('truncated BMP header')
  const pixelOffset = buf.readUInt32LE(10)
  const headerSize = buf.readUInt32LE(14)
  if (buf.length < 14 + Math.min(headerSize, 40)) throw new BmpError('truncated BMP header')

  let width: number
  let rawHeight: number
  let bpp: number
  let compression = 0
  let colorsUsed = 0
  let paletteEntrySize = 4
  if (headerSize === 12) {
    width = buf.readUInt16LE(18)
    rawHeight = buf.readInt16LE(20)
    bpp = buf.readUInt16LE(24)
    paletteEntrySize = 3
  } else if (headerSize >= 40) {
    width = buf.readInt32LE(18)
    rawHeight = buf.readInt32LE(22)
    bpp = buf.readUInt16LE(28)
    compression = buf.readUInt32LE(30)
    colorsUsed = buf.readUInt32LE(46)
  } else {
    throw new BmpError(`unsupported BMP header size ${headerSize} (OS/2 2.x variant)`)
  }

  const named = COMPRESSION_NAMES[compression]
  if (named) throw new BmpError(`unsupported BMP compression ${named}; only uncompressed BMP is supported`)
  if (compression !== 0 && compression !== 3 && compression !== 6) {
    throw new BmpError(`unsupported BMP compression type ${compression}`)
  }
  if (![1, 4, 8, 16, 24, 32].includes(bpp)) throw new BmpError(`unsupported BMP bit depth ${bpp}`)
  const topDown = rawHeight < 0
  const height = Math.abs(rawHeight)
  if (width <= 0 || height <= 0) throw new BmpError(`invalid BMP dimensions ${width}x${rawHeight}`)
  if (width * height > MAX_PIXELS) throw new BmpError(`BMP too large (${width}x${height})`)

  // Channel masks for 16/32-bit images.
  let rMask = 0
  let gMask = 0
  let bMask = 0
  let aMask = 0
  if (bpp === 16 || bpp === 32) {
    if (compression === 3 || compression === 6) {
      // Masks follow a 40-byte header, or sit inside V2+ headers at the same offset.
      const at = 14 + 40
      if (buf.length < at + 12) throw new BmpError('truncated BMP colour masks')
      rMask = buf.readUInt32LE(at)
      gMask = buf.readUInt32LE(at + 4)
      bMask = buf.readUInt32LE(at + 8)
      if ((compression === 6 || headerSize >= 56) && buf.length >= at + 16) aMask = buf.readUInt32LE(at + 12)
    } else if (bpp === 16) {
      rMask = 0x7c00
      gMask = 0x03e0
      bMask = 0x001f
    } else {
      rMask = 0x00ff0000
      gMask = 0x0000ff00
      bMask = 0x000000ff
      // BI_RGB 32-bit: the 4th byte is officially unused; V4/V5 headers may declare it as alpha.
      if (headerSize >= 108) aMask = buf.readUInt32LE(14 + 52)
    }
  } else if (compression !== 0) {
    throw new BmpError(`BMP bit fields are invalid for ${bpp}-bit images`)
  }

  let palette: Uint8Array | null = null
  if (bpp <= 8) {
    const count = colorsUsed > 0 ? Math.min(colorsUsed, 1 << bpp) : 1 << bpp
    const start = 14 + headerSize + (compression === 3 ? 12 : compression === 6 ? 16 : 0)
    if (buf.length < start + count * paletteEntrySize) throw new BmpError('truncated BMP palette')
    palette = new Uint8Array(256 * 3)
    for (let i = 0; i < count; i++) {
      const p = start + i * paletteEntrySize
      palette[i * 3] = buf[p + 2] ?? 0
      palette[i * 3 + 1] = buf[p + 1] ?? 0
      palette[i * 3 + 2] = buf[p] ?? 0
    }
  }

  const stride = Math.floor((bpp * width + 31) / 32) * 4
  const needed = pixelOffset + stride * (height - 1) + Math.ceil((bpp * width) / 8)
  if (buf.length < needed) throw new BmpError(`truncated BMP pixel data (${buf.length} of ${needed} bytes)`)

  const r = maskInfo(rMask)
  const g = maskInfo(gMask)
  const b = maskInfo(bMask)
  const a = maskInfo(aMask)
  const rgba = Buffer.alloc(width * height * 4)
  let alphaUsed = false
  for (let y = 0; y < height; y++) {
    const row = pixelOffset + (topDown ? y : height - 1 - y) * stride
    let o = y * width * 4
    for (let x = 0; x < width; x++, o += 4) {
      if (palette) {
        const bitPos = x * bpp
        const byte = buf[row + (bitPos >> 3)] ?? 0
        const idx = (byte >> (8 - bpp - (bitPos & 7))) & ((1 << bpp) - 1)
        rgba[o] = palette[idx * 3] ?? 0
        rgba[o + 1] = palette[idx * 3 + 1] ?? 0
        rgba[o + 2] = palette[idx * 3 + 2] ?? 0
        rgba[o + 3] = 255
      } else if (bpp === 24) {
        const p = row + x * 3
        rgba[o] = buf[p + 2] ?? 0
        rgba[o + 1] = buf[p + 1] ?? 0
        rgba[o + 2] = buf[p] ?? 0
        rgba[o + 3] = 255
      } else {
        const px = bpp === 16 ? buf.readUInt16LE(row + x * 2) : buf.readUInt32LE(row + x * 4)
        rgba[o] = channel(px, r, 0)
        rgba[o + 1] = channel(px, g, 0)
        rgba[o + 2] = channel(px, b, 0)
        const alpha = channel(px, a, 255)
        rgba[o + 3] = alpha
        if (alpha !== 255) alphaUsed = true
      }
    }
  }
  // An alpha mask whose values are all zero is a writer quirk, not transparency: treat as opaque.
  let allZeroAlpha = aMask !== 0
  if (alphaUsed) {
    for (let i = 3; i < rgba.length; i += 4)
      if (rgba[i] !== 0) {
        allZeroAlpha = false
        break
      }
  }
  if (!alphaUsed || allZeroAlpha) {
    const rgb = Buffer.alloc(width * height * 3)
    for (let i = 0, j = 0; i < rgba.length; i += 4, j += 3) {
      rgb[j] = rgba[i] ?? 0
      rgb[j + 1] = rgba[i + 1] ?? 0
      rgb[j + 2] = rgba[i + 2] ?? 0
    }
    return { width, height, channels: 3, data: rgb }
  }
  return { width, height, channels: 4, data: rgba }
}

/** Encodes RGB pixels as an uncompressed 24-bit BMP (bottom-up unless topDown). Used by tests and fixtures. */
export function encodeBmp24(rgb: Uint8Array, width: number, height: number, topDown = false): Buffer {
  const stride = Math.floor((24 * width + 31) / 32) * 4
  const size = 54 + stride * height
  const out = Buffer.alloc(size)
  out.write('BM', 0, 'ascii')
  out.writeUInt32LE(size, 2)
  out.writeUInt32LE(54, 10)
  out.writeUInt32LE(40, 14)
  out.writeInt32LE(width, 18)
  out.writeInt32LE(topDown ? -height : height, 22)
  out.writeUInt16LE(1, 26)
  out.writeUInt16LE(24, 28)
  out.writeUInt32LE(stride * height, 34)
  for (let y = 0; y < height; y++) {
    const row = 54 + (topDown ? y : height - 1 - y) * stride
    for (let x = 0; x < width; x++) {
      const s = (y * width + x) * 3
      out[row + x * 3] = rgb[s + 2] ?? 0
      out[row + x * 3 + 1] = rgb[s + 1] ?? 0
      out[row + x * 3 + 2] = rgb[s] ?? 0
    }
  }
  return out
}
