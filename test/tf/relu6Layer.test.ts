// The ReLU(6) layer as one Relu6 op gives the two-pass layer's outputs and gradients exactly, at the edges too.
import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { initBackend } from '@core/tf/backend'
import { useOneOpRelu6 } from '@core/tf/relu6Layer'

describe('ReLU(6) layer as one op', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'wasm' })
    useOneOpRelu6()
  })

  it('matches relu then clip, forward and backward, and runs one Relu6 kernel', async () => {
    const values = [-2, -0, 0, 1e-7, 0.5, 3, 5.999, 6, 6.0001, 9, ...Array.from({ length: 990 }, (_, i) => i / 60 - 4)]
    const x = tf.tensor4d(values, [1, 10, 10, 10])
    const layer = tf.layers.reLU({ maxValue: 6 })
    const dy = tf.randomNormal(x.shape, 0, 1, 'float32', 4)
    const viaLayer = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(layer.apply(t) as tf.Tensor, dy)))
    const twoPasses = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.clipByValue(tf.relu(t), 0, 6), dy)))
    expect(Array.from(await (layer.apply(x) as tf.Tensor).data())).toEqual(
      Array.from(await tf.clipByValue(tf.relu(x), 0, 6).data())
    )
    expect(Array.from(await viaLayer(x).data())).toEqual(Array.from(await twoPasses(x).data()))

    const { kernels } = await tf.profile(() => layer.apply(x) as tf.Tensor)
    expect(kernels.map((k) => k.name)).toEqual(['Relu6'])
    // Other ReLU layers keep their own behaviour.
    const plain = tf.layers.reLU({ maxValue: 2 })
    expect(Array.from(await (plain.apply(tf.tensor1d([-1, 1, 3])) as tf.Tensor).data())).toEqual([0, 1, 2])
  })
})
