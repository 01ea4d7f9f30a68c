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
    const { jpg, png } = await noisyImages(40)
    // Cut inside the compressed data (the noise makes it most of the file).
    const cutJpg = jpg.subarray(0, Math.floor(jpg.length * 0.6))
    const cutPng = png.subarray(0, Math.floor(png.length * 0.6))
    const files = [cutJpg, cutPng, zeroRows(jpg)]
    const seen = new Map<number, Set<string>>([0, 1, 2].map((k) => [k, new Set<string>()]))
    await Promise.all(
      Array.from({ length: 450 }, async (_, i) => {
        seen.get(i % 3)!.add(await reason(decodeBufferResized(files[i % 3]!, 24, 'squash')))
      })
    )
    expect([...seen.get(0)!]).toEqual([TRUNCATED])
    expect([...seen.get(1)!]).toEqual([TRUNCATED])
    for (const r of seen.get(2)!) expect(r).toMatch(/^cannot decode/)
  })

  it('tells cut short from broken by the structure: an EXIF thumbnail or bytes after the end do not fool it', async () => {
    const { jpg } = await noisyImages(64)
    const { jpg: thumb } = await noisyImages(16)
    // APP1 "Exif" holding a whole small JPEG (its own scan and end marker), as cameras write a thumbnail.
    const app1Body = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), thumb])
    const app1 = Buffer.concat([Buffer.from([0xff, 0xe1]), u16(app1Body.length + 2), app1Body])
    const withThumb = Buffer.concat([jpg.subarray(0, 2), app1, jpg.subarray(2)])
    expect(await reason(decodeBufferResized(withThumb, 24, 'squash'))).toBe('decoded')
    const mainScan = withThumb.lastIndexOf(Buffer.from([0xff, 0xda]))
    // Cut before the main image's scan: the thumbnail's end marker must not count.
    expect(await reason(decodeBufferResized(withThumb.subarray(0, mainScan - 10), 24, 'squash'))).toBe(TRUNCATED)
    expect(await reason(decodeBufferResized(withThumb.subarray(0, mainScan + 40), 24, 'squash'))).toBe(TRUNCATED)
    // Broken but complete, followed by bytes holding markers (as motion photos append a video).
    const trailing = Buffer.concat([zeroRows(jpg), Buffer.from([0xff, 0xda, 0x00, 0x08, 0xff, 0xd8, 0xff, 0xe0])])
    expect(await reason(decodeBufferResized(trailing, 24, 'squash'))).toMatch(/^cannot decode/)
  })
})

const TRUNCATED = 'truncated image: the file ends before its image data does'

async function noisyImages(w: number): Promise<{ jpg: Buffer; png: Buffer }> {
  const noise = Buffer.alloc(w * w * 3)
  for (let i = 0; i < noise.length; i++) noise[i] = (i * 7919) % 251
  const img = sharp(noise, { raw: { width: w, height: w, channels: 3 } })
  return { jpg: await img.clone().jpeg({ quality: 90 }).toBuffer(), png: await img.clone().png().toBuffer() }
}

/** A complete JPEG whose frame header says 0 rows: broken, but not cut short. */
function zeroRows(jpg: Buffer): Buffer {
  const out = Buffer.from(jpg)
  out.writeUInt16BE(0, out.indexOf(Buffer.from([0xff, 0xc0])) + 5)
  return out
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2)
  b.writeUInt16BE(n)
  return b
}
