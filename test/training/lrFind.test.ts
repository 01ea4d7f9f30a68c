// The learning-rate finder on a synthetic linearly separable set of "features": its suggestion must fall in a decade
// whose rate demonstrably trains the head well, and that check must reject rates that do not.
import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { lrFind, rangeRate, type FeatureRows, type LrFindHead } from '@core/training/lrFind'
import { minimumOverTen, steepest, suggestionWindow, valley } from '@core/training/lrSuggest'
import { ClassifierHead } from '@core/training/head'
import { createOptimizer } from '@core/training/optimizers'
import { trainStep } from '@core/training/step'
import { gatherRows } from '@core/training/context'
import { createRng } from '@core/util/rng'
import { useCpu } from '@test/helpers/trainingFixtures'

beforeAll(useCpu)

/**
 * A linearly separable set shaped like pooled CNN features: non-negative, `dim` wide; the class of each row is the
 * argmax of a fixed random linear map (rows too near a boundary are dropped, so a margin exists). Points close to
 * the boundaries make a too-high rate overshoot, while a too-low one barely moves in a short budget.
 */
function separable(k: number, n: number, dim: number, seed: number): { features: FeatureRows; labels: number[] } {
  const rng = createRng(seed)
  const w = Array.from({ length: k }, () => Array.from({ length: dim }, () => rng.uniform(-1, 1)))
  const data = new Float32Array(n * dim)
  const labels: number[] = []
  const row = new Float32Array(dim)
  for (let i = 0; i < n; ) {
    for (let d = 0; d < dim; d++) row[d] = rng.next() < 0.5 ? 0 : rng.uniform(0, 2)
    const scores = w.map((wc) => wc.reduce((a, v, d) => a + v * (row[d] ?? 0), 0)).sort((a, b) => b - a)
    const c = w.map((wc) => wc.reduce((a, v, d) => a + v * (row[d] ?? 0), 0)).indexOf(scores[0] as number)
    if ((scores[0] as number) - (scores[1] as number) < 0.2) continue
    data.set(row, i * dim)
    labels.push(c)
    i++
  }
  return { features: { data, dim, count: n }, labels }
}

const HEAD: LrFindHead = { numClasses: 3, dropout: 0.2, seed: 3, optimizer: 'adam', batchSize: 16 }

/** Mean training loss after a fixed short budget of Adam steps at a constant rate, from the finder's initial head. */
async function lossAfterTraining(
  set: { features: FeatureRows; labels: number[] },
  lr: number,
  steps = 40
): Promise<number> {
  const { features, labels } = set
  const head = new ClassifierHead({
    featureDim: features.dim,
    numClasses: HEAD.numClasses,
    dropout: 0,
    seed: HEAD.seed
  })
  const opt = createOptimizer('adam', lr)
  const rng = createRng(9)
  for (let s = 0; s < steps; s++) {
    const idx = Array.from({ length: HEAD.batchSize }, () => rng.int(features.count))
    const x = tf.tensor2d(gatherRows(features.data, features.dim, idx), [idx.length, features.dim])
    const y = tf.tensor1d(
      idx.map((i) => labels[i] as number),
      'int32'
    )
    await trainStep([{ optimizer: opt, vars: head.variables() }], () => head.forward(x), y, null)
    tf.dispose([x, y])
  }
  const all = Array.from({ length: features.count }, (_, i) => i)
  const loss = tf.tidy(() => {
    const logits = head.forward(tf.tensor2d(features.data, [features.count, features.dim]))
    return tf.losses.softmaxCrossEntropy(
      tf.oneHot(
        tf.tensor1d(
          all.map((i) => labels[i] as number),
          'int32'
        ),
        HEAD.numClasses
      ),
      logits
    )
  })
  const v = (await loss.data())[0] ?? NaN
  tf.dispose(loss)
  opt.dispose()
  head.dispose()
  return v
}

describe('lrFind', () => {
  const set = separable(3, 240, 256, 5)
  // Half-decade steps from 1e-7 to 10: a decade-wide window around any rate holds two of them.
  const grid = Array.from({ length: 17 }, (_, i) => 10 ** (-7 + i / 2))
  let gridLoss: Map<number, number>

  beforeAll(async () => {
    gridLoss = new Map()
    for (const lr of grid) gridLoss.set(lr, await lossAfterTraining(set, lr))
  })

  /** A rate is known-good when a short training at it gets the loss within 2x (+0.05) of the best grid rate's. */
  const isGood = (lr: number): boolean => (gridLoss.get(lr) ?? Infinity) <= 2 * Math.min(...gridLoss.values()) + 0.05
  /** Whether a known-good grid rate lies in the decade centred on `s` ([s/sqrt(10), s*sqrt(10)]). */
  const goodRateInDecade = (s: number): boolean =>
    grid.some((lr) => Math.abs(Math.log10(lr / s)) <= 0.5 + 1e-9 && isGood(lr))

  it('suggests a rate whose decade holds a known-good rate; the same check rejects broken suggestions', async () => {
    const progress: number[] = []
    const r = await lrFind(set.features, set.labels, HEAD, { steps: 200, onProgress: (p) => progress.push(p.step) })
    const table = [...gridLoss].map(([lr, l]) => `${lr.toExponential(0)}:${l.toFixed(3)}`).join(' ')
    expect(r.suggestion.method).toBe('valley')
    expect(progress[0]).toBe(1)
    expect(progress.at(-1)).toBe(r.points.length)
    // Rates rise exponentially from startLr; the run stops where the loss blows up, before the end of the range.
    expect(r.points[0]?.lr).toBeCloseTo(1e-7, 12)
    expect(r.points[10]?.lr).toBeCloseTo(rangeRate(1e-7, 10, 10, 200), 12)
    expect(r.stoppedBy).toBe('diverged')
    expect(r.points.length).toBeLessThan(200)
    expect(
      goodRateInDecade(r.suggestion.lr),
      `suggestion ${r.suggestion.lr} vs loss after 40 steps per rate ${table}`
    ).toBe(true)
    // The check has teeth: the range's ends, and the rate a "last point before divergence" bug would give, fail it.
    expect(goodRateInDecade(1e-7)).toBe(false)
    expect(goodRateInDecade(10)).toBe(false)
    expect(goodRateInDecade(r.points.at(-1)?.lr ?? 10)).toBe(false)
  })

  it('is deterministic for a seed, trains a dense head too, and leaves no tensors behind', async () => {
    const before = tf.memory().numTensors
    const a = await lrFind(set.features, set.labels, { ...HEAD, dense: 16 }, { steps: 60 })
    const b = await lrFind(set.features, set.labels, { ...HEAD, dense: 16 }, { steps: 60 })
    expect(a.points.map((p) => p.rawLoss)).toEqual(b.points.map((p) => p.rawLoss))
    expect(a.suggestion).toEqual(b.suggestion)
    expect(tf.memory().numTensors).toBe(before)
  })

  it('cancels between steps with an AbortError', async () => {
    const controller = new AbortController()
    const run = lrFind(set.features, set.labels, HEAD, {
      onProgress: (p) => {
        if (p.step === 5) controller.abort()
      },
      signal: controller.signal
    })
    await expect(run).rejects.toMatchObject({ name: 'AbortError' })
  })

  it('rejects bad input with a specific message', async () => {
    const { features, labels } = set
    await expect(lrFind(features, labels.slice(1), HEAD)).rejects.toThrow(/240 feature rows but 239 labels/)
    await expect(
      lrFind(
        features,
        labels.map((y) => y + 1),
        HEAD
      )
    ).rejects.toThrow(/label 3 of row \d+ is not a class index in \[0, 2\]/)
    await expect(lrFind(features, labels, HEAD, { startLr: 1, endLr: 0.1 })).rejects.toThrow(
      /endLr must be above startLr/
    )
    await expect(lrFind({ ...features, count: 0, data: new Float32Array(0) }, [], HEAD)).rejects.toThrow(
      /training set is empty/
    )
  })
})

describe('suggestions on a hand-made curve', () => {
  // Flat, then a long descent from 1e-4 to 1e-1, a bottom, then a blow-up.
  const lrs = Array.from({ length: 100 }, (_, i) => 10 ** (-7 + (8 * i) / 100))
  const loss = (lr: number): number => {
    const x = Math.log10(lr)
    if (x < -4) return 1
    if (x < -1) return 1 - (0.9 * (x + 4)) / 3
    return 0.1 + 3 * (x + 1) ** 2
  }
  const points = lrs.map((lr) => ({ lr, loss: loss(lr) }))

  it('valley lands inside the descent, steepest on it, minimum a tenth of the bottom', () => {
    const w = suggestionWindow(points)
    expect(w.length).toBe(100 - 10 - 5)
    const v = valley(w)
    expect(v?.lr).toBeGreaterThan(1e-4)
    expect(v?.lr).toBeLessThan(1e-1)
    const s = steepest(w)
    expect(Math.log10(s?.lr ?? 0)).toBeGreaterThan(-4)
    expect(Math.log10(s?.lr ?? 0)).toBeLessThan(-1)
    expect(minimumOverTen(w)?.lr).toBeCloseTo(points.reduce((a, b) => (b.loss < a.loss ? b : a)).lr / 10, 12)
  })
})
