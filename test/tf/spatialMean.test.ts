// The inference fast paths give the numbers of the plain TF.js calls they replace, on the wasm backend the app uses.
import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { buildBase } from '@core/models'
import { initBackend } from '@core/tf/backend'
import { inferenceForward, spatialMean, spatialMeanWithGradient } from '@core/tf/spatialMean'

const maxAbsDiff = (a: tf.Tensor, b: tf.Tensor): number => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!)

describe('inference fast paths', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'wasm' })
  })

  it.each([
    [3, 7, 7, 40],
    [2, 5, 3, 8],
    [1, 1, 1, 5]
  ])('spatialMean of [%i, %i, %i, %i] is tf.mean over height and width', (n, h, w, c) => {
    const x = tf.randomUniform([n, h, w, c], -3, 3, 'float32', 11) as tf.Tensor4D
    const fast = spatialMean(x)
    const ref = tf.mean(x, [1, 2])
    expect(fast.shape).toEqual([n, c])
    expect(maxAbsDiff(fast, ref)).toBeLessThan(1e-5)
    tf.dispose([x, fast, ref])
  })

  it('spatialMeanWithGradient has the value and the gradient of tf.mean over height and width', () => {
    const x = tf.randomUniform([4, 7, 5, 24], -3, 3, 'float32', 12) as tf.Tensor4D
    const weights = tf.randomNormal([24, 3], 0, 1, 'float32', 13)
    const lossOf =
      (pool: (t: tf.Tensor4D) => tf.Tensor2D) =>
      (t: tf.Tensor): tf.Scalar =>
        tf.sum(tf.square(tf.matMul(pool(t as tf.Tensor4D), weights)))
    const [fast, ref] = [spatialMeanWithGradient(x), tf.mean(x, [1, 2])]
    expect(maxAbsDiff(fast, ref)).toBeLessThan(1e-5)
    const gFast = tf.grad(lossOf(spatialMeanWithGradient))(x)
    const gRef = tf.grad(lossOf((t) => tf.mean(t, [1, 2]) as tf.Tensor2D))(x)
    expect(gFast.shape).toEqual(x.shape)
    expect(maxAbsDiff(gFast, gRef)).toBeLessThan(1e-5)
    tf.dispose([x, weights, fast, ref, gFast, gRef])
  })

  it('inferenceForward gives model.predict on a whole batch', () => {
    const base = buildBase('mobilenet_v2_0.35_96')
    const x = tf.randomUniform([5, 96, 96, 3], -1, 1, 'float32', 3)
    const fast = inferenceForward(base.model, x) as tf.Tensor
    const ref = base.model.predict(x) as tf.Tensor
    expect(fast.shape).toEqual(ref.shape)
    expect(maxAbsDiff(fast, ref)).toBe(0)
    tf.dispose([x, fast, ref])
    base.model.dispose()
  })
})
