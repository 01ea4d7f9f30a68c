// Prints per-base build time, load time and forward speed (images/s, batch 32) on wasm,
// and the faithfulness numbers on the real weights when /work/shared/data is present.
// Run: npx tsx bench/models/bases.ts [--quick]
import * as tf from '@tensorflow/tfjs'
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { buildBase, cutModelAt, loadBase, loadTfjsLayersModel } from '../../src/main/core/models'
import { decodePhotos, DOGS, firstImages, maxAbsDiff, TM_V2, V1_H5, V1_TFJS } from '@test/helpers/photos'

const quick = process.argv.includes('--quick')
const BATCH = 32

async function main(): Promise<void> {
  const dir = dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json'))
  setWasmPaths(join(dir, 'dist') + '/')
  await tf.setBackend('wasm')
  await tf.ready()
  console.log(`backend ${tf.getBackend()}, batch ${BATCH}`)
  const ids = quick
    ? ['mobilenet_v1_0.25_224', 'mobilenet_v2_1.0_160']
    : [
        'mobilenet_v1_0.25_224',
        'mobilenet_v2_0.35_224',
        'mobilenet_v2_1.0_160',
        'mobilenet_v2_1.0_224',
        'mobilenet_v1_1.0_224',
        'resnet50_v2_224'
      ]
  for (const id of ids) {
    let t = performance.now()
    const b = buildBase(id)
    const buildMs = performance.now() - t
    const x = tf.randomUniform([BATCH, b.spec.size, b.spec.size, 3], -1, 1)
    tf.tidy(() => b.model.predict(x.slice(0, 1)))
    const reps = id.startsWith('resnet') ? 1 : 2
    t = performance.now()
    for (let i = 0; i < reps; i++) {
      const y = b.model.predict(x) as tf.Tensor
      await y.data()
      y.dispose()
    }
    const secs = (performance.now() - t) / 1000
    console.log(
      `${id.padEnd(24)} build ${buildMs.toFixed(0).padStart(5)} ms  forward ${((BATCH * reps) / secs).toFixed(1).padStart(6)} img/s  params ${b.model.countParams()}`
    )
    x.dispose()
    b.model.dispose()
  }
  if (!existsSync(V1_H5)) return
  const px = await decodePhotos(firstImages(DOGS, 8), 224)
  let t = performance.now()
  const v1 = await loadBase('mobilenet_v1_0.25_224', { path: V1_H5 })
  console.log(`load v1 0.25 224 from .h5: ${(performance.now() - t).toFixed(0)} ms`)
  const v1ref = cutModelAt(await loadTfjsLayersModel(V1_TFJS), 'conv_pw_13_relu')
  const xin = v1.preprocess(px)
  console.log(
    `v1 .h5 vs TF.js conv_pw_13_relu max abs diff (8 dogs): ${maxAbsDiff(v1.model.predict(xin) as tf.Tensor, v1ref.predict(xin) as tf.Tensor).toExponential(2)}`
  )
  t = performance.now()
  const v2 = await loadBase('mobilenet_v2_0.35_224', { path: TM_V2 })
  console.log(`load v2 0.35 224 from TM folder: ${(performance.now() - t).toFixed(0)} ms`)
  const v2ref = cutModelAt(await loadTfjsLayersModel(TM_V2), 'out_relu')
  console.log(
    `v2 TM vs code-built out_relu max abs diff (8 dogs): ${maxAbsDiff(v2.model.predict(xin) as tf.Tensor, v2ref.predict(xin) as tf.Tensor).toExponential(2)}`
  )
  const full = await loadTfjsLayersModel(V1_TFJS)
  const dogs = firstImages(DOGS, 40)
  let hits = 0
  for (let i = 0; i < 40; i += 20) {
    const p = await decodePhotos(dogs.slice(i, i + 20), 224)
    const top = tf.tidy(() => (full.predict(p.div(127.5).sub(1)) as tf.Tensor).argMax(-1).dataSync())
    hits += Array.from(top).filter((c) => c >= 151 && c <= 268).length
  }
  console.log(`v1 0.25 ImageNet head: ${hits}/40 validation dogs top-1 in dog classes 151-268`)
}

main().catch((e: unknown) => {
  console.error(e)
  process.exit(1)
})
