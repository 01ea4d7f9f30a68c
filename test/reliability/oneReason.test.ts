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
})
