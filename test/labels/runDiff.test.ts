// The run diff on a real SQLite store: flips both ways, images relabelled or excluded in between, per-class
// deltas; McNemar's exact p-values against hand-computed binomial tails.
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ProjectStore } from '@core/store/projectStore'
import { diffRuns } from '@core/labels/runDiff'
import { mcnemarExact } from '@core/labels/mcnemar'
import { flatScan, makeTempDir } from '@test/helpers/store'

describe("McNemar's exact test", () => {
  it('matches the two-sided binomial tail', () => {
    expect(mcnemarExact(0, 0)).toBe(1)
    expect(mcnemarExact(0, 5)).toBeCloseTo(2 / 32, 12)
    expect(mcnemarExact(1, 9)).toBeCloseTo((2 * (1 + 10)) / 1024, 12)
    expect(mcnemarExact(9, 1)).toBe(mcnemarExact(1, 9))
    expect(mcnemarExact(5, 5)).toBe(1)
    // Large n stays finite (log-space sum): 400 vs 600 is far beyond noise.
    expect(mcnemarExact(400, 600)).toBeLessThan(1e-9)
    expect(mcnemarExact(400, 600)).toBeGreaterThan(0)
    expect(() => mcnemarExact(-1, 2)).toThrow(RangeError)
  })
})

describe('diffRuns', () => {
  let tmp: ReturnType<typeof makeTempDir>
  let store: ProjectStore
  let projectId: number
  beforeEach(() => {
    tmp = makeTempDir()
    store = ProjectStore.open(join(tmp.dir, 'tunelab.db'))
    projectId = store.upsertProject('/data/pets')
    store.saveScan(projectId, flatScan('/data/pets', ['cat', 'dog'], 3))
  })
  afterEach(() => {
    store.close()
    tmp.cleanup()
  })

  it('sorts the images both runs evaluated into flips and relabels, and counts per class', () => {
    const id = (p: string): number => store.getImageByPath(projectId, p)!.id
    const a = store.createRun({ projectId, config: {}, classes: ['cat', 'dog'] }).id
    const b = store.createRun({ projectId, config: {}, classes: ['cat', 'dog'] }).id
    const p = (path: string, trueClass: string, predictedClass: string, conf = 0.9) => ({
      imageId: id(path),
      split: 'test' as const,
      trueClass,
      predictedClass,
      probabilities: predictedClass === 'cat' ? [conf, 1 - conf] : [1 - conf, conf]
    })
    store.savePredictions(a, [
      p('cat/cat-0.jpg', 'cat', 'dog'), // wrong -> right
      p('cat/cat-1.jpg', 'cat', 'cat'), // right -> wrong
      p('cat/cat-2.jpg', 'cat', 'dog'), // relabelled to dog: its answer changed, not the model (no flip)
      p('dog/dog-0.jpg', 'dog', 'dog'),
      p('dog/dog-1.jpg', 'dog', 'dog') // excluded before b
    ])
    store.savePredictions(b, [
      p('cat/cat-0.jpg', 'cat', 'cat', 0.8),
      p('cat/cat-1.jpg', 'cat', 'dog', 0.7),
      p('cat/cat-2.jpg', 'dog', 'dog'),
      p('dog/dog-0.jpg', 'dog', 'dog'),
      p('dog/dog-2.jpg', 'dog', 'cat') // new in b
    ])
    const d = diffRuns(store, a, b, undefined, new Set(['dog/dog-1.jpg']))
    expect(d.splits).toEqual(['test'])
    expect(d.common).toBe(4)
    expect(d.sameLabel).toBe(3)
    expect(d.accuracyA).toBe(2 / 3)
    expect(d.accuracyB).toBe(2 / 3)
    expect(d.wrongToRight.map((x) => x.relPath)).toEqual(['cat/cat-0.jpg'])
    expect(d.rightToWrong.map((x) => [x.relPath, x.predictedA, x.predictedB, x.confidenceB])).toEqual([
      ['cat/cat-1.jpg', 'cat', 'dog', 0.7]
    ])
    expect(d.relabelled.map((x) => [x.relPath, x.trueA, x.trueB])).toEqual([['cat/cat-2.jpg', 'cat', 'dog']])
    expect(d.onlyA).toEqual([
      { imageId: id('dog/dog-1.jpg'), relPath: 'dog/dog-1.jpg', trueClass: 'dog', excluded: true }
    ])
    expect(d.onlyB.map((x) => x.relPath)).toEqual(['dog/dog-2.jpg'])
    expect(d.perClass).toEqual([
      { className: 'cat', countA: 2, accuracyA: 0.5, countB: 2, accuracyB: 0.5, delta: 0 },
      { className: 'dog', countA: 1, accuracyA: 1, countB: 1, accuracyB: 1, delta: 0 }
    ])
    expect(d.mcnemar).toEqual({ b: 1, c: 1, pValue: 1 })
    // A fixed label under an unchanged prediction (right before, "wrong" after) is not the model getting worse.
    const c = store.createRun({ projectId, config: {}, classes: ['cat', 'dog'] }).id
    store.savePredictions(c, [p('cat/cat-1.jpg', 'dog', 'cat')])
    const fixed = diffRuns(store, a, c)
    expect(fixed.rightToWrong).toEqual([])
    expect(fixed.relabelled.map((x) => [x.relPath, x.predictedA, x.predictedB])).toEqual([
      ['cat/cat-1.jpg', 'cat', 'cat']
    ])
    expect(fixed.mcnemar.b).toBe(0)
    // "Apply to folders" moved cat-2 into dog/ between two runs: a new image row with the same content is the same
    // image (relabelled, under its current path), not one image only in each run.
    const scan = flatScan('/data/pets', ['cat', 'dog'], 3)
    const moved = scan.images.map((im) =>
      im.path === 'cat/cat-2.jpg' ? { ...im, path: 'dog/cat-2.jpg', className: 'dog' } : im
    )
    store.saveScan(projectId, { ...scan, images: moved })
    const after = store.createRun({ projectId, config: {}, classes: ['cat', 'dog'] }).id
    store.savePredictions(after, [p('dog/cat-2.jpg', 'dog', 'dog'), p('dog/dog-0.jpg', 'dog', 'dog')])
    const m = diffRuns(store, a, after)
    expect(m.relabelled.map((x) => [x.relPath, x.trueA, x.trueB, x.imageId])).toEqual([
      ['dog/cat-2.jpg', 'cat', 'dog', id('dog/cat-2.jpg')]
    ])
    expect(m.onlyA.map((x) => x.relPath)).not.toContain('cat/cat-2.jpg')
    expect(m.onlyB).toEqual([])
    expect(() => diffRuns(store, a, b, 'validation')).toThrow(/no evaluated split in common \(asked: validation\)/)
    expect(() => diffRuns(store, a, 999)).toThrow(/no run 999/)
  })
})
