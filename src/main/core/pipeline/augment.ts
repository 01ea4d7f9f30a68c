// Train-time augmentation on uint8 RGB (HWC) images, as ONE affine warp per image (flips, rotation,
// shift and zoom composed), bilinear sampling, Keras' default fill mode 'reflect' (d c b a | a b c d | d c b a),
// then brightness and contrast, then clamp to 0..255 (rounded). The spec grammar and presets are in augmentSpec.ts.
import type { AugmentSpec } from '@shared/domain'
import { createRng, deriveSeed, type Rng } from '../util/rng'
import { isIdentity } from './augmentSpec'

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

export const IDENTITY_PARAMS: AugmentParams = {
  flipH: false,
  flipV: false,
  angle: 0,
  shiftX: 0,
  shiftY: 0,
  zoom: 1,
  brightness: 0,
  contrast: 1
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
  if (src.length !== n * n * 3)
    throw new RangeError(`image buffer has ${src.length} bytes, expected ${n}x${n}x3 = ${n * n * 3}`)
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
          const val =
            (src[p00 + ch] as number) * w00 +
            (src[p01 + ch] as number) * w01 +
            (src[p10 + ch] as number) * w10 +
            (src[p11 + ch] as number) * w11
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
    if (src.length !== size * size * 3)
      throw new RangeError(`image buffer has ${src.length} bytes, expected ${size}x${size}x3 = ${size * size * 3}`)
    return src.slice()
  }
  return applyAugmentParams(src, size, sampleAugmentParams(spec, size, rng))
}

/** An rng for one image in one epoch, independent of batch order and parallelism. */
export function augmentRng(seed: number, epoch: number, imageKey: string | number): Rng {
  return createRng(deriveSeed(deriveSeed(seed, `epoch:${epoch}`), imageKey))
}
