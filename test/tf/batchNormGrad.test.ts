import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { initBackend } from '@core/tf/backend'
import { randomTensor, relErr } from '@test/helpers/tf'

/** The textbook gradients of y = (x - mean) * gamma / sqrt(var + eps) + beta, written with plain ops. */
function expected(
  x: tf.Tensor,
  dy: tf.Tensor,
  mean: tf.Tensor,
  variance: tf.Tensor,
  gamma: tf.Tensor,
  eps: number
): tf.Tensor[] {
  const axes = x.shape.slice(0, -1).map((_, i) => i)
  const r = tf.rsqrt(tf.add(variance, eps))
  const xm = tf.sub(x, mean)
  return [
    tf.mul(dy, tf.mul(gamma, r)), // x
    tf.neg(tf.sum(tf.mul(dy, tf.mul(gamma, r)), axes)), // mean
    tf.sum(tf.mul(tf.mul(dy, xm), tf.mul(gamma, tf.mul(tf.pow(r, 3), -0.5))), axes), // variance
    tf.sum(tf.mul(dy, tf.mul(xm, r)), axes), // gamma
    tf.sum(dy, axes) // beta
  ]
}

describe('FusedBatchNorm gradient (registered with the wasm kernels)', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'wasm' })
  })

  it.each([
    ['4D activations', [3, 5, 4, 7]],
    ['2D activations (BN after Dense)', [6, 9]]
  ] as const)('matches the analytic gradient for %s', (_label, shape) => {
    const c = shape[shape.length - 1]!
    const before = tf.memory().numTensors
    const errs = tf.tidy(() => {
      const x = randomTensor([...shape], 1)
      const dy = randomTensor([...shape], 2)
      const mean = randomTensor([c], 3)
      const variance = tf.add(tf.abs(randomTensor([c], 4)), 0.5)
      const gamma = randomTensor([c], 5)
      const beta = randomTensor([c], 6)
      const f = (a: tf.Tensor, m: tf.Tensor, v: tf.Tensor, g: tf.Tensor, b: tf.Tensor): tf.Tensor =>
        tf.sum(tf.mul(tf.batchNorm(a, m, v, b, g, 1e-3), dy))
      const got = tf.grads(f)([x, mean, variance, gamma, beta])
      const want = expected(x, dy, mean, variance, gamma, 1e-3)
      return got.map((g, k) => tf.tensor1d([relErr(g.dataSync(), want[k]!.dataSync())]))
    })
    for (const e of errs) expect(e.dataSync()[0]).toBeLessThan(1e-5)
    tf.dispose(errs)
    expect(tf.memory().numTensors).toBe(before)
  })
})
