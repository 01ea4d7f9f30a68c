// Grad-CAM on real photos: composites with a cat in one half and a dog in the other; the heatmap for each class
// must put most of its mass in that class' half.
import * as tf from '@tensorflow/tfjs'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'
import { beforeAll, describe, expect, it } from 'vitest'
import { NO_AUGMENTATION } from '@shared/domain'
import { loadBase, type BaseNetwork } from '@core/models'
import { initBackend } from '@core/tf/backend'
import { trainRun } from '@core/training/trainer'
import type { TrainResult } from '@core/training/types'
import { gradCam, gradCamModel, leftHalfMass } from '@core/eval/gradCam'
import { catsDogs, CATS_DOGS, TM_V2 } from '@test/helpers/trainingRealData'

const S = 224
const have = existsSync(CATS_DOGS) && existsSync(TM_V2)

/** RGB uint8 [S, S, 3]: `left` squashed into the left half, `right` into the right half. */
async function composite(left: string, right: string): Promise<Uint8Array> {
  const half = async (p: string): Promise<Buffer> =>
    sharp(p)
      .toColourspace('srgb')
      .removeAlpha()
      .resize(S / 2, S, { fit: 'fill' })
      .raw()
      .toBuffer()
  const [l, r] = await Promise.all([half(left), half(right)])
  const out = new Uint8Array(S * S * 3)
  const row = (S / 2) * 3
  for (let y = 0; y < S; y++) {
    out.set(l.subarray(y * row, (y + 1) * row), y * S * 3)
    out.set(r.subarray(y * row, (y + 1) * row), y * S * 3 + row)
  }
  return out
}

function validationPhotos(cls: 'cats' | 'dogs', n: number): string[] {
  const dir = join(CATS_DOGS, 'validation', cls)
  return readdirSync(dir)
    .filter((f) => f.endsWith('.jpg'))
    .sort()
    .slice(0, n)
    .map((f) => join(dir, f))
}

describe.skipIf(!have)('Grad-CAM on cat|dog composites (needs /work/shared/data)', () => {
  let base: BaseNetwork
  let result: TrainResult
  beforeAll(async () => {
    await initBackend({ prefer: 'wasm' })
    base = await loadBase(`mobilenet_v2_0.35_${S}`, { path: TM_V2 })
    const train = await catsDogs('train', 60, S)
    result = await trainRun(
      {
        classes: ['cats', 'dogs'],
        epochs: 15,
        batchSize: 16,
        lr: 2e-3,
        optimizer: 'adam',
        dropout: 0.2,
        seed: 1,
        augment: NO_AUGMENTATION
      },
      { base, train }
    )
  }, 600_000)

  it('the heatmap of each class lies mostly in its half, in at least 8 of 10 composites (both orders)', async () => {
    const cam = gradCamModel(result.model)
    const cats = validationPhotos('cats', 10)
    const dogs = validationPhotos('dogs', 10)
    let correct = 0
    const shares: string[] = []
    for (let i = 0; i < 10; i++) {
      // Alternate which side the cat is on, so a bias towards one side cannot pass the test.
      const catLeft = i % 2 === 0
      const pixels = await composite(
        catLeft ? (cats[i] as string) : (dogs[i] as string),
        catLeft ? (dogs[i] as string) : (cats[i] as string)
      )
      const input = tf.tidy(() => base.preprocess(tf.tensor4d(pixels, [1, S, S, 3], 'int32').toFloat() as tf.Tensor4D))
      const catShare = leftHalfMass(gradCam(cam, input, 0))
      const dogShare = leftHalfMass(gradCam(cam, input, 1))
      input.dispose()
      const catOk = catLeft ? catShare > 0.5 : catShare < 0.5
      const dogOk = catLeft ? dogShare < 0.5 : dogShare > 0.5
      if (catOk && dogOk) correct++
      shares.push(
        `${catLeft ? 'cat|dog' : 'dog|cat'} cats-left ${catShare.toFixed(2)} dogs-left ${dogShare.toFixed(2)}`
      )
    }
    console.log(`grad-cam: ${correct}/10 composites right\n  ${shares.join('\n  ')}`)
    expect(correct).toBeGreaterThanOrEqual(8)
  }, 600_000)

  it('refuses a class the model does not have, and a model without a TuneLab head', () => {
    const cam = gradCamModel(result.model)
    const input = tf.zeros([1, S, S, 3]) as tf.Tensor4D
    expect(() => gradCam(cam, input, 2)).toThrow(/class index 2 is not one of the model's 2 classes/)
    input.dispose()
    expect(() => gradCamModel(base.model)).toThrow(/no 'head_gap' layer/)
  })
})
