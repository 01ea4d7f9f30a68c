// Experiment (not part of the bench): which phase-1 strategies raise validation/test accuracy on cached features?
//   RESIZE=squash|pad npx tsx bench/defaults/headExperiment.ts <project root> [...more roots]
// Trains heads of several strategies (rate, L2, dropout, flipped-feature augmentation, dense) on the cached features
// of a project's stored split and prints validation/test accuracy and the best validation loss of each. The numbers
// behind auto's L2 0.01, its clamped rate and its squash/pad trial came from this (see the session note).
import { resolve } from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { NO_AUGMENTATION, type SplitName } from '../../src/shared/domain'
import { openProjectState } from '../../src/main/core/store/projectState'
import { ImageCache } from '../../src/main/core/pipeline/imageCache'
import { initBackend } from '../../src/main/core/tf/backend'
import { DEFAULT_TRAIN_OPTIONS, type TrainOptions } from '../../src/main/core/run/options'
import { scanStep, splitSets, splitStep } from '../../src/main/core/run/prepareData'
import { foldedBase, prepareBase } from '../../src/main/core/run/prepareBase'
import { createFeaturePool } from '../../src/main/core/parallel/featurePool'
import { featureCacheOptions } from '../../src/main/core/run/trainStep'
import { phaseOneFeatures } from '../../src/main/core/training/headPhase'
import type { ImageSet } from '../../src/main/core/training/types'

const DATA = process.env['TUNELAB_SHARED_DATA'] ?? '/work/shared/data'
const WEIGHTS = `${DATA}/weights/tfjs_teachable_machine_mobilenetv2_0.35_dog`
interface F {
  x: Float32Array
  y: number[]
  dim: number
  n: number
}

function flipped(set: ImageSet, size: number): ImageSet {
  return {
    keys: set.keys.map((k) => k + ':flip'),
    labels: set.labels,
    async load(idx) {
      const px = await set.load(idx)
      const out = new Uint8Array(px.length)
      const row = size * 3
      for (let i = 0; i < idx.length; i++)
        for (let r = 0; r < size; r++) {
          const o = (i * size + r) * row
          for (let c = 0; c < size; c++)
            for (let ch = 0; ch < 3; ch++) out[o + c * 3 + ch] = px[o + (size - 1 - c) * 3 + ch]!
        }
      return out
    }
  }
}

function rng(seed: number): () => number {
  let s = seed >>> 0
  return () => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32
}

interface Strat {
  lr: number
  batch: number
  patienceSteps: number
  maxSteps: number
  dropout: number
  l2: number
  flipTrain: boolean
  tta: boolean
  dense: number
  select: 'loss' | 'acc'
  label: string
}

function trainHead(tr: F, trFlip: F | null, va: F, vaFlip: F | null, k: number, s: Strat) {
  {
    const X = trFlip ? new Float32Array([...tr.x, ...trFlip.x]) : tr.x
    const Y = trFlip ? [...tr.y, ...trFlip.y] : tr.y
    const n = Y.length
    const xs = tf.tensor2d(X, [n, tr.dim])
    const ys = tf.oneHot(tf.tensor1d(Y, 'int32'), k).toFloat()
    const xv = tf.tensor2d(va.x, [va.n, va.dim])
    const xvf = vaFlip && s.tta ? tf.tensor2d(vaFlip.x, [va.n, va.dim]) : null
    const yv = tf.oneHot(tf.tensor1d(va.y, 'int32'), k).toFloat()
    const r = rng(42)
    const glorot = Math.sqrt(6 / (tr.dim + (s.dense || k)))
    const W1 = s.dense ? tf.variable(tf.randomUniform([tr.dim, s.dense], -glorot, glorot, 'float32', 1)) : null
    const b1 = s.dense ? tf.variable(tf.zeros([s.dense])) : null
    const g2 = Math.sqrt(6 / ((s.dense || tr.dim) + k))
    const W = tf.variable(tf.randomUniform([s.dense || tr.dim, k], -g2, g2, 'float32', 2))
    const b = tf.variable(tf.zeros([k]))
    const vars = [W, b, ...(W1 ? [W1, b1!] : [])]
    const opt = tf.train.adam(s.lr)
    const fwd = (x: tf.Tensor2D, train: boolean): tf.Tensor2D => {
      let h: tf.Tensor2D = x
      if (W1) h = tf.relu(h.matMul(W1).add(b1!))
      if (train && s.dropout > 0) h = tf.dropout(h, s.dropout, undefined, Math.floor(r() * 1e9)) as tf.Tensor2D
      return h.matMul(W).add(b)
    }
    const evalV = (): { loss: number; acc: number; probs: tf.Tensor2D } => {
      let p = tf.softmax(fwd(xv, false))
      if (xvf) p = p.add(tf.softmax(fwd(xvf, false))).div(2)
      const loss = tf
        .neg(tf.sum(yv.mul(tf.log(p.add(1e-7))), 1))
        .mean()
        .dataSync()[0]!
      const acc = tf.equal(p.argMax(1), tf.tensor1d(va.y, 'int32')).toFloat().mean().dataSync()[0]!
      return { loss, acc, probs: p as tf.Tensor2D }
    }
    let best = { score: Infinity, acc: 0, loss: Infinity, step: 0, vals: vars.map((v) => v.clone()) }
    let step = 0
    const spe = Math.ceil(n / s.batch)
    while (step < s.maxSteps) {
      const order = Array.from({ length: n }, (_, i) => i)
      for (let i = n - 1; i > 0; i--) {
        const j = Math.floor(r() * (i + 1))
        ;[order[i], order[j]] = [order[j]!, order[i]!]
      }
      for (let bi = 0; bi < spe; bi++) {
        const idx = tf.tensor1d(order.slice(bi * s.batch, (bi + 1) * s.batch), 'int32')
        tf.tidy(() => {
          const xb = xs.gather(idx) as tf.Tensor2D
          const yb = ys.gather(idx)
          opt.minimize(
            () => {
              const l = tf.losses.softmaxCrossEntropy(yb, fwd(xb, true)) as tf.Scalar
              return s.l2 > 0 ? (l.add(tf.sum(tf.square(W)).mul(s.l2)) as tf.Scalar) : l
            },
            false,
            vars
          )
        })
        idx.dispose()
        step++
      }
      const v = tf.tidy(() => {
        const e = evalV()
        return { loss: e.loss, acc: e.acc }
      })
      const score = s.select === 'loss' ? v.loss : -v.acc + v.loss * 1e-3
      if (score < best.score) {
        best.vals.forEach((t) => t.dispose())
        best = { score, acc: v.acc, loss: v.loss, step, vals: vars.map((t) => t.clone()) }
      } else if (step - best.step >= s.patienceSteps) break
    }
    vars.forEach((v, i) => v.assign(best.vals[i]!))
    const predict = (x: F, xf: F | null): number =>
      tf.tidy(() => {
        let p = tf.softmax(fwd(tf.tensor2d(x.x, [x.n, x.dim]), false))
        if (xf && s.tta) p = p.add(tf.softmax(fwd(tf.tensor2d(xf.x, [x.n, x.dim]), false))).div(2)
        return tf.equal(p.argMax(1), tf.tensor1d(x.y, 'int32')).toFloat().mean().dataSync()[0]!
      })
    return { best, predict, step }
  }
}

async function features(root: string): Promise<Record<string, F | null>> {
  const opts: TrainOptions = {
    ...DEFAULT_TRAIN_OPTIONS,
    baseId: 'mobilenet_v2_0.35_224',
    weights: { kind: 'file', path: WEIGHTS },
    split: 'reuse',
    augment: NO_AUGMENTATION,
    resizeMode: (process.env['RESIZE'] ?? 'squash') as TrainOptions['resizeMode']
  }
  const dir = resolve(root)
  const noop = (): void => undefined
  const scan = await scanStep(dir, opts, noop)
  const state = openProjectState(dir)
  const data = splitStep(state.store, dir, scan, opts, noop)
  const backend = await initBackend({ prefer: 'auto' })
  const network = await prepareBase(opts, noop)
  const { sets, counts } = splitSets(dir, data, new ImageCache(state.cacheDir), network.spec.size, opts)
  const frozenBase = foldedBase(network)
  const pool = createFeaturePool(network, frozenBase, backend, noop)
  const io = {
    base: network,
    frozenBase,
    featureForward: pool.forward,
    featureCache: featureCacheOptions(state.cacheDir, opts, network)
  }
  const out: Record<string, F | null> = {}
  for (const s of ['train', 'validation', 'test'] as SplitName[]) {
    for (const flip of [false, true]) {
      if (counts[s] === 0) {
        out[s + (flip ? 'F' : '')] = null
        continue
      }
      const set = flip ? flipped(sets[s].set, network.spec.size) : sets[s].set
      const f = await phaseOneFeatures(io, set, { batchSize: 32 })
      out[s + (flip ? 'F' : '')] = { x: f.data, y: [...set.labels], dim: f.dim, n: f.count }
    }
  }
  await pool.close()
  out['k'] = { x: new Float32Array(), y: [data.classes.length], dim: 0, n: 0 }
  return out
}

async function main(): Promise<void> {
  const base: Strat = {
    lr: 1e-3,
    batch: 16,
    patienceSteps: 200,
    maxSteps: 3000,
    dropout: 0.2,
    l2: 0,
    flipTrain: false,
    tta: false,
    dense: 0,
    select: 'loss',
    label: 'current'
  }
  const strats: Strat[] = [
    base,
    { ...base, lr: 4.8e-3, label: 'lr 4.8e-3' },
    ...[1e-3, 3e-3, 1e-2, 3e-2].map((l2) => ({ ...base, lr: 3e-3, l2, patienceSteps: 400, label: `l2 ${l2} lr 3e-3` })),
    ...[1e-3, 3e-3, 1e-2, 3e-2].map((l2) => ({
      ...base,
      lr: 3e-3,
      l2,
      dropout: 0,
      patienceSteps: 400,
      label: `l2 ${l2} nodrop`
    })),
    { ...base, dropout: 0.5, lr: 3e-3, label: 'dropout 0.5 lr 3e-3' }
  ]
  for (const root of process.argv.slice(2)) {
    const f = await features(root)
    const k = f['k']!.y[0]!
    console.log(`\n${root}: train ${f['train']!.n} val ${f['validation']!.n} test ${f['test']?.n ?? 0}`)
    for (const s of strats) {
      const t0 = performance.now()
      const r = trainHead(
        f['train']!,
        s.flipTrain ? f['trainF']! : null,
        f['validation']!,
        f['validationF'] ?? null,
        k,
        s
      )
      const val = r.predict(f['validation']!, f['validationF'] ?? null)
      const test = f['test'] ? r.predict(f['test'], f['testF'] ?? null) : NaN
      console.log(
        `${s.label.padEnd(26)} val ${(val * 100).toFixed(1)} test ${(test * 100).toFixed(1)} valLoss ${r.best.loss.toFixed(4)} bestStep ${r.best.step} steps ${r.step} ${((performance.now() - t0) / 1000).toFixed(1)}s`
      )
    }
  }
}
main().catch((e) => {
  console.error(e)
  process.exit(1)
})
