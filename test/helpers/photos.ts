import * as tf from '@tensorflow/tfjs'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'
import { SHARED_DATA } from '@test/helpers/sharedData'

// TUNELAB_SHARED_DATA lets CI point elsewhere (or at nothing, to check the no-data path).
export const DATA = SHARED_DATA
export const WEIGHTS = join(DATA, 'weights')
export const V1_H5 = join(WEIGHTS, 'mobilenet_2_5_224_tf_no_top.h5')
export const V1_TFJS = join(WEIGHTS, 'tfjs_mobilenet_v1_0.25_224')
export const TM_V2 = join(WEIGHTS, 'tfjs_teachable_machine_mobilenetv2_0.35_dog')
export const DOGS = join(DATA, 'cats_and_dogs_filtered', 'validation', 'dogs')
export const CATS = join(DATA, 'cats_and_dogs_filtered', 'validation', 'cats')

/** First n jpgs of a folder in numeric order (dog.2000, dog.2001, ...). */
export function firstImages(dir: string, n: number): string[] {
  const num = (f: string): number => Number(/(\d+)/.exec(f)?.[1] ?? 0)
  return readdirSync(dir)
    .filter((f) => f.endsWith('.jpg'))
    .sort((a, b) => num(a) - num(b))
    .slice(0, n)
    .map((f) => join(dir, f))
}

/** Decodes photos to a [n,size,size,3] float tensor of RGB 0..255, squashed to size x size. */
export async function decodePhotos(paths: string[], size: number): Promise<tf.Tensor4D> {
  const out = new Float32Array(paths.length * size * size * 3)
  for (const [i, p] of paths.entries()) {
    const { data, info } = await sharp(p)
      .toColourspace('srgb')
      .removeAlpha()
      .resize(size, size, { fit: 'fill' })
      .raw()
      .toBuffer({ resolveWithObject: true })
    if (info.channels !== 3) throw new Error(`${p}: decoded to ${info.channels} channels`)
    out.set(data, i * size * size * 3)
  }
  return tf.tensor4d(out, [paths.length, size, size, 3])
}

export function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] ?? Number.NaN)
}
