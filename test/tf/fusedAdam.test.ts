// Adam as one native pass per variable gives tfjs' Adam's numbers bit for bit, step after step, and keeps the same
// state (moments, accumulated betas, iterations) for checkpoints.
import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { initBackend } from '@core/tf/backend'
import { FusedAdam } from '@core/tf/fusedAdam'
import { ADAM_UPDATE, hasKernel } from '@core/tf/nativeTraining'

describe('FusedAdam', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'wasm' })
  })

  it.runIf(process.env['TUNELAB_NATIVE'] !== '0')('is used: the oneDNN addon provides the Adam kernel', () => {
    expect(hasKernel(ADAM_UPDATE)).toBe(true)
  })

  it('matches tf.train.adam exactly over 5 steps, with a variable that gets no gradient on one step', async () => {
    const shapes = [[3, 3, 16, 40], [40], [70001]]
    const start = shapes.map((s, k) => tf.randomNormal(s, 0, 1, 'float32', k))
    const ours = start.map((t, k) => tf.variable(t.clone(), true, `fa_ours_${k}`))
    const ref = start.map((t, k) => tf.variable(t.clone(), true, `fa_ref_${k}`))
    const a: tf.Optimizer = new FusedAdam(3e-3, 0.9, 0.999, 1e-7)
    const b: tf.Optimizer = tf.train.adam(3e-3, 0.9, 0.999, 1e-7)
    for (let step = 0; step < 5; step++) {
      const grads = shapes.map((s, k) => tf.randomNormal(s, 0, step + 1, 'float32', 100 * step + k))
      const skip = step === 2 ? 2 : -1 // the last one: tfjs keeps moments by position in the list
      const map = (vars: tf.Variable[]): tf.NamedTensorMap =>
        Object.fromEntries(vars.flatMap((v, k) => (k === skip ? [] : [[v.name, grads[k]!]])))
      a.applyGradients(map(ours))
      b.applyGradients(map(ref))
      tf.dispose(grads)
    }
    for (let k = 0; k < shapes.length; k++)
      expect(Array.from(await ours[k]!.data())).toEqual(Array.from(await ref[k]!.data()))
    const [wa, wb] = [await a.getWeights(), await b.getWeights()]
    expect(wa.map((w) => w.name.replace('fa_ours', 'x'))).toEqual(wb.map((w) => w.name.replace('fa_ref', 'x')))
    for (let k = 0; k < wa.length; k++)
      expect(Array.from(await wa[k]!.tensor.data())).toEqual(Array.from(await wb[k]!.tensor.data()))
    expect(a.iterations).toBe(5)
    a.dispose()
    b.dispose()
    tf.dispose([...start, ...ours, ...ref])
  })

  it.runIf(process.env['TUNELAB_NATIVE'] !== '0')(
    'flushes a denormal second moment to zero (tfjs keeps it) and still gives the same weights',
    async () => {
      const start = tf.tensor1d([0.5, -0.25, 1, 2])
      const [ours, ref] = ['fa_dn_ours', 'fa_dn_ref'].map((n) => tf.variable(start.clone(), true, n)) as [
        tf.Variable,
        tf.Variable
      ]
      const a: tf.Optimizer = new FusedAdam(1e-3, 0.9, 0.999, 1e-7)
      const b: tf.Optimizer = tf.train.adam(1e-3, 0.9, 0.999, 1e-7)
      // g * g is about 1e-40: below float32's smallest normal (1.18e-38), so the second moment is denormal.
      const g = tf.tensor1d([1e-20, -3e-21, 0, 2e-20])
      a.applyGradients({ [ours.name]: g })
      b.applyGradients({ [ref.name]: g })
      expect(Array.from(await ours.data())).toEqual(Array.from(await ref.data()))
      const vOurs = await (await a.getWeights())[2]!.tensor.data()
      const vRef = await (await b.getWeights())[2]!.tensor.data()
      expect(Array.from(vRef).some((x) => x !== 0 && Math.abs(x) < 1.1754943508222875e-38)).toBe(true)
      expect(Array.from(vOurs)).toEqual([0, 0, 0, 0])
      a.dispose()
      b.dispose()
      tf.dispose([start, ours, ref, g])
    }
  )
})
