// Where our time goes: per-kernel wall time (tf.profile) of one BN-folded forward batch and of one fine-tuning
// step from layer 100 (same step as bench/ours.ts finetune), aggregated by kernel name, largest first.
//   npx tsx bench/profile.ts [--base mobilenet_v2_1.0_160] [--weights PATH] [--images DIR] [--top 15] [--json]
// --weights and --images give real activations: with random weights and pixels the ReLU masks are far more regular
// than on photos, which once hid a branchy gradient kernel that cost a third of the tutorial's fine-tuning.
import * as tf from '@tensorflow/tfjs'
import { parseArgs } from 'node:util'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { buildBase, loadBase } from '@core/models'
import { decodeResized } from '@core/pipeline/decode'
import { initBackend } from '@core/tf/backend'
import { foldBatchNorm, foldForTraining } from '@core/tf/foldBatchNorm'
import { inferenceForward, spatialMean, spatialMeanWithGradient } from '@core/tf/spatialMean'
import { createOptimizer } from '@core/training/optimizers'
import { splitModelAt } from '@core/training/splitModel'
import { trainStep } from '@core/training/step'

const { values } = parseArgs({
  options: {
    base: { type: 'string', default: 'mobilenet_v2_1.0_160' },
    top: { type: 'string', default: '15' },
    weights: { type: 'string' },
    images: { type: 'string' },
    json: { type: 'boolean', default: false }
  }
})
const BATCH = 32

interface KernelRow {
  kernel: string
  ms: number
  calls: number
}

async function profiled(fn: () => Promise<void>): Promise<{ total: number; rows: KernelRow[] }> {
  await fn() // warm-up
  const info = await tf.profile(fn)
  const by = new Map<string, KernelRow>()
  for (const k of info.kernels) {
    const ms =
      typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : ((await k.kernelTimeMs) as { error?: string } | number)
    const t = typeof ms === 'number' ? ms : 0
    const row = by.get(k.name) ?? { kernel: k.name, ms: 0, calls: 0 }
    row.ms += t
    row.calls++
    by.set(k.name, row)
  }
  const rows = [...by.values()].sort((a, b) => b.ms - a.ms)
  return { total: rows.reduce((a, r) => a + r.ms, 0), rows }
}

function print(title: string, p: { total: number; rows: KernelRow[] }): void {
  console.log(`\n${title}: ${p.total.toFixed(0)} ms in kernels`)
  for (const r of p.rows.slice(0, Number(values.top)))
    console.log(
      `  ${r.kernel.padEnd(34)} ${r.ms.toFixed(1).padStart(9)} ms ${((100 * r.ms) / p.total).toFixed(1).padStart(5)} %  ${String(r.calls).padStart(4)} calls`
    )
}

/** The first BATCH images found under dir (recursively), resized (squash) and preprocessed as the base wants. */
async function photos(
  dir: string,
  size: number,
  base: { input(px: Uint8Array, n: number): tf.Tensor4D }
): Promise<tf.Tensor4D> {
  const files = readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.(jpe?g|png)$/i.test(f))
    .sort()
    .slice(0, BATCH)
  if (files.length < BATCH) throw new Error(`--images: ${dir} has ${files.length} images, ${BATCH} needed`)
  const pixels = new Uint8Array(BATCH * size * size * 3)
  for (const [i, f] of files.entries())
    pixels.set(await decodeResized(join(dir, f), size, 'squash'), i * size * size * 3)
  return base.input(pixels, BATCH)
}

async function main(): Promise<void> {
  const b = await initBackend({ prefer: 'wasm' })
  const id = values.base as string
  const base = values.weights ? await loadBase(id, { path: values.weights }) : buildBase(id)
  const S = base.spec.size
  const x = values.images
    ? await photos(values.images, S, base)
    : (tf.randomUniform([BATCH, S, S, 3], -1, 1) as tf.Tensor4D)
  console.log(
    `${base.spec.id} (${values.weights ? 'weights from file' : 'random weights'}, ${values.images ? 'photos' : 'random pixels'}), backend ${b.name}${b.simd ? ' simd' : ''}, batch ${BATCH}`
  )

  const folded = foldBatchNorm(base.model)
  const fwd = await profiled(async () => {
    const y = tf.tidy(() => spatialMean(inferenceForward(folded, x) as tf.Tensor4D))
    await y.data()
    y.dispose()
  })
  print('forward, BN folded', fwd)

  const split = splitModelAt(base.model, 100)
  const lower = split.lower ? foldBatchNorm(split.lower) : null
  const upper = foldForTraining(split.upper) ?? split.upper
  base.model.layers.forEach((l, i) => (l.trainable = i >= 100))
  const vars = base.model.layers.slice(100).flatMap((l) => l.trainableWeights.map((w) => w.read() as tf.Variable))
  const w = tf.variable(tf.randomNormal([base.spec.outputShape[2], 1], 0, 0.01))
  const bias = tf.variable(tf.zeros([1]))
  const opt = createOptimizer('adam', 1e-5)
  const labels = tf.tensor1d(
    Array.from({ length: BATCH }, (_, i) => i % 2),
    'int32'
  )
  const step = async (): Promise<void> => {
    const inputs = tf.tidy(() => {
      const out = lower ? lower.apply(x, { training: false }) : x
      return Array.isArray(out) ? (out as tf.Tensor[]) : [out as tf.Tensor]
    })
    await trainStep(
      [{ optimizer: opt, vars: [...vars, w, bias] }],
      () =>
        tf.tidy(
          () =>
            spatialMeanWithGradient(
              upper.apply(inputs.length === 1 ? (inputs[0] as tf.Tensor) : inputs, {
                training: false
              }) as tf.Tensor4D
            )
              .matMul(w)
              .add(bias) as tf.Tensor2D
        ),
      labels,
      null
    )
    tf.dispose(inputs)
  }
  const ft = await profiled(step)
  print('fine-tune step from layer 100 (lower part BN-folded, no tape; upper part under the tape)', ft)
  if (values.json) console.log(JSON.stringify({ base: base.spec.id, forward: fwd, finetune: ft }))
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e)
    process.exit(1)
  }
)
