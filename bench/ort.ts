// The ONNX Runtime peer of `npm run bench`: the same base network and weights as ours, written to ONNX by our
// exporter (src/main/core/export/onnx/write.ts), run by onnxruntime-node (CPU, 2 intra-op threads, graph
// optimisation 'all'). Before timing, ORT's output is compared with ours on the same batch (max |diff| of the
// pooled features), so the two sides do the same work. One JSON line on stdout. Run by bench/run.ts; usable alone:
//   npx tsx bench/ort.ts forward --base mobilenet_v2_1.0_160 [--weights DIR] [--reps 4] [--threads 2]
import * as tf from '@tensorflow/tfjs'
import * as ort from 'onnxruntime-node'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { buildBase, loadBase } from '@core/models'
import { initBackend } from '@core/tf/backend'
import { foldBatchNorm } from '@core/tf/foldBatchNorm'
import { ONNX_FEATURES, ONNX_INPUT, writeBaseOnnx } from '@core/export/onnx/write'

const BATCH = 32
const { values } = parseArgs({
  allowPositionals: true,
  options: {
    base: { type: 'string', default: 'mobilenet_v2_1.0_160' },
    weights: { type: 'string' },
    reps: { type: 'string', default: '4' },
    threads: { type: 'string', default: '2' }
  }
})

function randomPixels(n: number, seed = 12345): Uint8Array {
  const out = new Uint8Array(n)
  let a = seed
  for (let i = 0; i < n; i++) {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0
    out[i] = a >>> 24
  }
  return out
}

/** Mean over H and W of an NHWC feature map: [n, H*W*C] -> [n, C]. */
function pool(data: Float32Array, n: number, hw: number, c: number): Float32Array {
  const out = new Float32Array(n * c)
  for (let i = 0; i < n; i++)
    for (let p = 0; p < hw; p++) for (let k = 0; k < c; k++) out[i * c + k]! += data[(i * hw + p) * c + k]! / hw
  return out
}

async function main(): Promise<void> {
  await initBackend({ prefer: 'wasm' })
  const base = values.weights
    ? await loadBase(values.base as string, { path: values.weights })
    : buildBase(values.base as string)
  const S = base.spec.size
  const [H, W, C] = base.spec.outputShape
  const dir = mkdtempSync(join(tmpdir(), 'tunelab-ort-'))
  try {
    const file = join(dir, 'base.onnx')
    await writeBaseOnnx(base.model, base.spec.preprocessing, file)
    const threads = Number(values.threads)
    const session = await ort.InferenceSession.create(file, {
      graphOptimizationLevel: 'all',
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential'
    })
    const px = randomPixels(BATCH * S * S * 3)
    const input = new ort.Tensor('float32', Float32Array.from(px), [BATCH, S, S, 3])
    const runOnce = async (): Promise<Float32Array> => {
      const r = await session.run({ [ONNX_INPUT]: input })
      const f = r[ONNX_FEATURES]
      if (!f) throw new Error(`bench/ort: the ONNX model has no '${ONNX_FEATURES}' output`)
      const data = f.data as Float32Array
      f.dispose()
      return data
    }

    // Same work: ORT's features against ours (as bench/ours.ts forward runs it: BatchNorm folded) on this batch.
    const ortPooled = pool(await runOnce(), BATCH, H! * W!, C!)
    const folded = foldBatchNorm(base.model)
    const oursPooled = tf.tidy(() =>
      tf
        .mean(folded.predict(base.preprocess(tf.tensor4d(px, [BATCH, S, S, 3], 'int32'))) as tf.Tensor, [1, 2])
        .dataSync()
    ) as Float32Array
    let maxAbsDiff = 0
    let maxAbs = 0
    for (let i = 0; i < oursPooled.length; i++) {
      maxAbsDiff = Math.max(maxAbsDiff, Math.abs(oursPooled[i]! - ortPooled[i]!))
      maxAbs = Math.max(maxAbs, Math.abs(oursPooled[i]!))
    }

    const reps = Number(values.reps)
    const c0 = process.cpuUsage()
    const t = performance.now()
    for (let i = 0; i < reps; i++) await runOnce()
    const wall = (performance.now() - t) / 1000
    const c = process.cpuUsage(c0)
    await session.release()
    console.log(
      JSON.stringify({
        what: 'forward',
        base: base.spec.id,
        weights: values.weights ? 'loaded' : 'random (built)',
        runtime: `onnxruntime-node ${ort.env.versions.common} CPU, ${threads} intra-op threads, graph optimisation all`,
        batch: BATCH,
        ips: (BATCH * reps) / wall,
        wall_s: wall,
        cpu_s: (c.user + c.system) / 1e6,
        // Pooled features, ours (wasm, BatchNorm folded) vs ORT, on the same random batch.
        max_abs_diff: maxAbsDiff,
        max_abs_feature: maxAbs,
        // Random built weights give tiny features; the relative figure is the one to read there.
        rel_diff: maxAbs > 0 ? maxAbsDiff / maxAbs : null,
        peak_mib: Math.round(process.resourceUsage().maxRSS / 1024)
      })
    )
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e)
    process.exit(1)
  }
)
