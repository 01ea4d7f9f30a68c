import { describe, expect, it } from 'vitest'
import { confusionMatrix, predictionRows, splitMetrics } from '@core/eval/metrics'
import type { ImagePrediction } from '@core/eval/types'

function row(id: string, trueClass: number, predictedClass: number, k = 3): ImagePrediction {
  const probs = Array.from({ length: k }, (_, c) => (c === predictedClass ? 0.6 : 0.4 / (k - 1)))
  return { imageId: id, trueClass, predictedClass, probs, confidence: 0.6, loss: -Math.log(probs[trueClass] as number) }
}

describe('metrics', () => {
  const pairs: [number, number][] = [
    [0, 0],
    [0, 0],
    [0, 1],
    [1, 1],
    [1, 2],
    [2, 2],
    [2, 2],
    [2, 0]
  ]
  const rows = pairs.map(([t, p], i) => row(`img${i}`, t, p))

  it('confusion matrix counts [true][predicted]', () => {
    expect(confusionMatrix(rows, 3)).toEqual([
      [2, 1, 0],
      [0, 1, 1],
      [1, 0, 2]
    ])
  })

  it('accuracy, loss, precision / recall / F1 / support per class', () => {
    const m = splitMetrics(rows, ['a', 'b', 'c'])
    expect(m.count).toBe(8)
    expect(m.accuracy).toBeCloseTo(5 / 8, 12)
    const expectedLoss = rows.reduce((s, r) => s + r.loss, 0) / 8
    expect(m.loss).toBeCloseTo(expectedLoss, 12)
    const [a, b, c] = m.perClass
    expect(a).toMatchObject({ name: 'a', support: 3 })
    expect(a?.precision).toBeCloseTo(2 / 3, 12)
    expect(a?.recall).toBeCloseTo(2 / 3, 12)
    expect(a?.f1).toBeCloseTo(2 / 3, 12)
    expect(b?.precision).toBeCloseTo(1 / 2, 12)
    expect(b?.recall).toBeCloseTo(1 / 2, 12)
    expect(b?.support).toBe(2)
    expect(c?.precision).toBeCloseTo(2 / 3, 12)
    expect(c?.recall).toBeCloseTo(2 / 3, 12)
  })

  it('precision/recall are 0 (not NaN) for a class never predicted or never present', () => {
    const m = splitMetrics([row('x', 0, 0), row('y', 1, 0)], ['a', 'b', 'c'])
    expect(m.perClass[1]).toMatchObject({ precision: 0, recall: 0, f1: 0, support: 1 })
    expect(m.perClass[2]).toMatchObject({ precision: 0, recall: 0, f1: 0, support: 0 })
    expect(m.perClass[0]?.precision).toBeCloseTo(0.5, 12)
    expect(m.perClass[0]?.recall).toBe(1)
    expect(m.perClass[0]?.f1).toBeCloseTo(2 / 3, 12)
  })

  it('predictionRows: binary [1-p, p] rows, confidence, loss, ties to the lowest class', () => {
    const r = predictionRows(Float32Array.from([0.2, 0.8, 0.9, 0.1, 0.5, 0.5]), [1, 1, 0], ['p', 'q', 'r'], 2)
    expect(r.map((x) => x.predictedClass)).toEqual([1, 0, 0])
    expect(r[0]?.confidence).toBeCloseTo(0.8, 6)
    expect(r[0]?.loss).toBeCloseTo(-Math.log(0.8), 6)
    expect(r[1]?.loss).toBeCloseTo(-Math.log(0.1), 5)
    expect(r[2]?.probs.length).toBe(2)
    expect(() => predictionRows([0.5, 0.5], [0, 1], ['a', 'b'], 2)).toThrow(/expected 2x2 probabilities, got 2/)
    expect(() => predictionRows([0.5, 0.5], [3], ['a'], 2)).toThrow(/label 3 of 'a' out of range/)
  })

  it('loss of a zero probability is clipped, not infinite', () => {
    const r = predictionRows([1, 0], [1], ['z'], 2)
    expect(r[0]?.loss).toBeCloseTo(-Math.log(1e-7), 6)
  })
})
