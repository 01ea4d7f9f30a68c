import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { splitModelAt } from '@core/training/splitModel'
import { tinyBase, useCpu, fixtureRandom } from '@test/helpers/trainingFixtures'

beforeAll(useCpu)

function randomImages(n: number, size: number): tf.Tensor4D {
  const r = fixtureRandom(3)
  return tf.tensor4d(
    Float32Array.from({ length: n * size * size * 3 }, () => r() * 2 - 1),
    [n, size, size, 3]
  )
}

describe('splitModelAt', () => {
  const base = tinyBase(16)
  const names = base.model.layers.map((l) => l.name)

  it('keeps the Keras layer order the fixture documents', () => {
    expect(names[0]).toBe('input_1')
    expect(names[4]).toBe('block_1_expand')
    expect(names[12]).toBe('block_1_add')
    expect(names[15]).toBe('out_relu')
  })

  it.each([1, 2, 4, 7, 11, 12, 13, 15])('lower + upper == whole model at cut %i', (at) => {
    const split = splitModelAt(base.model, at)
    const x = randomImages(3, 16)
    const whole = base.model.apply(x, { training: false }) as tf.Tensor
    let mid: tf.Tensor | tf.Tensor[] = x
    if (split.lower) mid = split.lower.apply(x, { training: false }) as tf.Tensor | tf.Tensor[]
    const parts = split.upper.apply(mid, { training: false }) as tf.Tensor
    expect(parts.shape).toEqual(whole.shape)
    const diff = tf.max(tf.abs(tf.sub(parts, whole))).dataSync()[0] as number
    expect(diff).toBeLessThan(1e-5)
    // Residual cut: both the stem and the block branch cross a cut inside block_1.
    if (at >= 5 && at <= 12) expect(split.boundaryShapes.length).toBe(2)
    if (at === 13 || at === 2) expect(split.boundaryShapes.length).toBe(1)
    expect(split.lower === null).toBe(at === 1)
    tf.dispose([x, whole, mid, parts])
  })

  it('shares weights with the original model', () => {
    const split = splitModelAt(base.model, 7)
    const upperConv = split.upper.layers.find((l) => l.name === 'block_1_project')
    expect(upperConv).toBe(base.model.layers[10])
  })

  it('rejects an out-of-range index with a clear error', () => {
    expect(() => splitModelAt(base.model, 0)).toThrow(/fineTuneAt: layer index must be an integer in \[1, 15\]/)
    expect(() => splitModelAt(base.model, 16)).toThrow(/fineTuneAt/)
    expect(() => splitModelAt(base.model, 2.5)).toThrow(/fineTuneAt/)
  })
})
