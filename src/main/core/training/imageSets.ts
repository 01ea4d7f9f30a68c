// Adapters between the dataset pipeline (ImageCache, augmentRgb) and the engine's ImageSet / AugmentBatch.
import type { ResizeMode } from '@shared/domain'
import { augmentRgb, augmentRng } from '../pipeline/augment'
import type { BatchItem, ImageCache } from '../pipeline/imageCache'
import type { AugmentBatch, ImageSet } from './types'

/**
 * Per-image augmentation with an rng derived from (seed, epoch, image key): the same image gets the same
 * transform in the same epoch whatever its batch or position.
 */
export const pipelineAugmentBatch: AugmentBatch = (pixels, count, size, spec, at) => {
  const per = size * size * 3
  const out = new Uint8Array(pixels.length)
  for (let i = 0; i < count; i++) {
    const rng = augmentRng(at.seed, at.epoch, at.keys[i] ?? i)
    out.set(augmentRgb(pixels.subarray(i * per, (i + 1) * per), size, spec, rng), i * per)
  }
  return out
}

/** An ImageSet whose pixels come from the ImageCache (decoded once, resized to size with mode). */
export function imageCacheSet(cache: ImageCache, items: readonly (BatchItem & { label: number })[], size: number, mode: ResizeMode): ImageSet {
  return {
    keys: items.map((it) => it.hash),
    labels: items.map((it) => it.label),
    load: (indices) => cache.loadBatch(indices.map((i) => items[i] as BatchItem), size, mode)
  }
}
