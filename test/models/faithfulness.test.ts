import * as tf from '@tensorflow/tfjs'
import { existsSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cutModelAt, loadBase, loadTfjsLayersModel, readKerasH5, readTfjsLayersWeights } from '@core/models'
import { CATS, DATA, decodePhotos, DOGS, firstImages, maxAbsDiff, TM_V2, V1_H5, V1_TFJS } from '@test/helpers/photos'
import { useWasm } from '@test/helpers/wasm'

// Real ImageNet weights from /work/shared/data (see its SOURCES.md); skipped on a fresh clone.
describe.skipIf(!existsSync(DATA))('faithfulness on real weights (needs /work/shared/data)', () => {
  let photos224: tf.Tensor4D
  beforeAll(async () => {
    await useWasm()
    photos224 = await decodePhotos([...firstImages(DOGS, 3), ...firstImages(CATS, 2)], 224)
  })
  afterAll(() => photos224?.dispose())

  it('the v1 .h5 holds the same 135 base tensors, byte for byte, as the TF.js model', async () => {
    const h5 = await readKerasH5(V1_H5)
    expect(h5.kerasVersion).toBe('2.0.4')
    const tfjsW = await readTfjsLayersWeights(V1_TFJS)
    let n = 0
    for (const [layer, ws] of h5.weights) {
      for (const [name, t] of ws) {
        const other = tfjsW.get(layer)?.get(name)
        expect(other?.shape, `${layer}/${name}`).toEqual(t.shape)
        expect(Buffer.from(other!.values.buffer).equals(Buffer.from(t.values.buffer)), `${layer}/${name}`).toBe(true)
        n++
      }
    }
    expect(n).toBe(135)
  })

  it('code-built MobileNet v1 0.25 224 + Keras .h5 = TF.js model cut at conv_pw_13_relu (max abs diff <= 1e-4)', async () => {
    const base = await loadBase('mobilenet_v1_0.25_224', { path: V1_H5 })
    expect(base.weightsSource).toMatchObject({
      kind: 'keras-h5',
      path: V1_H5,
      sha256: 'dbdb03ee2a22fd895301636cd328b234bb3a9952358f436d82f46b81e0d5b0bf'
    })
    const full = await loadTfjsLayersModel(V1_TFJS)
    const ref = cutModelAt(full, 'conv_pw_13_relu')
    const x = base.preprocess(photos224)
    const ours = base.model.predict(x) as tf.Tensor
    const theirs = ref.predict(x) as tf.Tensor
    expect(ours.shape).toEqual([5, 7, 7, 256])
    const diff = maxAbsDiff(ours, theirs)
    expect(diff).toBeLessThanOrEqual(1e-4)
    // Not trivially equal: the features vary and a random base differs.
    expect(tf.tidy(() => tf.moments(ours).variance.dataSync()[0] ?? 0)).toBeGreaterThan(0.01)
    tf.dispose([x, ours, theirs])
    base.model.dispose()
    full.dispose()
  })

  it('code-built MobileNetV2 0.35 224 from the Teachable Machine folder = its own nested base cut at out_relu', async () => {
    const base = await loadBase('mobilenet_v2_0.35_224', { path: TM_V2 })
    expect(base.weightsSource.kind).toBe('tfjs-layers')
    // The head (Dense 100, Dense 2) is not part of the base and is ignored.
    expect(base.weightsSource.ignoredLayers?.length).toBe(2)
    const tm = await loadTfjsLayersModel(TM_V2)
    const ref = cutModelAt(tm, 'out_relu')
    expect(ref.countParams()).toBe(410_208)
    const x = base.preprocess(photos224)
    const ours = base.model.predict(x) as tf.Tensor
    const theirs = ref.predict(x) as tf.Tensor
    expect(ours.shape).toEqual([5, 7, 7, 1280])
    expect(maxAbsDiff(ours, theirs)).toBeLessThanOrEqual(1e-4)
    tf.dispose([x, ours, theirs])
    base.model.dispose()
    tm.dispose()
  })

  it('the v1 model with its ImageNet head calls most validation dogs a dog (classes 151-268)', async () => {
    const full = await loadTfjsLayersModel(V1_TFJS)
    const dogs = firstImages(DOGS, 40)
    let dogHits = 0
    for (let i = 0; i < dogs.length; i += 20) {
      const px = await decodePhotos(dogs.slice(i, i + 20), 224)
      const top = tf.tidy(() => (full.predict(px.div(127.5).sub(1)) as tf.Tensor).argMax(-1).dataSync())
      dogHits += Array.from(top).filter((c) => c >= 151 && c <= 268).length
      px.dispose()
    }
    // SOURCES.md measured 38/40 on this model and these photos.
    expect(dogHits).toBeGreaterThanOrEqual(30)
    full.dispose()
  })
})
