// Augmentation speed: npx tsx bench/augment.ts   (ms per image at 160x160 and 224x224, pure JS, one thread)
import type { AugmentSpec } from '../src/shared/domain'
import { augmentRgb } from '../src/main/core/pipeline/augment'
import { parseAugmentSpec } from '../src/main/core/pipeline/augmentSpec'
import { AUGMENT_PRESETS } from '../src/shared/augmentPresets'
import { createRng } from '../src/main/core/util/rng'
import { syntheticRgb } from '../test/helpers/synthetic'

const specs: Array<[string, AugmentSpec]> = [
  ['tf-tutorial (flip + rotate 0.2)', AUGMENT_PRESETS['tf-tutorial'].spec],
  ['pdl-ch3 (rotate 20deg, shift 0.2, zoom 0.2)', AUGMENT_PRESETS['pdl-ch3'].spec],
  [
    'all (+ brightness, contrast, vflip)',
    parseAugmentSpec('flip,vflip,rotate=0.2,shift=0.2,zoom=0.2,brightness=0.1,contrast=0.1')
  ]
]
for (const size of [160, 224]) {
  const img = syntheticRgb(size, 1, createRng(1))
  for (const [name, spec] of specs) {
    const rng = createRng(2)
    for (let i = 0; i < 50; i++) augmentRgb(img, size, spec, rng) // warm-up (JIT)
    const n = 400
    const t0 = performance.now()
    for (let i = 0; i < n; i++) augmentRgb(img, size, spec, rng)
    const ms = (performance.now() - t0) / n
    console.log(`${size}x${size} ${name}: ${ms.toFixed(3)} ms/image (${(1000 / ms).toFixed(0)} images/s)`)
  }
}
