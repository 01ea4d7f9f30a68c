import * as tf from '@tensorflow/tfjs'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadBase, type BaseNetwork } from '@core/models'
import { ForwardPool } from '@core/parallel'
import { CATS, DOGS, TM_V2 } from '@test/helpers/photos'
import { decodeFiles, useWasmBackend } from '@test/helpers/exportFixtures'

const HAVE_DATA = existsSync(TM_V2) && existsSync(CATS) && existsSync(DOGS)

describe.skipIf(!HAVE_DATA)(
  'ForwardPool on real weights and photos (needs /work/shared/data: Teachable Machine MobileNetV2 0.35 + cats_and_dogs_filtered)',
  () => {
    let base: BaseNetwork
    beforeAll(async () => {
      await useWasmBackend()
      base = await loadBase('mobilenet_v2_0.35_224', { path: TM_V2 })
    })
    afterAll(() => base?.model.dispose())

    it('two workers, plain and BN-folded, give the main thread features', async () => {
      const files = [2000, 2001, 2002].flatMap((n) => [join(CATS, `cat.${n}.jpg`), join(DOGS, `dog.${n}.jpg`)])
      const pixels = await decodeFiles(files, 224, 'squash')
      const want = tf.tidy(
        () =>
          tf
            .mean(
              base.model.predict(base.preprocess(tf.tensor4d(pixels, [6, 224, 224, 3], 'int32'))) as tf.Tensor,
              [1, 2]
            )
            .dataSync() as Float32Array
      )
      expect(want.reduce((m, v) => Math.max(m, v), 0)).toBeGreaterThan(0.5)
      for (const foldBn of [false, true]) {
        const pool = await ForwardPool.create({
          workers: 2,
          model: base.model,
          preprocessing: base.spec.preprocessing,
          output: 'pooled',
          foldBn
        })
        try {
          const got = await pool.run(pixels, 6)
          let diff = 0
          got.forEach((v, i) => (diff = Math.max(diff, Math.abs(v - (want[i] as number)))))
          expect(diff).toBeLessThan(foldBn ? 1e-4 : 1e-5)
        } finally {
          await pool.close()
        }
      }
    })
  }
)
