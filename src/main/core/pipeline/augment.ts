// Train-time augmentation on uint8 RGB (HWC) images, as ONE affine warp per image (flips, rotation,
// shift and zoom composed), bilinear sampling, Keras' default fill mode 'reflect' (d c b a | a b c d | d c b a),
// then brightness and contrast, then clamp to 0..255 (rounded).
import type { AugmentSpec } from '@shared/domain'
import { NO_AUGMENTATION } from '@shared/domain'
import { createRng, deriveSeed, type Rng } from '../util/rng'

/** The random draw for one image. Angles in radians; shifts in pixels; zoom is the source/output scale (> 1 zooms out). */
export interface AugmentParams {
  flipH: boolean
  flipV: boolean
  angle: number
  shiftX: number
  shiftY: number
  zoom: number
  /** Added to every channel, in 0..255 units. */
  brightness: number
  /** Contrast factor around each channel's mean. */
  contrast: number
}

export const IDENTITY_PARAMS: AugmentParams = { flipH: false, flipV: false, angle: 0, shiftX: 0, shiftY: 0, zoom: 1, brightness: 0, contrast: 1 }

export function isIdentity(spec: AugmentSpec): boolean {
  return (
    !spec.horizontalFlip &&
    !spec.verticalFlip &&
    spec.rotation === 0 &&
    spec.widthShift === 0 &&
    spec.heightShift === 0 &&
    spec.zoom === 0 &&
    spec.brightness === 0 &&
    spec.contrast === 0
  )
}

/**
 * Draws the parameters for one image. Always consumes exactly 8 numbers from rng, in a fixed order,
 * so turning one option on or off does not change the draws of the others.
 */
export function sampleAugmentParams(spec: AugmentSpec, size: number, rng: Rng): AugmentParams {
  const uFlipH = rng.next()
  const uFlipV = rng.next()
  const uAngle = rng.uniform(-1, 1)
  const uShiftX = rng.uniform(-1, 1)
  const uShiftY = rng.uniform(-1, 1)
  const uZoom = rng.uniform(-1, 1)
  const uBright = rng.uniform(-1, 1)
  const uContrast = rng.uniform(-1, 1)
  return {
    flipH: spec.horizontalFlip && uFlipH < 0.5,
    flipV: spec.verticalFlip && uFlipV < 0.5,
    angle: uAngle * spec.rotation * 2 * Math.PI,
    shiftX: uShiftX * spec.widthShift * size,
    shiftY: uShiftY * spec.heightShift * size,
    zoom: 1 + uZoom * spec.zoom,
    brightness: uBright * spec.brightness * 255,
    contrast: 1 + uContrast * spec.contrast
  }
}

function reflectIndex(i: number, n: number): number {
  const period = 2 * n
  let m = i % period
  if (m < 0) m += period
  return m < n ? m : period - 1 - m
}

/** Reflection lookup for indices in [-2n, 3n); indices beyond use reflectIndex. */
const reflectTables = new Map<number, Int32Array>()
function reflectTable(n: number): Int32Array {
  let t = reflectTables.get(n)
  if (!t) {
    t = new Int32Array(5 * n)
    for (let k = 0; k < t.length; k++) t[k] = reflectIndex(k - 2 * n, n)
    reflectTables.set(n, t)
  }
  return t
}

export function isWarpIdentity(p: AugmentParams): boolean {
  return !p.flipH && !p.flipV && p.angle === 0 && p.shiftX === 0 && p.shiftY === 0 && p.zoom === 1
}

/**
 * The warp's matrix and shift as [axx, axy, ayx, ayy, shiftX, shiftY], Keras' rotation matrix in image
 * coordinates (y down): s_x = fx * (cos*u - sin*v) + c, s_y = fy * (sin*u + cos*v) + c, u = x - c - shiftX,
 * v = y - c - shiftY, cos/sin scaled by zoom, fx/fy -1 when flipped. Shared with the native warp (same bytes).
 */
export function warpCoefficients(p: AugmentParams): [number, number, number, number, number, number] {
  const cos = Math.cos(p.angle) * p.zoom
  const sin = Math.sin(p.angle) * p.zoom
  const fx = p.flipH ? -1 : 1
  const fy = p.flipV ? -1 : 1
  return [fx * cos, -fx * sin, fy * sin, fy * cos, p.shiftX, p.shiftY]
}

/**
 * Applies the parameters to a size x size RGB image. Output pixel (x, y) samples the source at
 *   s = flip( zoom * R(angle) * ((x, y) - c - shift) ) + c,   c = ((size-1)/2, (size-1)/2)
 * i.e. forward: flip first (as Keras' RandomFlip layer precedes RandomRotation), then rotate/zoom, then shift.
 * where positive angles rotate the content counter-clockwise on screen (as Keras RandomRotation).
 */
export function applyAugmentParams(src: Uint8Array, size: number, p: AugmentParams, out?: Uint8Array): Uint8Array {
  const n = size
  if (src.length !== n * n * 3) throw new RangeError(`image buffer has ${src.length} bytes, expected ${n}x${n}x3 = ${n * n * 3}`)
  const dst = out ?? new Uint8Array(n * n * 3)
  if (isWarpIdentity(p)) {
    dst.set(src)
  } else {
    const c = (n - 1) / 2
    const [axx, axy, ayx, ayy] = warpCoefficients(p)
    const table = reflectTable(n)
    const lo = -2 * n
    const hi = 3 * n - 1
    let o = 0
    for (let y = 0; y < n; y++) {
      const v = y - c - p.shiftY
      let sx = axx * (-c - p.shiftX) + axy * v + c
      let sy = ayx * (-c - p.shiftX) + ayy * v + c
      for (let x = 0; x < n; x++, sx += axx, sy += ayx, o += 3) {
        const x0 = Math.floor(sx)
        const y0 = Math.floor(sy)
        const wx = sx - x0
        const wy = sy - y0
        let ix0: number, ix1: number, iy0: number, iy1: number
        if (x0 >= 0 && x0 < n - 1) {
          ix0 = x0
          ix1 = x0 + 1
        } else if (x0 >= lo && x0 < hi) {
          ix0 = table[x0 + 2 * n] as number
          ix1 = table[x0 + 1 + 2 * n] as number
        } else {
          ix0 = reflectIndex(x0, n)
          ix1 = reflectIndex(x0 + 1, n)
        }
        if (y0 >= 0 && y0 < n - 1) {
          iy0 = y0
          iy1 = y0 + 1
        } else if (y0 >= lo && y0 < hi) {
          iy0 = table[y0 + 2 * n] as number
          iy1 = table[y0 + 1 + 2 * n] as number
        } else {
          iy0 = reflectIndex(y0, n)
          iy1 = reflectIndex(y0 + 1, n)
        }
        const p00 = (iy0 * n + ix0) * 3
        const p01 = (iy0 * n + ix1) * 3
        const p10 = (iy1 * n + ix0) * 3
        const p11 = (iy1 * n + ix1) * 3
        const w00 = (1 - wx) * (1 - wy)
        const w01 = wx * (1 - wy)
        const w10 = (1 - wx) * wy
        const w11 = wx * wy
        for (let ch = 0; ch < 3; ch++) {
          const val = (src[p00 + ch] as number) * w00 + (src[p01 + ch] as number) * w01 + (src[p10 + ch] as number) * w10 + (src[p11 + ch] as number) * w11
          dst[o + ch] = val + 0.5 // Uint8Array store truncates: +0.5 rounds (values are within 0..255)
        }
      }
    }
  }
  applyColour(dst, p)
  return dst
}

/** In place: the brightness / contrast part of the parameters (nothing when they are neutral). */
export function applyColour(img: Uint8Array, p: AugmentParams): void {
  if (p.brightness !== 0 || p.contrast !== 1) adjustColour(img, p.brightness, p.contrast)
}

/** In place: (x - mean_c) * contrast + mean_c + brightness, rounded and clamped; mean per channel (Keras RandomContrast). */
function adjustColour(img: Uint8Array, brightness: number, contrast: number): void {
  const px = img.length / 3
  const mean = [0, 0, 0]
  if (contrast !== 1) {
    let r = 0
    let g = 0
    let b = 0
    for (let i = 0; i < img.length; i += 3) {
      r += img[i] as number
      g += img[i + 1] as number
      b += img[i + 2] as number
    }
    mean[0] = r / px
    mean[1] = g / px
    mean[2] = b / px
  }
  const clamped = new Uint8ClampedArray(img.buffer, img.byteOffset, img.length)
  for (let ch = 0; ch < 3; ch++) {
    const offset = (mean[ch] as number) * (1 - contrast) + brightness
    for (let i = ch; i < img.length; i += 3) clamped[i] = (img[i] as number) * contrast + offset
  }
}

/** Augments one size x size RGB image with a fresh random draw from rng. Identity specs return an unchanged copy. */
export function augmentRgb(src: Uint8Array, size: number, spec: AugmentSpec, rng: Rng): Uint8Array {
  if (isIdentity(spec)) {
    if (src.length !== size * size * 3) throw new RangeError(`image buffer has ${src.length} bytes, expected ${size}x${size}x3 = ${size * size * 3}`)
    return src.slice()
  }
  return applyAugmentParams(src, size, sampleAugmentParams(spec, size, rng))
}

/** An rng for one image in one epoch, independent of batch order and parallelism. */
export function augmentRng(seed: number, epoch: number, imageKey: string | number): Rng {
  return createRng(deriveSeed(deriveSeed(seed, `epoch:${epoch}`), imageKey))
}

// ---- compact spec strings --------------------------------------------------------------------------

export const AUGMENT_PRESETS: Record<string, AugmentSpec> = {
  none: { ...NO_AUGMENTATION },
  /** TensorFlow transfer-learning tutorial: RandomFlip('horizontal') + RandomRotation(0.2). */
  'tf-tutorial': { ...NO_AUGMENTATION, horizontalFlip: true, rotation: 0.2 },
  /** Practical Deep Learning ch. 3: rotation_range=20 (degrees), width/height_shift_range=0.2, zoom_range=0.2. */
  'pdl-ch3': { ...NO_AUGMENTATION, rotation: 20 / 360, widthShift: 0.2, heightShift: 0.2, zoom: 0.2 }
}

export class AugmentSpecError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'AugmentSpecError'
  }
}

type NumericKey = 'rotation' | 'widthShift' | 'heightShift' | 'zoom' | 'brightness' | 'contrast'

const NUMERIC_KEYS: Record<string, { fields: NumericKey[]; max: number; maxInclusive: boolean; what: string }> = {
  rotate: { fields: ['rotation'], max: 1, maxInclusive: true, what: 'fraction of a full turn (0.2 = +/-72 deg), or degrees as "20deg"' },
  rotation: { fields: ['rotation'], max: 1, maxInclusive: true, what: 'fraction of a full turn (0.2 = +/-72 deg), or degrees as "20deg"' },
  shift: { fields: ['widthShift', 'heightShift'], max: 1, maxInclusive: true, what: 'fraction of the image size' },
  wshift: { fields: ['widthShift'], max: 1, maxInclusive: true, what: 'fraction of the width' },
  hshift: { fields: ['heightShift'], max: 1, maxInclusive: true, what: 'fraction of the height' },
  zoom: { fields: ['zoom'], max: 1, maxInclusive: false, what: 'zoom range z, scale in [1-z, 1+z]' },
  brightness: { fields: ['brightness'], max: 1, maxInclusive: true, what: 'fraction of the full range' },
  contrast: { fields: ['contrast'], max: 1, maxInclusive: false, what: 'contrast range c, factor in [1-c, 1+c]' }
}

const FLIP_KEYS = ['flip', 'hflip', 'vflip']
const ALL_KEYS = [...FLIP_KEYS, ...Object.keys(NUMERIC_KEYS)]

function parseNumber(key: string, raw: string): number {
  const deg = /^(.+?)\s*deg$/i.exec(raw)
  const text = deg ? (deg[1] ?? '') : raw
  if (!/^[+]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text)) throw new AugmentSpecError(`augmentation "${key}": "${raw}" is not a non-negative number`)
  const v = Number(text)
  if (deg) {
    if (key !== 'rotate' && key !== 'rotation') throw new AugmentSpecError(`augmentation "${key}": degrees are only allowed for rotate`)
    return v / 360
  }
  return v
}

/**
 * Parses a compact spec, e.g. "flip,rotate=0.2,zoom=0.1,shift=0.2,brightness=0.1,contrast=0.1,vflip", "none",
 * a preset name ("tf-tutorial", "pdl-ch3"), or a preset followed by overrides ("pdl-ch3,flip").
 */
export function parseAugmentSpec(text: string): AugmentSpec {
  const spec: AugmentSpec = { ...NO_AUGMENTATION }
  const items = text.split(',').map((s) => s.trim())
  if (items.every((s) => s === '')) throw new AugmentSpecError('empty augmentation spec (use "none" for no augmentation)')
  const seen = new Set<string>()
  for (const [i, item] of items.entries()) {
    if (item === '') throw new AugmentSpecError(`empty item in augmentation spec "${text}"`)
    const eq = item.indexOf('=')
    const key = (eq < 0 ? item : item.slice(0, eq)).trim().toLowerCase()
    const value = eq < 0 ? null : item.slice(eq + 1).trim()
    const preset = AUGMENT_PRESETS[key]
    if (preset && value === null) {
      if (i !== 0) throw new AugmentSpecError(`preset "${key}" must come first in the augmentation spec "${text}"`)
      Object.assign(spec, preset)
      continue
    }
    if (seen.has(key)) throw new AugmentSpecError(`augmentation "${key}" is given twice in "${text}"`)
    seen.add(key)
    if (FLIP_KEYS.includes(key)) {
      let on = true
      if (value !== null) {
        const v = value.toLowerCase()
        if (key === 'flip' && ['horizontal', 'h', 'vertical', 'v', 'both', 'hv'].includes(v)) {
          spec.horizontalFlip = v === 'horizontal' || v === 'h' || v === 'both' || v === 'hv'
          spec.verticalFlip = v === 'vertical' || v === 'v' || v === 'both' || v === 'hv'
          continue
        }
        if (['true', 'yes', '1', 'on'].includes(v)) on = true
        else if (['false', 'no', '0', 'off'].includes(v)) on = false
        else throw new AugmentSpecError(`augmentation "${key}": expected true/false${key === 'flip' ? ' or horizontal/vertical/both' : ''}, got "${value}"`)
      }
      if (key === 'vflip') spec.verticalFlip = on
      else spec.horizontalFlip = on
      continue
    }
    const numeric = NUMERIC_KEYS[key]
    if (!numeric) {
      const known = [...ALL_KEYS, ...Object.keys(AUGMENT_PRESETS)].join(', ')
      throw new AugmentSpecError(`unknown augmentation "${key}" in "${text}" (known: ${known})`)
    }
    if (value === null || value === '') throw new AugmentSpecError(`augmentation "${key}" needs a value, e.g. ${key}=0.1 (${numeric.what})`)
    const v = parseNumber(key, value)
    if (numeric.maxInclusive ? v > numeric.max : v >= numeric.max) {
      throw new AugmentSpecError(`augmentation "${key}"=${value} is out of range: must be ${numeric.maxInclusive ? '<=' : '<'} ${numeric.max} (${numeric.what})`)
    }
    for (const f of numeric.fields) spec[f] = v
  }
  return spec
}

function fmt(v: number): string {
  return String(v)
}

/** Whole degrees (20deg) read better than 0.05555555555555555; short decimals (0.2) stay decimals. Both parse back exactly. */
function fmtRotation(v: number): string {
  const deg = Math.round(v * 360)
  const shortDecimal = String(v).length <= 8
  return !shortDecimal && deg !== 0 && deg / 360 === v ? `${deg}deg` : String(v)
}

/** Canonical compact form; parseAugmentSpec(formatAugmentSpec(s)) equals s. */
export function formatAugmentSpec(s: AugmentSpec): string {
  if (isIdentity(s)) return 'none'
  const parts: string[] = []
  if (s.horizontalFlip) parts.push('flip')
  if (s.verticalFlip) parts.push('vflip')
  if (s.rotation !== 0) parts.push(`rotate=${fmtRotation(s.rotation)}`)
  if (s.widthShift !== 0 && s.widthShift === s.heightShift) parts.push(`shift=${fmt(s.widthShift)}`)
  else {
    if (s.widthShift !== 0) parts.push(`wshift=${fmt(s.widthShift)}`)
    if (s.heightShift !== 0) parts.push(`hshift=${fmt(s.heightShift)}`)
  }
  if (s.zoom !== 0) parts.push(`zoom=${fmt(s.zoom)}`)
  if (s.brightness !== 0) parts.push(`brightness=${fmt(s.brightness)}`)
  if (s.contrast !== 0) parts.push(`contrast=${fmt(s.contrast)}`)
  return parts.join(',')
}
