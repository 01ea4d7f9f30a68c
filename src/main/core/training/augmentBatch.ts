// The engine's AugmentBatch from the pipeline's augmentation: per-image draws, the warp in C++ when the addon loads.
import {
  applyColour,
  augmentRgb,
  augmentRng,
  isWarpIdentity,
  sampleAugmentParams,
  warpCoefficients,
  type AugmentParams
} from '../pipeline/augment'
import { isIdentity } from '../pipeline/augmentSpec'
import { loadDnnl, type DnnlAddon } from '../native/dnnl'
import type { AugmentBatch } from './types'

/**
 * Per-image augmentation with an rng derived from (seed, epoch, image key): the same image gets the same
 * transform in the same epoch whatever its batch or position.
 */
export const pipelineAugmentBatch: AugmentBatch = (pixels, count, size, spec, at) => {
  const addon = loadDnnl().addon
  if (addon && !isIdentity(spec)) return nativeAugmentBatch(addon, pixels, count, size, spec, at)
  const per = size * size * 3
  const out = new Uint8Array(pixels.length)
  for (let i = 0; i < count; i++) {
    const rng = augmentRng(at.seed, at.epoch, at.keys[i] ?? i)
    out.set(augmentRgb(pixels.subarray(i * per, (i + 1) * per), size, spec, rng), i * per)
  }
  return out
}

/** The same bytes as the loop above: parameters drawn here, the warp in C++ over the images in parallel. */
function nativeAugmentBatch(
  addon: DnnlAddon,
  ...[pixels, count, size, spec, at]: Parameters<AugmentBatch>
): Uint8Array {
  const per = size * size * 3
  const params: AugmentParams[] = []
  const coefficients = new Float64Array(count * 6)
  for (let i = 0; i < count; i++) {
    const p = sampleAugmentParams(spec, size, augmentRng(at.seed, at.epoch, at.keys[i] ?? i))
    params.push(p)
    if (isWarpIdentity(p)) coefficients[i * 6] = NaN
    else coefficients.set(warpCoefficients(p), i * 6)
  }
  const out = new Uint8Array(pixels.length)
  addon.warpAffineBatch(pixels.subarray(0, count * per), out.subarray(0, count * per), size, coefficients)
  params.forEach((p, i) => applyColour(out.subarray(i * per, (i + 1) * per), p))
  return out
}
