import { describe, expect, it } from 'vitest'
import { analyse, defaultThresholds, margin, perClassAnalysis, thresholdSweep, unsure } from '@core/eval/analyses'
import { predictionRows } from '@core/eval/metrics'

// id, true class, p(class 1)
const data: [string, number, number][] = [
  ['a', 0, 0.1], // right, conf .9, margin .8
  ['b', 0, 0.4], // right, conf .6, margin .2
  ['c', 0, 0.7], // wrong, conf .7, margin .4
  ['d', 1, 0.95], // right, conf .95, margin .9
  ['e', 1, 0.45], // wrong, conf .55, margin .1
  ['f', 1, 0.8], // right, conf .8, margin .6
  ['g', 1, 0.01] // wrong, conf .99, margin .98
]
const rows = predictionRows(
  data.flatMap(([, , p]) => [1 - p, p]),
  data.map(([, y]) => y),
  data.map(([id]) => id),
  2
)
const ids = (r: { imageId: string }[]): string[] => r.map((x) => x.imageId)

describe('analyses', () => {
  it('per class: most confident correct, least confident, confidently wrong', () => {
    const [cat, dog] = perClassAnalysis(rows, ['cat', 'dog'], 10)
    expect(ids(cat?.mostConfidentCorrect ?? [])).toEqual(['a', 'b'])
    expect(ids(cat?.leastConfident ?? [])).toEqual(['b', 'c', 'a'])
    expect(ids(cat?.confidentlyWrong ?? [])).toEqual(['c'])
    expect(ids(dog?.mostConfidentCorrect ?? [])).toEqual(['d', 'f'])
    expect(ids(dog?.leastConfident ?? [])).toEqual(['e', 'f', 'd', 'g'])
    expect(ids(dog?.confidentlyWrong ?? [])).toEqual(['g', 'e'])
  })

  it('top N limits every list', () => {
    const [, dog] = perClassAnalysis(rows, ['cat', 'dog'], 1)
    expect(ids(dog?.mostConfidentCorrect ?? [])).toEqual(['d'])
    expect(ids(dog?.leastConfident ?? [])).toEqual(['e'])
    expect(ids(dog?.confidentlyWrong ?? [])).toEqual(['g'])
  })

  it('margin is the gap between the two largest probabilities', () => {
    expect(
      margin({ imageId: 'x', trueClass: 0, predictedClass: 2, probs: [0.2, 0.3, 0.5], confidence: 0.5, loss: 0 })
    ).toBeCloseTo(0.2, 12)
    expect(margin({ imageId: 'x', trueClass: 0, predictedClass: 0, probs: [0.5, 0.5], confidence: 0.5, loss: 0 })).toBe(
      0
    )
  })

  it('threshold sweep: coverage and accuracy on covered predictions', () => {
    const s = thresholdSweep(rows, [0.5, 0.75, 0.99, 0.999])
    expect(s[0]).toMatchObject({ threshold: 0.5, covered: 7 })
    expect(s[0]?.coverage).toBeCloseTo(1, 12)
    expect(s[0]?.accuracy).toBeCloseTo(4 / 7, 12)
    expect(s[1]).toMatchObject({ threshold: 0.75, covered: 4, accuracy: 0.75 })
    expect(s[1]?.coverage).toBeCloseTo(4 / 7, 12)
    expect(s[2]).toMatchObject({ covered: 1, accuracy: 0 })
    expect(s[3]).toMatchObject({ covered: 0, coverage: 0, accuracy: null })
  })

  it('threshold sweep agrees with counting row by row, with tied confidences and thresholds equal to them', () => {
    let state = 7
    const rand = (): number => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31
    const n = 500
    const many = predictionRows(
      Array.from({ length: n }, () => Math.round(rand() * 20) / 20).flatMap((p) => [1 - p, p]),
      Array.from({ length: n }, () => (rand() < 0.5 ? 0 : 1)),
      Array.from({ length: n }, (_, i) => `i${i}`),
      2
    )
    const few = [0, 0.5, 0.55, 0.7, 0.85, 0.9, 0.95, 1, 0.123, ...many.slice(0, 20).map((r) => r.confidence)]
    const definition = (thresholds: number[]) =>
      thresholds.map((threshold) => {
        const covered = many.filter((r) => r.confidence >= threshold)
        const correct = covered.filter((r) => r.predictedClass === r.trueClass).length
        return {
          threshold,
          coverage: covered.length / n,
          covered: covered.length,
          accuracy: covered.length > 0 ? correct / covered.length : null
        }
      })
    // A few thresholds are counted row by row, many through sorted confidences: both must agree with the definition.
    for (const thresholds of [few, [...few, ...Array.from({ length: 100 }, (_, i) => i / 100)]]) {
      expect(thresholdSweep(many, thresholds)).toEqual(definition(thresholds))
    }
    expect(new Set(many.map((r) => r.confidence)).size).toBeLessThan(15)
  })

  it('unsure: predictions below the threshold are held back', () => {
    expect(unsure(rows, 0.75)).toEqual({ threshold: 0.75, count: 3, imageIds: ['b', 'c', 'e'] })
    const a = analyse(rows, ['cat', 'dog'])
    expect(a.unsure.count).toBe(3)
    expect(a.sweep.map((p) => p.threshold)).toEqual(defaultThresholds(2))
    expect(() => analyse(rows, ['cat', 'dog'], { unsureThreshold: 0 })).toThrow(/unsureThreshold/)
  })

  it('default thresholds: 0.5..0.95 by 0.05, 0.99, and 1/k for k > 2', () => {
    expect(defaultThresholds(2)).toEqual([0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 0.99])
    expect(defaultThresholds(4)[0]).toBe(0.25)
    expect(defaultThresholds(4).length).toBe(12)
  })
})
