// Our side of `npm run bench`: one measurement per process (so the peak RSS is that measurement's),
// printed as one JSON line on stdout. Run by bench/run.ts; usable alone:
//   npx tsx bench/ours.ts forward --base mobilenet_v2_1.0_160 [--workers 0|1|2] [--no-fold] [--reps 4]
//   npx tsx bench/ours.ts finetune --base mobilenet_v2_1.0_160 [--at 100] [--steps 4]
//   npx tsx bench/ours.ts export-weights --weights DIR --out DIR [--images a.jpg,b.jpg]
import * as tf from '@tensorflow/tfjs'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import sharp from 'sharp'
import { buildBase, loadBase, type BaseNetwork } from '@core/models'
import { ForwardPool } from '@core/parallel'
import { describeBackend, initBackend, type BackendPreference } from '@core/tf/backend'
import { foldBatchNorm, foldForTraining } from '@core/tf/foldBatchNorm'
import { inferenceForward, spatialMean, spatialMeanWithGradient } from '@core/tf/spatialMean'
import { createOptimizer } from '@core/training/optimizers'
import { splitModelAt } from '@core/training/splitModel'
import { trainStep } from '@core/training/step'

const BATCH = 32
const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    base: { type: 'string', default: 'mobilenet_v2_1.0_160' },
    workers: { type: 'string', default: '0' },
    'no-fold': { type: 'boolean', default: false },
    reps: { type: 'string', default: '4' },
    at: { type: 'string', default: '100' },
    steps: { type: 'string', default: '4' },
    weights: { type: 'string' },
    out: { type: 'string' },
    images: { type: 'string' },
    backend: { type: 'string', default: 'wasm' }
  }
})

const peakMib = (): number => process.resourceUsage().maxRSS / 1024
const emit = (o: object): void => console.log(JSON.stringify({ ...o, peak_mib: Math.round(peakMib()) }))

function randomPixels(n: number, seed = 12345): Uint8Array {
  const out = new Uint8Array(n)
  let a = seed
  for (let i = 0; i < n; i++) {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0
    out[i] = a >>> 24
  }
  return out
}

/** images/s over `reps` timed calls after one warm-up call. */
/** images/s over `reps` timed calls after one warm-up call; cpu_s is this process's CPU time (user+sys) over them. */
async function throughput(
  images: number,
  reps: number,
  fn: () => Promise<void>
): Promise<{ ips: number; warmup_s: number; wall_s: number; cpu_s: number }> {
  let t = performance.now()
  await fn()
  const warmup = (performance.now() - t) / 1000
  const c0 = process.cpuUsage()
  t = performance.now()
  for (let i = 0; i < reps; i++) await fn()
  const wall = (performance.now() - t) / 1000
  const c = process.cpuUsage(c0)
  return { ips: (images * reps) / wall, warmup_s: warmup, wall_s: wall, cpu_s: (c.user + c.system) / 1e6 }
}

async function forward(): Promise<void> {
  const backend = await initBackend({ prefer: values.backend as BackendPreference })
  const base = buildBase(values.base as string)
  const S = base.spec.size
  const workers = Number(values.workers)
  const fold = !values['no-fold']
  const reps = Number(values.reps)
  if (workers > 0) {
    const pool = await ForwardPool.create({
      workers,
      model: base.model,
      preprocessing: base.spec.preprocessing,
      output: 'pooled',
      foldBn: fold,
      maxBatch: BATCH
    })
    // One batch of 32 per worker per call, as the feature extractor would hand them out.
    const n = BATCH * workers
    const px = randomPixels(n * S * S * 3)
    const r = await throughput(n, reps, async () => {
      await pool.run(px, n)
    })
    emit({
      what: 'forward',
      base: base.spec.id,
      backend: pool.info.backends.join(','),
      workers,
      fold,
      batch: BATCH,
      ...r
    })
    await pool.close()
    return
  }
  const model = fold ? foldBatchNorm(base.model) : base.model
  const px = randomPixels(BATCH * S * S * 3)
  const r = await throughput(BATCH, reps, async () => {
    const y = tf.tidy(() =>
      spatialMean(inferenceForward(model, base.preprocess(tf.tensor4d(px, [BATCH, S, S, 3], 'int32'))) as tf.Tensor4D)
    )
    await y.data()
    y.dispose()
  })
  emit({
    what: 'forward',
    base: base.spec.id,
    backend: describeBackend(backend),
    workers: 0,
    fold,
    batch: BATCH,
    ...r,
    numTensors: tf.memory().numTensors
  })
}

/**
 * One fine-tuning step as phase 2 runs it (src/main/core/training/fineTunePhase.ts): the lower part (layers < at)
 * outside the tape, the upper part under the tape in inference mode (BN uses moving statistics), GAP -> Dense(1)
 * logit, binary cross-entropy, Adam over upper-part + head variables.
 */
async function finetune(): Promise<void> {
  const backend = await initBackend({ prefer: values.backend as BackendPreference })
  const base = buildBase(values.base as string)
  const S = base.spec.size
  const at = Number(values.at)
  const split = splitModelAt(base.model, at)
  // As phase 2 runs it: the frozen lower part with BatchNorm folded (and ReLU6 / padding fused) into its convs,
  // the upper part's conv + BN (+ ReLU6) fused on the base's own variables.
  const lower = split.lower ? foldBatchNorm(split.lower) : null
  const upper = foldForTraining(split.upper) ?? split.upper
  base.model.layers.forEach((l, i) => (l.trainable = i >= at))
  const baseVars = base.model.layers.slice(at).flatMap((l) => l.trainableWeights.map((w) => w.read() as tf.Variable))
  const C = base.spec.outputShape[2]
  const w = tf.variable(tf.randomNormal([C, 1], 0, 0.01), true, 'bench_head_w')
  const b = tf.variable(tf.zeros([1]), true, 'bench_head_b')
  const opt = createOptimizer('adam', 1e-5)
  const groups = [{ optimizer: opt, vars: [...baseVars, w, b] }]
  const px = randomPixels(BATCH * S * S * 3)
  const labels = tf.tensor1d(
    Array.from({ length: BATCH }, (_, i) => i % 2),
    'int32'
  )
  const step = async (): Promise<void> => {
    const inputs = tf.tidy(() => {
      const x = base.preprocess(tf.tensor4d(px, [BATCH, S, S, 3], 'int32').toFloat() as tf.Tensor4D)
      const out = lower ? lower.apply(x, { training: false }) : x
      return Array.isArray(out) ? (out as tf.Tensor[]) : [out as tf.Tensor]
    })
    await trainStep(
      groups,
      () =>
        tf.tidy(() => {
          const fm = upper.apply(inputs.length === 1 ? (inputs[0] as tf.Tensor) : inputs, {
            training: false
          }) as tf.Tensor4D
          return spatialMeanWithGradient(fm).matMul(w).add(b) as tf.Tensor2D
        }),
      labels,
      null
    )
    tf.dispose(inputs)
  }
  // The first (warm-up) step creates Adam's slot variables; growth is counted over the timed steps only.
  const before = { n: -1, calls: 0 }
  const r = await throughput(BATCH, Number(values.steps), async () => {
    if (before.calls++ === 1) before.n = tf.memory().numTensors
    await step()
  })
  emit({
    what: 'finetune',
    base: base.spec.id,
    backend: describeBackend(backend),
    at,
    trainableBaseVars: baseVars.length,
    boundaryTensors: split.boundaryShapes.length,
    batch: BATCH,
    ...r,
    tensorsGrowthPerStep: (tf.memory().numTensors - before.n) / Number(values.steps)
  })
}

/**
 * Writes the base's weights in Keras layer order for bench/peer/peer.py (weights.json + weights.bin, float32 LE),
 * and check.json + check.bin: the RGB pixels of a few images (as our pipeline decodes them) and our pooled features
 * of them, so the peer can verify its converted model against ours on identical inputs.
 */
async function exportWeights(): Promise<void> {
  await initBackend({ prefer: values.backend as BackendPreference })
  if (!values.weights || !values.out) throw new Error('export-weights: --weights DIR and --out DIR are required')
  const base: BaseNetwork = await loadBase('mobilenet_v2_0.35_224', { path: values.weights })
  const out = values.out
  mkdirSync(out, { recursive: true })
  const layers: { name: string; className: string; weights: { name: string; shape: number[]; offset: number }[] }[] = []
  const chunks: Float32Array[] = []
  let offset = 0
  for (const layer of base.model.layers) {
    const ws = layer.weights
    if (ws.length === 0) continue
    const entry = {
      name: layer.name,
      className: layer.getClassName(),
      weights: [] as { name: string; shape: number[]; offset: number }[]
    }
    for (const v of ws) {
      const data = (await v.read().data()) as Float32Array
      entry.weights.push({ name: v.originalName, shape: v.shape as number[], offset })
      chunks.push(Float32Array.from(data))
      offset += data.length
    }
    layers.push(entry)
  }
  const all = new Float32Array(offset)
  let o = 0
  for (const c of chunks) {
    all.set(c, o)
    o += c.length
  }
  writeFileSync(join(out, 'weights.bin'), Buffer.from(all.buffer))
  writeFileSync(
    join(out, 'weights.json'),
    JSON.stringify({ base: base.spec.id, size: base.spec.size, floats: offset, layers })
  )

  const images = (values.images ?? '').split(',').filter(Boolean)
  if (images.length > 0) {
    const S = base.spec.size
    const px = new Uint8Array(images.length * S * S * 3)
    for (const [i, p] of images.entries()) {
      const { data } = await sharp(p)
        .toColourspace('srgb')
        .removeAlpha()
        .resize(S, S, { fit: 'fill' })
        .raw()
        .toBuffer({ resolveWithObject: true })
      px.set(data, i * S * S * 3)
    }
    const feats = tf.tidy(() =>
      tf.mean(
        base.model.predict(base.preprocess(tf.tensor4d(px, [images.length, S, S, 3], 'int32'))) as tf.Tensor,
        [1, 2]
      )
    )
    const f = (await feats.data()) as Float32Array
    writeFileSync(
      join(out, 'check.bin'),
      Buffer.concat([Buffer.from(px.buffer), Buffer.from(Float32Array.from(f).buffer)])
    )
    writeFileSync(join(out, 'check.json'), JSON.stringify({ images, size: S, features: feats.shape[1] }))
  }
  emit({ what: 'export-weights', base: base.spec.id, floats: offset, layers: layers.length, images: images.length })
}

const cmd = positionals[0]
const run =
  cmd === 'forward' ? forward : cmd === 'finetune' ? finetune : cmd === 'export-weights' ? exportWeights : null
if (!run) {
  console.error(`bench/ours.ts: unknown command '${cmd ?? ''}' (expected forward, finetune, export-weights)`)
  process.exit(2)
}
run().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e)
    process.exit(1)
  }
)
