// One reason per file: the same truncated image gets the same reason whichever path reads it (the scan's probe,
// the training/prediction resize from a file or from dropped bytes, the full-size image route). Real sharp/libvips.
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import sharp from 'sharp'
import { decodeBufferResized, decodeFull, decodeResized, probeImage } from '@core/pipeline/decode'
import { tempDir } from '@test/helpers/synthetic'

async function reason(p: Promise<unknown>): Promise<string> {
  try {
    await p
    return 'decoded'
  } catch (err) {
    return (err as Error).message
  }
}

describe('one reason per file', () => {
  const tmp = tempDir('tunelab-one-reason-')
  afterAll(() => tmp.cleanup())

  it('a truncated JPEG (small and large) has one reason on every decoding path', async () => {
    for (const size of [48, 2400]) {
      const noise = Buffer.alloc(size * size * 3)
      for (let i = 0; i < noise.length; i++) noise[i] = (i * 7919) % 251
      const jpg = await sharp(noise, { raw: { width: size, height: size, channels: 3 } })
        .jpeg({ quality: 90 })
        .toBuffer()
      const path = join(tmp.dir, `truncated-${size}.jpg`)
      writeFileSync(path, jpg.subarray(0, Math.floor(jpg.length / 2)))
      const bytes = readFileSync(path)
      // Paths that read a file name it first; the reason after it must be the same.
      const reasons = new Set(
        [
          await reason(probeImage(bytes)),
          await reason(decodeResized(path, 96, 'squash')),
          await reason(decodeBufferResized(bytes, 96, 'center-crop')),
          await reason(decodeFull(path))
        ].map((r) => r.replace(`${path}: `, ''))
      )
      expect([...reasons]).toEqual(['truncated image: the file ends before its image data does'])
    }
  })
  it('keeps that reason when many files fail at once (libvips shares one error buffer between threads)', async () => {
    const w = 40
    const img = sharp(Buffer.alloc(w * w * 3, 120), { raw: { width: w, height: w, channels: 3 } })
    const jpg = await img.clone().jpeg({ quality: 95 }).toBuffer()
    const png = await img.clone().png().toBuffer()
    const cutJpg = jpg.subarray(0, Math.floor(jpg.length / 2))
    const cutPng = png.subarray(0, Math.floor(png.length * 0.6))
    // A complete JPEG whose frame header says 0 rows: broken, but not cut short.
    const badJpg = Buffer.from(jpg)
    badJpg.writeUInt16BE(0, badJpg.indexOf(Buffer.from([0xff, 0xc0])) + 5)
    const files = [cutJpg, cutPng, badJpg]
    const seen = new Map<number, Set<string>>([0, 1, 2].map((k) => [k, new Set<string>()]))
    await Promise.all(
      Array.from({ length: 450 }, async (_, i) => {
        seen.get(i % 3)!.add(await reason(decodeBufferResized(files[i % 3]!, 24, 'squash')))
      })
    )
    const truncated = 'truncated image: the file ends before its image data does'
    expect([...seen.get(0)!]).toEqual([truncated])
    expect([...seen.get(1)!]).toEqual([truncated])
    expect(seen.get(2)!.has(truncated)).toBe(false)
  })
})
