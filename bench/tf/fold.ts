/**
 * Forward speed of MobileNetV2 with and without BatchNorm folding (wasm, inference).
 * Run: npx tsx bench/tf/fold.ts [alpha=1.0] [size=160] [batch=32]
 * Prints images/s from process CPU time (wasm is single-threaded under Node, so CPU time is the compute
 * cost even on a busy machine) and from wall time, median of 3 after a warm-up.
 */
import * as tf from '@tensorflow/tfjs'
import { initBackend } from '../../src/main/core/tf/backend'
import { foldBatchNormWithReport } from '../../src/main/core/tf/foldBatchNorm'
import { buildMobileNetV2 } from '../../src/main/core/models/architectures/mobilenetV2'

const alpha = Number(process.argv[2] ?? 1.0)
const size = Number(process.argv[3] ?? 160)
const batch = Number(process.argv[4] ?? 32)
const REPS = 3

function measure(model: tf.LayersModel, x: tf.Tensor): { cpu: number; wall: number } {
  const once = (): void =>
    tf.tidy(() => {
      ;(model.predict(x, { batchSize: batch }) as tf.Tensor).dataSync()
    })
  once()
  const cpu: number[] = []
  const wall: number[] = []
  for (let r = 0; r < REPS; r++) {
    const c0 = process.cpuUsage()
    const t0 = performance.now()
    once()
    const c = process.cpuUsage(c0)
    wall.push(performance.now() - t0)
    cpu.push((c.user + c.system) / 1000)
  }
  const median = (v: number[]): number => v.sort((a, b) => a - b)[Math.floor(v.length / 2)]!
  return { cpu: median(cpu), wall: median(wall) }
}

const info = await initBackend({ prefer: 'wasm' })
console.log(
  `backend ${info.name} simd=${String(info.simd)}; MobileNetV2 alpha ${alpha} ${size}x${size}, batch ${batch}`
)
const base = buildMobileNetV2(alpha, size)
const x = tf.randomUniform([batch, size, size, 3], -1, 1)
const t0 = performance.now()
const { model: folded, report } = foldBatchNormWithReport(base)
console.log(
  `folded ${report.folded.length} BatchNorms (${report.kept.length} kept) in ${(performance.now() - t0).toFixed(0)} ms; layers ${base.layers.length} -> ${folded.layers.length}`
)
for (const [label, model] of [
  ['original', base],
  ['folded', folded],
  ['original', base],
  ['folded', folded]
] as const) {
  const m = measure(model, x)
  console.log(
    `${label.padEnd(9)} ${(batch / (m.cpu / 1000)).toFixed(1).padStart(7)} img/s (CPU ${m.cpu.toFixed(0)} ms/batch)   ${(batch / (m.wall / 1000)).toFixed(1).padStart(7)} img/s wall`
  )
}
