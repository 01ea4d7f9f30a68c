import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import sharp from 'sharp'
import type { AugmentSpec } from '@shared/domain'
import { NO_AUGMENTATION } from '@shared/domain'
import { formatAugmentSpec, isIdentity, parseAugmentSpec } from '@core/pipeline/augmentSpec'
import { AUGMENT_PRESETS } from '@shared/augmentPresets'
import { applyAugmentParams, augmentRgb, IDENTITY_PARAMS, sampleAugmentParams } from '@core/pipeline/augment'
import { renderAugmentedSamples } from '@core/pipeline/preview'
import { createRng } from '@core/util/rng'
import { makeProject, syntheticRgb, tempDir } from '../helpers/synthetic'

const S = 32
const img = syntheticRgb(S, 0, createRng(11))

function mirror(src: Uint8Array, n: number, h: boolean, v: boolean): Uint8Array {
  const out = new Uint8Array(src.length)
  for (let y = 0; y < n; y++)
    for (let x = 0; x < n; x++) {
      const sx = h ? n - 1 - x : x
      const sy = v ? n - 1 - y : y
      out.set(src.subarray((sy * n + sx) * 3, (sy * n + sx) * 3 + 3), (y * n + x) * 3)
    }
  return out
}

function maxDiff(a: Uint8Array, b: Uint8Array): number {
  let m = 0
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] ?? 0) - (b[i] ?? 0)))
  return m
}

const spec = (s: Partial<AugmentSpec>): AugmentSpec => ({ ...NO_AUGMENTATION, ...s })

describe('augmentRgb', () => {
  it('identity spec returns identical pixels in a new buffer', () => {
    const out = augmentRgb(img, S, NO_AUGMENTATION, createRng(1))
    expect(out).not.toBe(img)
    expect(maxDiff(out, img)).toBe(0)
    expect(maxDiff(applyAugmentParams(img, S, IDENTITY_PARAMS), img)).toBe(0)
  })

  it('horizontal flip is an exact mirror, and about half of the draws flip', () => {
    expect(maxDiff(applyAugmentParams(img, S, { ...IDENTITY_PARAMS, flipH: true }), mirror(img, S, true, false))).toBe(
      0
    )
    expect(maxDiff(applyAugmentParams(img, S, { ...IDENTITY_PARAMS, flipV: true }), mirror(img, S, false, true))).toBe(
      0
    )
    const rng = createRng(3)
    const flipped = mirror(img, S, true, false)
    let nFlipped = 0
    for (let i = 0; i < 200; i++) {
      const out = augmentRgb(img, S, spec({ horizontalFlip: true }), rng)
      if (maxDiff(out, flipped) === 0) nFlipped++
      else expect(maxDiff(out, img)).toBe(0)
    }
    expect(nFlipped).toBeGreaterThan(70)
    expect(nFlipped).toBeLessThan(130)
  })

  it('a half-turn rotation equals horizontal + vertical flip', () => {
    const rotated = applyAugmentParams(img, S, { ...IDENTITY_PARAMS, angle: Math.PI })
    expect(maxDiff(rotated, mirror(img, S, true, true))).toBeLessThanOrEqual(1)
  })

  it('a positive quarter turn rotates counter-clockwise (Keras convention)', () => {
    // Right third blue: after +90 deg the blue band must be at the top.
    const src = new Uint8Array(S * S * 3)
    for (let y = 0; y < S; y++)
      for (let x = 0; x < S; x++) src.set(x >= (2 * S) / 3 ? [0, 0, 255] : [255, 255, 255], (y * S + x) * 3)
    const out = applyAugmentParams(src, S, { ...IDENTITY_PARAMS, angle: Math.PI / 2 })
    const at = (x: number, y: number): number[] => [...out.subarray((y * S + x) * 3, (y * S + x) * 3 + 3)]
    expect(at(S / 2, 2)).toEqual([0, 0, 255])
    expect(at(S / 2, S - 3)).toEqual([255, 255, 255])
  })

  it('shift moves content and fills by reflection; zoom out shows reflected borders', () => {
    const out = applyAugmentParams(img, S, { ...IDENTITY_PARAMS, shiftX: 4 })
    for (let y = 0; y < S; y++) {
      for (let x = 4; x < S; x++) expect(out[(y * S + x) * 3]).toBe(img[(y * S + x - 4) * 3])
      // reflect: output x=3 samples source x=-1 -> 0, x=0 samples -4 -> 3
      expect(out[(y * S + 3) * 3]).toBe(img[(y * S + 0) * 3])
      expect(out[(y * S + 0) * 3]).toBe(img[(y * S + 3) * 3])
    }
    const zoomedOut = applyAugmentParams(img, S, { ...IDENTITY_PARAMS, zoom: 2 })
    expect(maxDiff(zoomedOut, img)).toBeGreaterThan(50)
  })

  it('brightness and contrast follow their formulas, clamped', () => {
    const flat = new Uint8Array(S * S * 3).fill(100)
    expect(applyAugmentParams(flat, S, { ...IDENTITY_PARAMS, brightness: 25.4 })[0]).toBe(125)
    expect(applyAugmentParams(flat, S, { ...IDENTITY_PARAMS, brightness: 200 })[0]).toBe(255)
    const two = new Uint8Array(S * S * 3)
    for (let i = 0; i < two.length; i++) two[i] = Math.floor(i / 3) % 2 === 0 ? 50 : 150
    const c = applyAugmentParams(two, S, { ...IDENTITY_PARAMS, contrast: 1.5 })
    expect([c[0], c[3]]).toEqual([25, 175])
  })

  it('is reproducible per seed and different across seeds', () => {
    const s = AUGMENT_PRESETS['pdl-ch3'].spec
    const a = augmentRgb(img, S, s, createRng(99))
    const b = augmentRgb(img, S, s, createRng(99))
    const c = augmentRgb(img, S, s, createRng(100))
    expect(maxDiff(a, b)).toBe(0)
    expect(maxDiff(a, c)).toBeGreaterThan(0)
  })

  it('draws stay within the spec ranges', () => {
    const s = spec({ rotation: 0.2, widthShift: 0.1, heightShift: 0.3, zoom: 0.2, brightness: 0.1, contrast: 0.2 })
    const rng = createRng(4)
    for (let i = 0; i < 500; i++) {
      const p = sampleAugmentParams(s, 100, rng)
      expect(Math.abs(p.angle)).toBeLessThanOrEqual(0.2 * 2 * Math.PI)
      expect(Math.abs(p.shiftX)).toBeLessThanOrEqual(10)
      expect(Math.abs(p.shiftY)).toBeLessThanOrEqual(30)
      expect(p.zoom).toBeGreaterThanOrEqual(0.8)
      expect(p.zoom).toBeLessThanOrEqual(1.2)
      expect(Math.abs(p.brightness)).toBeLessThanOrEqual(25.5)
      expect(Math.abs(p.contrast - 1)).toBeLessThanOrEqual(0.2)
      expect(p.flipH || p.flipV).toBe(false)
    }
  })
})

describe('spec strings', () => {
  it('parses the compact form and presets', () => {
    expect(parseAugmentSpec('flip,rotate=0.2,zoom=0.1,shift=0.2,brightness=0.1,contrast=0.1,vflip')).toEqual({
      horizontalFlip: true,
      verticalFlip: true,
      rotation: 0.2,
      widthShift: 0.2,
      heightShift: 0.2,
      zoom: 0.1,
      brightness: 0.1,
      contrast: 0.1
    })
    expect(parseAugmentSpec('none')).toEqual(NO_AUGMENTATION)
    expect(isIdentity(parseAugmentSpec(' none '))).toBe(true)
    expect(parseAugmentSpec('tf-tutorial')).toEqual(spec({ horizontalFlip: true, rotation: 0.2 }))
    expect(parseAugmentSpec('pdl-ch3')).toEqual(
      spec({ rotation: 20 / 360, widthShift: 0.2, heightShift: 0.2, zoom: 0.2 })
    )
    expect(parseAugmentSpec('rotate=20deg,wshift=0.1,hshift=0.3')).toEqual(
      spec({ rotation: 20 / 360, widthShift: 0.1, heightShift: 0.3 })
    )
    expect(parseAugmentSpec('pdl-ch3,flip,zoom=0.1')).toEqual(
      spec({ horizontalFlip: true, rotation: 20 / 360, widthShift: 0.2, heightShift: 0.2, zoom: 0.1 })
    )
    expect(parseAugmentSpec('flip=vertical')).toEqual(spec({ verticalFlip: true }))
  })

  it('formats canonically and round-trips', () => {
    for (const s of [
      ...Object.values(AUGMENT_PRESETS).map((p) => p.spec),
      spec({ widthShift: 0.1, heightShift: 0.3, verticalFlip: true, contrast: 0.05 }),
      spec({ rotation: 1 / 7 })
    ]) {
      expect(parseAugmentSpec(formatAugmentSpec(s))).toEqual(s)
    }
    expect(formatAugmentSpec(AUGMENT_PRESETS['tf-tutorial'].spec)).toBe('flip,rotate=0.2')
    expect(formatAugmentSpec(AUGMENT_PRESETS['pdl-ch3'].spec)).toBe('rotate=20deg,shift=0.2,zoom=0.2')
    expect(formatAugmentSpec(NO_AUGMENTATION)).toBe('none')
  })

  it.each([
    ['', /empty augmentation spec/],
    ['flip,,zoom=0.1', /empty item/],
    ['blur=2', /unknown augmentation "blur".*known: flip, hflip, vflip, rotate/],
    ['rotate', /"rotate" needs a value/],
    ['zoom=abc', /"zoom": "abc" is not a non-negative number/],
    ['zoom=-0.1', /"zoom": "-0.1" is not a non-negative number/],
    ['zoom=1', /"zoom"=1 is out of range: must be < 1/],
    ['shift=1.5', /"shift"=1.5 is out of range: must be <= 1/],
    ['zoom=0.1,zoom=0.2', /"zoom" is given twice/],
    ['flip=maybe', /expected true\/false or horizontal\/vertical\/both/],
    ['zoom=5deg', /degrees are only allowed for rotate/],
    ['flip,tf-tutorial', /preset "tf-tutorial" must come first/]
  ])('rejects "%s"', (text, message) => {
    expect(() => parseAugmentSpec(text)).toThrow(message)
  })
})

describe('renderAugmentedSamples', () => {
  const tmp = tempDir('tunelab-preview-')
  afterAll(() => tmp.cleanup())
  it('returns n seeded PNGs of the requested size', async () => {
    const p = await makeProject(tmp.dir, { classes: 2, perClass: 1, size: 48 })
    const file = join(tmp.dir, p.files[0]?.path ?? '')
    const s = AUGMENT_PRESETS['tf-tutorial'].spec
    const a = await renderAugmentedSamples(file, 40, 'center-crop', s, 4, 7)
    const b = await renderAugmentedSamples(file, 40, 'center-crop', s, 4, 7)
    expect(a).toHaveLength(4)
    expect(a.map((x) => x.equals(b[a.indexOf(x)] ?? Buffer.alloc(0)))).toEqual([true, true, true, true])
    expect(new Set(a.map((x) => x.toString('base64'))).size).toBeGreaterThan(1)
    const meta = await sharp(a[0]).metadata()
    expect([meta.format, meta.width, meta.height, meta.channels]).toEqual(['png', 40, 40, 3])
  })
})
