import { describe, expect, it } from 'vitest'
import { NO_AUGMENTATION, type AugmentSpec } from '@shared/domain'
import { augmentRgb, augmentRng } from '@core/pipeline/augment'
import { AUGMENT_PRESETS } from '@shared/augmentPresets'
import { loadDnnl } from '@core/native/dnnl'
import { pipelineAugmentBatch } from '@core/training/augmentBatch'

// The training batch augmentation runs its warp in C++ when the native addon is built; it must give the very
// bytes of the JavaScript warp (same doubles, same order), or runs would depend on the machine.
const load = loadDnnl()
const reason = load.addon ? '' : `native addon unavailable: ${load.reason}`
if (reason) console.warn(`nativeAugment.test.ts skipped: ${reason}`)

function randomImages(count: number, size: number, seed: number): Uint8Array {
  const out = new Uint8Array(count * size * size * 3)
  let a = seed >>> 0
  for (let i = 0; i < out.length; i++) {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0
    out[i] = a >>> 24
  }
  return out
}

const SPECS: Array<[string, AugmentSpec]> = [
  ['tf-tutorial', AUGMENT_PRESETS['tf-tutorial'].spec],
  ['pdl-ch3', AUGMENT_PRESETS['pdl-ch3'].spec],
  [
    'everything',
    {
      ...NO_AUGMENTATION,
      horizontalFlip: true,
      verticalFlip: true,
      rotation: 0.5,
      widthShift: 0.9,
      heightShift: 0.9,
      zoom: 0.6,
      brightness: 0.3,
      contrast: 0.4
    }
  ],
  ['flips only (some images unchanged)', { ...NO_AUGMENTATION, horizontalFlip: true }]
]

describe.skipIf(!!reason)('native batch augmentation', () => {
  it.each(SPECS)('gives the bytes of the JavaScript warp: %s', (_name, spec) => {
    for (const size of [31, 64]) {
      const count = 9
      const per = size * size * 3
      const pixels = randomImages(count, size, size)
      const at = {
        epoch: 3,
        seed: 42,
        keys: Array.from({ length: count }, (_, i) => `img-${i}`),
        rng: augmentRng(0, 0, 0)
      }
      const got = pipelineAugmentBatch(pixels, count, size, spec, at)
      const want = new Uint8Array(pixels.length)
      for (let i = 0; i < count; i++)
        want.set(
          augmentRgb(pixels.subarray(i * per, (i + 1) * per), size, spec, augmentRng(42, 3, `img-${i}`)),
          i * per
        )
      expect(Buffer.from(got).equals(Buffer.from(want))).toBe(true)
      expect(Buffer.from(got).equals(Buffer.from(pixels))).toBe(false)
    }
  })

  it('rejects buffers that do not match the size and count', () => {
    expect(() => load.addon!.warpAffineBatch(new Uint8Array(10), new Uint8Array(10), 4, new Float64Array(6))).toThrow(
      /buffer sizes do not match/
    )
  })
})
