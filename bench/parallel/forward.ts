// Forward throughput of a frozen base: main thread vs ForwardPool with 1 and 2 workers, with and
// without BatchNorm folding. MobileNetV2 1.0 @160, random weights, 32 images per worker per call.
// Run: npx tsx bench/parallel/forward.ts [--base ID] [--reps N] [--json]
import * as tf from '@tensorflow/tfjs'
import { availableParallelism, loadavg } from 'node:os'
import { buildBase } from '../../src/main/core/models'
import { ForwardPool } from '../../src/main/core/parallel'
import { initBackend } from '../../src/main/core/tf/backend'
import { foldBatchNorm } from '../../src/main/core/tf/foldBatchNorm'

const arg = (name: string, dflt: string): string => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? (process.argv[i + 1] ?? dflt) : dflt
}
const BASE = arg('base', 'mobilenet_v2_1.0_160')
const REPS = Number(arg('reps', '3'))
const BATCH = 32

function randomPixels(n: number): Uint8Array {
  const out = new Uint8Array(n)
  let a = 12345
  for (let i = 0; i < n; i++) {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0
    out[i] = a >>> 24
  }
  return out
}

interface Timing {
  imagesPerSec: number
  /** CPU time of the whole process (all threads) per image: load-independent cost. */
  cpuMsPerImage: number
}

async function timeIt(images: number, fn: () => Promise<unknown>): Promise<Timing> {
  await fn() // warm-up (kernel setup, first allocation)
  const cpu = process.cpuUsage()
  const t = performance.now()
  for (let i = 0; i < REPS; i++) await fn()
  const wall = (performance.now() - t) / 1000
  const used = process.cpuUsage(cpu)
  return { imagesPerSec: (images * REPS) / wall, cpuMsPerImage: (used.user + used.system) / 1000 / (images * REPS) }
}

async function main(): Promise<void> {
  const info = await initBackend({ prefer: 'wasm' })
  const base = buildBase(BASE)
  const S = base.spec.size
  console.log(
    `load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} (other work on the machine skews images/s, not CPU ms/image)`
  )
  console.log(
    `${BASE}, backend ${info.name} (simd ${String(info.simd)}), ${availableParallelism()} cores, batch ${BATCH} per worker, ${REPS} timed calls after 1 warm-up`
  )
  const results: Record<string, Timing> = {}
  const report = (name: string, t: Timing): void => {
    results[name] = t
    console.log(
      `${name.padEnd(44)} ${t.imagesPerSec.toFixed(1).padStart(7)} images/s  ${t.cpuMsPerImage.toFixed(1).padStart(6)} CPU ms/image`
    )
  }

  const single = randomPixels(BATCH * S * S * 3)
  for (const fold of [false, true]) {
    const model = fold ? foldBatchNorm(base.model) : base.model
    const ips = await timeIt(BATCH, async () => {
      const y = tf.tidy(() =>
        tf.mean(model.predict(base.preprocess(tf.tensor4d(single, [BATCH, S, S, 3], 'int32'))) as tf.Tensor, [1, 2])
      )
      await y.data()
      y.dispose()
    })
    report(`main thread${fold ? ', BN folded' : ''}`, ips)
    if (fold) model.dispose()
  }

  for (const fold of [false, true]) {
    for (const workers of [1, 2]) {
      const t0 = performance.now()
      const pool = await ForwardPool.create({
        workers,
        model: base.model,
        preprocessing: base.spec.preprocessing,
        output: 'pooled',
        foldBn: fold,
        maxBatch: BATCH
      })
      const startMs = performance.now() - t0
      const n = BATCH * workers
      const pixels = randomPixels(n * S * S * 3)
      report(
        `pool ${workers} worker${workers > 1 ? 's' : ' '}${fold ? ', BN folded' : ''}`,
        await timeIt(n, () => pool.run(pixels, n))
      )
      if (workers === 2)
        report(
          `pool 2 workers, one batch of 32${fold ? ', BN folded' : ''}`,
          await timeIt(BATCH, () => pool.run(single, BATCH))
        )
      console.log(
        `${''.padEnd(44)} (pool start-up ${startMs.toFixed(0)} ms, backends ${pool.info.backends.join(', ')})`
      )
      await pool.close()
    }
  }
  if (process.argv.includes('--json'))
    console.log(JSON.stringify({ base: BASE, batch: BATCH, reps: REPS, loadavg: loadavg(), results }))
  base.model.dispose()
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
