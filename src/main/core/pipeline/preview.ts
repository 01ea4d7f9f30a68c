import sharp from 'sharp'
import type { AugmentSpec, ResizeMode } from '@shared/domain'
import { createRng, deriveSeed } from '../util/rng'
import { augmentRgb } from './augment'
import { decodeResized } from './decode'

/** N augmented versions of one image as PNG buffers (sample i uses its own seeded stream, so sample i is stable as n grows). */
export async function renderAugmentedSamples(
  absPath: string,
  size: number,
  mode: ResizeMode,
  spec: AugmentSpec,
  n: number,
  seed: number
): Promise<Buffer[]> {
  if (!Number.isInteger(n) || n < 0 || n > 256)
    throw new RangeError(`number of samples must be an integer in 0..256, got ${n}`)
  const base = await decodeResized(absPath, size, mode)
  const out: Buffer[] = []
  for (let i = 0; i < n; i++) {
    const px = augmentRgb(base, size, spec, createRng(deriveSeed(seed, `preview:${i}`)))
    out.push(
      await sharp(Buffer.from(px.buffer, px.byteOffset, px.length), { raw: { width: size, height: size, channels: 3 } })
        .png()
        .toBuffer()
    )
  }
  return out
}
