// Synthetic image projects for tests: small, fast, and learnable (each class has its own colour/texture).
// Every image carries random noise, so no two generated files are identical unless asked for.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import sharp from 'sharp'
import { encodeBmp24 } from '@core/pipeline/bmp'
import { createRng, type Rng } from '@core/util/rng'

export type SyntheticFormat = 'jpg' | 'png' | 'webp' | 'gif' | 'tiff' | 'bmp'

/** Dominant colour per class index (RGB); classes >= 6 reuse colours with stripes, so they stay separable. */
const CLASS_COLOURS: ReadonlyArray<readonly [number, number, number]> = [
  [220, 40, 40], // red
  [40, 60, 220], // blue
  [40, 200, 60], // green
  [230, 210, 40], // yellow
  [200, 50, 200], // magenta
  [40, 200, 210] // cyan
]

/**
 * A size x size RGB image for class `classIndex`: its colour on a noisy background, as a disc of random
 * position and radius; classes 6+ add stripes (horizontal for 6-11, vertical for 12+).
 */
export function syntheticRgb(size: number, classIndex: number, rng: Rng): Uint8Array {
  const colour = CLASS_COLOURS[classIndex % CLASS_COLOURS.length] ?? [128, 128, 128]
  const stripes = classIndex >= 12 ? 'v' : classIndex >= 6 ? 'h' : null
  const out = new Uint8Array(size * size * 3)
  const cx = rng.uniform(0.3, 0.7) * size
  const cy = rng.uniform(0.3, 0.7) * size
  const r = rng.uniform(0.25, 0.45) * size
  const bg = rng.uniform(60, 160)
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const i = (y * size + x) * 3
      const inside = (x - cx) ** 2 + (y - cy) ** 2 <= r * r
      const stripeOn = stripes === 'h' ? (y >> 2) % 2 === 0 : stripes === 'v' ? (x >> 2) % 2 === 0 : true
      for (let c = 0; c < 3; c++) {
        const base = inside && stripeOn ? (colour[c] ?? 128) : bg
        out[i + c] = Math.max(0, Math.min(255, Math.round(base + rng.uniform(-25, 25))))
      }
    }
  }
  return out
}

/** Encodes RGB pixels in the given format. */
export async function encodeRgb(
  rgb: Uint8Array,
  width: number,
  height: number,
  format: SyntheticFormat
): Promise<Buffer> {
  if (format === 'bmp') return encodeBmp24(rgb, width, height)
  const img = sharp(Buffer.from(rgb.buffer, rgb.byteOffset, rgb.length), { raw: { width, height, channels: 3 } })
  switch (format) {
    case 'jpg':
      return img.jpeg({ quality: 90 }).toBuffer()
    case 'png':
      return img.png().toBuffer()
    case 'webp':
      return img.webp({ quality: 90 }).toBuffer()
    case 'gif':
      return img.gif().toBuffer()
    case 'tiff':
      return img.tiff().toBuffer()
  }
}

export interface MakeProjectOptions {
  layout?: 'flat' | 'presplit'
  /** Class folder names, or a count (class0, class1, ...). Default 2. */
  classes?: number | string[]
  /** Images per class (flat), or per split folder name (presplit), e.g. { train: 8, val: 4 }. Default 6 / { train: 6, validation: 3 }. */
  perClass?: number | Record<string, number>
  /** Image side in pixels. Default 32. */
  size?: number
  /** Formats used in turn. Default ['jpg']. */
  formats?: SyntheticFormat[]
  seed?: number
}

export interface SyntheticFile {
  /** Relative path, forward slashes. */
  path: string
  className: string
  classIndex: number
  /** Split folder name as written ('train', 'val', ...), null for flat. */
  splitDir: string | null
}

export interface SyntheticProject {
  root: string
  classes: string[]
  files: SyntheticFile[]
}

/** Writes a project folder under `root` (created if needed). */
export async function makeProject(root: string, opts: MakeProjectOptions = {}): Promise<SyntheticProject> {
  const layout = opts.layout ?? 'flat'
  const classes =
    typeof opts.classes === 'number' || opts.classes === undefined
      ? Array.from({ length: opts.classes ?? 2 }, (_, i) => `class${i}`)
      : opts.classes
  const size = opts.size ?? 32
  const formats = opts.formats ?? ['jpg']
  const rng = createRng(opts.seed ?? 1)
  const per: Record<string, number> =
    typeof opts.perClass === 'number'
      ? layout === 'flat'
        ? { '': opts.perClass }
        : { train: opts.perClass }
      : (opts.perClass ?? (layout === 'flat' ? { '': 6 } : { train: 6, validation: 3 }))
  const files: SyntheticFile[] = []
  const writes: Promise<void>[] = []
  let k = 0
  for (const [splitDir, count] of Object.entries(per)) {
    for (const [ci, cls] of classes.entries()) {
      const dir = layout === 'flat' ? join(root, cls) : join(root, splitDir, cls)
      mkdirSync(dir, { recursive: true })
      for (let n = 0; n < count; n++) {
        const format = formats[k++ % formats.length] ?? 'jpg'
        const name = `${cls}.${splitDir || 'img'}.${n}.${format}`
        const rel = layout === 'flat' ? `${cls}/${name}` : `${splitDir}/${cls}/${name}`
        const rgb = syntheticRgb(size, ci, rng)
        writes.push(encodeRgb(rgb, size, size, format).then((buf) => writeFileSync(join(root, rel), buf)))
        files.push({ path: rel, className: cls, classIndex: ci, splitDir: layout === 'flat' ? null : splitDir })
      }
    }
  }
  await Promise.all(writes)
  return { root, classes, files }
}

/** A fresh temp folder and its remover, for tests. */
export function tempDir(prefix = 'tunelab-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

export interface OddFile {
  /** Path relative to the folder given to writeOddFiles. */
  name: string
  /** 'image': must be read; 'unreadable': listed with a reason; 'skipped': non-image extension; 'ignored': hidden. */
  expect: 'image' | 'unreadable' | 'skipped' | 'ignored'
  /** For unreadable files: what the reason must mention. */
  reason?: RegExp
  /** For images: displayed size (after EXIF orientation). */
  width?: number
  height?: number
  /** For images: expected RGB at named points after decoding at full size, [x, y, [r, g, b]], tolerance 40. */
  probes?: Array<[number, number, [number, number, number]]>
}

function solid(width: number, height: number, fn: (x: number, y: number) => [number, number, number]): Uint8Array {
  const out = new Uint8Array(width * height * 3)
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const [r, g, b] = fn(x, y)
      out.set([r, g, b], (y * width + x) * 3)
    }
  return out
}

/** 8-bit paletted BMP, bottom-up; palette index = (x < width/2 ? 0 : 1). */
function paletteBmp(width: number, height: number, c0: [number, number, number], c1: [number, number, number]): Buffer {
  const stride = Math.ceil(width / 4) * 4
  const offset = 14 + 40 + 256 * 4
  const out = Buffer.alloc(offset + stride * height)
  out.write('BM', 0, 'ascii')
  out.writeUInt32LE(out.length, 2)
  out.writeUInt32LE(offset, 10)
  out.writeUInt32LE(40, 14)
  out.writeInt32LE(width, 18)
  out.writeInt32LE(height, 22)
  out.writeUInt16LE(1, 26)
  out.writeUInt16LE(8, 28)
  out.writeUInt32LE(256, 46)
  out.set([c0[2], c0[1], c0[0], 0, c1[2], c1[1], c1[0], 0], 54)
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) out[offset + y * stride + x] = x < width / 2 ? 0 : 1
  return out
}

/** 32-bit BI_RGB BMP, top-down (negative height), 4th byte unused. */
function bmp32TopDown(rgb: Uint8Array, width: number, height: number): Buffer {
  const out = Buffer.alloc(54 + width * height * 4)
  out.write('BM', 0, 'ascii')
  out.writeUInt32LE(out.length, 2)
  out.writeUInt32LE(54, 10)
  out.writeUInt32LE(40, 14)
  out.writeInt32LE(width, 18)
  out.writeInt32LE(-height, 22)
  out.writeUInt16LE(1, 26)
  out.writeUInt16LE(32, 28)
  for (let i = 0; i < width * height; i++)
    out.set([rgb[i * 3 + 2] ?? 0, rgb[i * 3 + 1] ?? 0, rgb[i * 3] ?? 0, 0], 54 + i * 4)
  return out
}

/** A BMP header that declares RLE8 compression (unsupported on purpose). */
function rle8Bmp(width: number, height: number): Buffer {
  const out = paletteBmp(width, height, [0, 0, 0], [255, 255, 255])
  out.writeUInt32LE(1, 30)
  return out
}

const RED: [number, number, number] = [255, 0, 0]
const BLUE: [number, number, number] = [0, 0, 255]
const WHITE: [number, number, number] = [255, 255, 255]

/**
 * Writes every awkward case into `dir` (created if needed) and returns what a scanner must make of each.
 * Images are 48x32 (w x h) with a red left half and a blue right half unless stated.
 */
export async function writeOddFiles(dir: string): Promise<OddFile[]> {
  const w = 48
  const h = 32
  const halves = solid(w, h, (x) => (x < w / 2 ? RED : BLUE))
  const raw = (ch: 3 | 4, data: Uint8Array): sharp.Sharp =>
    sharp(Buffer.from(data), { raw: { width: w, height: h, channels: ch } })
  const put = (name: string, data: Uint8Array | string): void => {
    mkdirSync(dirname(join(dir, name)), { recursive: true })
    writeFileSync(join(dir, name), data)
  }
  const lr: OddFile['probes'] = [
    [4, h / 2, RED],
    [w - 5, h / 2, BLUE]
  ]
  const files: OddFile[] = []
  const jpg = await raw(3, halves).jpeg({ quality: 95 }).toBuffer()

  put('plain.jpg', jpg)
  files.push({ name: 'plain.jpg', expect: 'image', width: w, height: h, probes: lr })
  put('UPPER CASE.JPEG', await raw(3, halves).jpeg({ quality: 92 }).toBuffer())
  files.push({ name: 'UPPER CASE.JPEG', expect: 'image', width: w, height: h, probes: lr })
  put('corrupt.jpg', Buffer.from(Array.from({ length: 700 }, (_, i) => (i * 131 + 7) % 256)))
  files.push({ name: 'corrupt.jpg', expect: 'unreadable', reason: /not a recognised image|corrupt/i })
  put('truncated.jpg', jpg.subarray(0, Math.floor(jpg.length / 2)))
  files.push({ name: 'truncated.jpg', expect: 'unreadable', reason: /truncated|premature/i })
  put('zero.png', Buffer.alloc(0))
  files.push({ name: 'zero.png', expect: 'unreadable', reason: /empty/i })
  put('text-as.png', 'this is not a picture\n')
  files.push({ name: 'text-as.png', expect: 'unreadable', reason: /not a recognised image/i })
  put('png-named.jpg', await raw(3, halves).png().toBuffer())
  files.push({ name: 'png-named.jpg', expect: 'image', width: w, height: h, probes: lr })

  // Alpha: left half fully transparent red (must come out WHITE), right half opaque blue.
  const rgba = new Uint8Array(w * h * 4)
  for (let i = 0; i < w * h; i++) rgba.set(i % w < w / 2 ? [255, 0, 0, 0] : [0, 0, 255, 255], i * 4)
  put('alpha.png', await raw(4, rgba).png().toBuffer())
  files.push({
    name: 'alpha.png',
    expect: 'image',
    width: w,
    height: h,
    probes: [
      [4, h / 2, WHITE],
      [w - 5, h / 2, BLUE]
    ]
  })

  const grey = solid(w, h, (x) => (x < w / 2 ? [30, 30, 30] : [220, 220, 220]))
  put('gray.png', await raw(3, grey).toColourspace('b-w').png().toBuffer())
  files.push({
    name: 'gray.png',
    expect: 'image',
    width: w,
    height: h,
    probes: [
      [4, h / 2, [30, 30, 30]],
      [w - 5, h / 2, [220, 220, 220]]
    ]
  })
  put('gray.jpg', await raw(3, grey).toColourspace('b-w').jpeg().toBuffer())
  files.push({
    name: 'gray.jpg',
    expect: 'image',
    width: w,
    height: h,
    probes: [
      [4, h / 2, [30, 30, 30]],
      [w - 5, h / 2, [220, 220, 220]]
    ]
  })
  // CMYK: colours inside the CMYK gamut (pure sRGB blue is not, and comes back as a duller blue).
  const C_RED: [number, number, number] = [200, 40, 40]
  const C_BLUE: [number, number, number] = [60, 90, 170]
  const inGamut = solid(w, h, (x) => (x < w / 2 ? C_RED : C_BLUE))
  put('cmyk.jpg', await raw(3, inGamut).toColourspace('cmyk').jpeg({ quality: 95 }).toBuffer())
  files.push({
    name: 'cmyk.jpg',
    expect: 'image',
    width: w,
    height: h,
    probes: [
      [4, h / 2, C_RED],
      [w - 5, h / 2, C_BLUE]
    ]
  })

  // EXIF orientation 6 (rotate 90 deg clockwise to display): stored 48x32 red|blue becomes 32x48 red over blue.
  put('exif-rot6.jpg', await raw(3, halves).jpeg({ quality: 95 }).withMetadata({ orientation: 6 }).toBuffer())
  files.push({
    name: 'exif-rot6.jpg',
    expect: 'image',
    width: h,
    height: w,
    probes: [
      [h / 2, 4, RED],
      [h / 2, w - 5, BLUE]
    ]
  })

  put('image.webp', await raw(3, halves).webp({ quality: 95 }).toBuffer())
  files.push({ name: 'image.webp', expect: 'image', width: w, height: h, probes: lr })
  put('image.gif', await raw(3, halves).gif().toBuffer())
  files.push({ name: 'image.gif', expect: 'image', width: w, height: h, probes: lr })
  put('image.TIF', await raw(3, halves).tiff().toBuffer())
  files.push({ name: 'image.TIF', expect: 'image', width: w, height: h, probes: lr })

  put('bottom-up24.bmp', encodeBmp24(halves, w, h))
  files.push({ name: 'bottom-up24.bmp', expect: 'image', width: w, height: h, probes: lr })
  // Top half red, bottom half blue: catches a decoder that ignores the row order.
  const topBottom = solid(w, h, (_x, y) => (y < h / 2 ? RED : BLUE))
  put('top-down24.bmp', encodeBmp24(topBottom, w, h, true))
  files.push({
    name: 'top-down24.bmp',
    expect: 'image',
    width: w,
    height: h,
    probes: [
      [w / 2, 3, RED],
      [w / 2, h - 4, BLUE]
    ]
  })
  put('upside24.bmp', encodeBmp24(topBottom, w, h, false))
  files.push({
    name: 'upside24.bmp',
    expect: 'image',
    width: w,
    height: h,
    probes: [
      [w / 2, 3, RED],
      [w / 2, h - 4, BLUE]
    ]
  })
  put('top-down32.BMP', bmp32TopDown(topBottom, w, h))
  files.push({
    name: 'top-down32.BMP',
    expect: 'image',
    width: w,
    height: h,
    probes: [
      [w / 2, 3, RED],
      [w / 2, h - 4, BLUE]
    ]
  })
  put('palette8.bmp', paletteBmp(w, h, RED, BLUE))
  files.push({ name: 'palette8.bmp', expect: 'image', width: w, height: h, probes: lr })
  put('rle8.bmp', rle8Bmp(w, h))
  files.push({ name: 'rle8.bmp', expect: 'unreadable', reason: /RLE8/ })
  put('truncated.bmp', encodeBmp24(halves, w, h).subarray(0, 400))
  files.push({ name: 'truncated.bmp', expect: 'unreadable', reason: /truncated/i })

  put('notes.txt', 'not an image')
  files.push({ name: 'notes.txt', expect: 'skipped' })
  put('Thumbs.db', 'windows junk')
  files.push({ name: 'Thumbs.db', expect: 'skipped' })
  put('.DS_Store', 'mac junk')
  files.push({ name: '.DS_Store', expect: 'ignored' })
  put('.hidden.jpg', jpg)
  files.push({ name: '.hidden.jpg', expect: 'ignored' })
  put('.hidden-folder/inside.jpg', jpg)
  files.push({ name: '.hidden-folder/inside.jpg', expect: 'ignored' })

  put('sous-dossier_été/猫 1.JPG', await raw(3, halves).jpeg({ quality: 90 }).toBuffer())
  files.push({ name: 'sous-dossier_été/猫 1.JPG', expect: 'image', width: w, height: h, probes: lr })
  put('ñandú ü.png', await raw(3, halves).png({ compressionLevel: 1 }).toBuffer())
  files.push({ name: 'ñandú ü.png', expect: 'image', width: w, height: h, probes: lr })
  return files
}
