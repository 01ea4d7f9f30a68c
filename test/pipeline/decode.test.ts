import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import sharp from 'sharp'
import type { ResizeMode } from '@shared/domain'
import { decodeResized, ImageDecodeError } from '@core/pipeline/decode'
import { tempDir } from '../helpers/synthetic'

const tmp = tempDir('tunelab-decode-')
afterAll(() => tmp.cleanup())

const RED = [255, 0, 0]
const GREEN = [0, 255, 0]
const BLUE = [0, 0, 255]
const BLACK = [0, 0, 0]

/** 64x32: left quarter red, middle half green, right quarter blue. */
let bands: string
beforeAll(async () => {
  const w = 64
  const h = 32
  const px = Buffer.alloc(w * h * 3)
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) px.set(x < 16 ? RED : x < 48 ? GREEN : BLUE, (y * w + x) * 3)
  bands = join(tmp.dir, 'bands.png')
  writeFileSync(
    bands,
    await sharp(px, { raw: { width: w, height: h, channels: 3 } })
      .png()
      .toBuffer()
  )
})

function at(img: Uint8Array, size: number, x: number, y: number): number[] {
  const i = (y * size + x) * 3
  return [img[i] ?? -1, img[i + 1] ?? -1, img[i + 2] ?? -1]
}

function near(got: number[], want: number[], tol = 30): boolean {
  return got.every((v, i) => Math.abs(v - (want[i] ?? 0)) <= tol)
}

describe('resize modes', () => {
  const cases: Array<[ResizeMode, Array<[number, number, number[]]>]> = [
    // squash: the whole image, bands keep their horizontal proportions
    [
      'squash',
      [
        [1, 8, RED],
        [8, 8, GREEN],
        [14, 8, BLUE],
        [1, 0, RED],
        [14, 15, BLUE]
      ]
    ],
    // center-crop: scaled to 32x16, centre 16 columns kept: only green remains
    [
      'center-crop',
      [
        [0, 8, GREEN],
        [15, 8, GREEN],
        [8, 0, GREEN],
        [8, 15, GREEN]
      ]
    ],
    // pad: scaled to 16x8, black bars above and below
    [
      'pad',
      [
        [8, 1, BLACK],
        [8, 14, BLACK],
        [1, 8, RED],
        [8, 8, GREEN],
        [14, 8, BLUE]
      ]
    ]
  ]
  it.each(cases)('%s puts each region where expected', async (mode, probes) => {
    const img = await decodeResized(bands, 16, mode)
    expect(img.length).toBe(16 * 16 * 3)
    for (const [x, y, want] of probes)
      expect(near(at(img, 16, x, y), want), `${mode} (${x},${y}) = ${at(img, 16, x, y)}`).toBe(true)
  })

  it('rejects bad sizes and modes, and names the file it cannot decode', async () => {
    await expect(decodeResized(bands, 0, 'squash')).rejects.toThrow(/image size must be an integer in 1..4096, got 0/)
    await expect(decodeResized(bands, 16, 'stretch' as ResizeMode)).rejects.toThrow(/unknown resize mode "stretch"/)
    const bad = join(tmp.dir, 'bad.jpg')
    writeFileSync(bad, 'nope')
    const err = await decodeResized(bad, 16, 'squash').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ImageDecodeError)
    expect((err as Error).message).toContain(bad)
    expect((err as Error).message).toMatch(/not a recognised image format/)
  })
})
