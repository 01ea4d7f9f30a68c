// Real cats/dogs images from /work/shared/data as an in-memory ImageSet (decoded with sharp, squashed).
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'
import type { ImageSet } from '@core/training/types'
import { SHARED_DATA } from '@test/helpers/sharedData'

export const DATA = SHARED_DATA
export const CATS_DOGS = join(DATA, 'cats_and_dogs_filtered')
export const TM_V2 = join(DATA, 'weights', 'tfjs_teachable_machine_mobilenetv2_0.35_dog')

function numbered(dir: string, from: number, n: number): string[] {
  const num = (f: string): number => Number(/(\d+)/.exec(f)?.[1] ?? 0)
  return readdirSync(dir)
    .filter((f) => f.endsWith('.jpg'))
    .sort((a, b) => num(a) - num(b))
    .slice(from, from + n)
    .map((f) => join(dir, f))
}

/** perClass cats then dogs from split (train|validation), starting at the `from`-th file of each class. */
export async function catsDogs(
  split: 'train' | 'validation',
  perClass: number,
  size: number,
  from = 0
): Promise<ImageSet & { paths: string[] }> {
  const paths = [
    ...numbered(join(CATS_DOGS, split, 'cats'), from, perClass),
    ...numbered(join(CATS_DOGS, split, 'dogs'), from, perClass)
  ]
  const per = size * size * 3
  const pixels = new Uint8Array(paths.length * per)
  const keys: string[] = []
  for (const [i, p] of paths.entries()) {
    const bytes = readFileSync(p)
    keys.push(createHash('sha256').update(bytes).digest('hex'))
    const { data, info } = await sharp(bytes)
      .toColourspace('srgb')
      .removeAlpha()
      .resize(size, size, { fit: 'fill' })
      .raw()
      .toBuffer({ resolveWithObject: true })
    if (info.channels !== 3) throw new Error(`${p}: decoded to ${info.channels} channels`)
    pixels.set(data, i * per)
  }
  return {
    paths,
    keys,
    labels: paths.map((_, i) => (i < perClass ? 0 : 1)),
    async load(indices) {
      const out = new Uint8Array(indices.length * per)
      indices.forEach((i, k) => out.set(pixels.subarray(i * per, (i + 1) * per), k * per))
      return out
    }
  }
}
