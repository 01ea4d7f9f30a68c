// Gallery queries against hand-built predictions whose answers are worked out by hand in the comments.
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { SplitName } from '@shared/domain'
import { ProjectStore } from '@core/store/projectStore'
import { flatScan, makeTempDir } from '@test/helpers/store'

describe('gallery queries', () => {
  const tmp = makeTempDir()
  const store = ProjectStore.open(join(tmp.dir, 'tunelab.db'))
  const root = join(tmp.dir, 'pets')
  let binaryRun = 0
  let triRun = 0
  const id = new Map<string, number>()
  const paths = (items: { relPath: string }[]) => items.map((i) => i.relPath)

  beforeAll(() => {
    const project = store.getProject(store.upsertProject(root))!
    store.saveScan(project.id, flatScan(root, ['cat', 'dog', 'fox'], 5))
    for (const img of store.listImages(project.id)) id.set(img.relPath, img.id)
    const pid = (p: string) => id.get(p)!

    // Binary run, classes [cat, dog], probabilities [p(cat), p(dog)]; test split unless noted.
    binaryRun = store.createRun({ projectId: project.id, config: {}, classes: ['cat', 'dog'] }).id
    const bin = (path: string, trueClass: string, pCat: number, split: SplitName = 'test') => ({
      imageId: pid(path),
      split,
      trueClass,
      predictedClass: pCat >= 0.5 ? 'cat' : 'dog',
      probabilities: [pCat, 1 - pCat]
    })
    store.savePredictions(binaryRun, [
      bin('cat/cat-0.jpg', 'cat', 0.99), // right, conf .99, |p-.5| .49
      bin('cat/cat-1.jpg', 'cat', 0.8), //  right, conf .80, |p-.5| .30
      bin('cat/cat-2.jpg', 'cat', 0.55), // right, conf .55, |p-.5| .05
      bin('cat/cat-3.jpg', 'cat', 0.1), //  wrong (dog), conf .90, |p-.5| .40
      bin('cat/cat-4.jpg', 'cat', 0.46), // wrong (dog), conf .54, |p-.5| .04
      bin('dog/dog-0.jpg', 'dog', 0.02), // right, conf .98
      bin('dog/dog-1.jpg', 'dog', 0.7), //  wrong (cat), conf .70, |p-.5| .20
      bin('dog/dog-2.jpg', 'dog', 0.52), // wrong (cat), conf .52, |p-.5| .02
      bin('dog/dog-3.jpg', 'dog', 0.3), //  right, conf .70, |p-.5| .20
      bin('dog/dog-4.jpg', 'dog', 0.01, 'validation') // right, other split
    ])

    // Three classes: margin (top1 - top2) ranks differently from confidence.
    triRun = store.createRun({ projectId: project.id, config: {}, classes: ['cat', 'dog', 'fox'] }).id
    const tri = (path: string, trueClass: string, predictedClass: string, probabilities: number[]) => ({
      imageId: pid(path),
      split: 'test' as const,
      trueClass,
      predictedClass,
      probabilities
    })
    store.savePredictions(triRun, [
      tri('fox/fox-0.jpg', 'fox', 'fox', [0.05, 0.4, 0.55]), // conf .55, margin .15
      tri('fox/fox-1.jpg', 'fox', 'fox', [0.3, 0.3, 0.4]), //   conf .40 (lowest), margin .10
      tri('fox/fox-2.jpg', 'fox', 'fox', [0.02, 0.49, 0.49]), // tie of the top two: margin 0
      tri('fox/fox-3.jpg', 'fox', 'cat', [0.6, 0.38, 0.02]), // wrong, conf .60, margin .22
      tri('fox/fox-4.jpg', 'fox', 'dog', [0.1, 0.85, 0.05]) //  wrong, conf .85, margin .75
    ])
  })
  afterAll(() => {
    store.close()
    tmp.cleanup()
  })

  it('mostConfident: correct predictions of the class, highest confidence first', () => {
    expect(paths(store.mostConfident(binaryRun, 'test', 'cat', 10))).toEqual([
      'cat/cat-0.jpg',
      'cat/cat-1.jpg',
      'cat/cat-2.jpg'
    ])
    expect(paths(store.mostConfident(binaryRun, 'test', 'dog', 1))).toEqual(['dog/dog-0.jpg'])
    expect(paths(store.mostConfident(binaryRun, 'validation', 'dog', 5))).toEqual(['dog/dog-4.jpg'])
    expect(paths(store.mostConfident(binaryRun, 'test', null, 3))).toEqual([
      'cat/cat-0.jpg',
      'dog/dog-0.jpg',
      'cat/cat-1.jpg'
    ])
    expect(store.mostConfident(binaryRun, 'test', 'cat', 0)).toEqual([])
  })

  it('leastConfident: nearest the decision boundary (|p - 0.5| for two classes), right or wrong', () => {
    expect(paths(store.leastConfident(binaryRun, 'test', 'cat', 3))).toEqual([
      'cat/cat-4.jpg',
      'cat/cat-2.jpg',
      'cat/cat-1.jpg'
    ])
    expect(paths(store.leastConfident(binaryRun, 'test', 'dog', 2))).toEqual(['dog/dog-2.jpg', 'dog/dog-1.jpg'])
    const item = store.leastConfident(binaryRun, 'test', 'dog', 1)[0]!
    expect(item.margin).toBeCloseTo(Math.abs(0.52 - 0.5) * 2, 12)
  })

  it('leastConfident with three classes uses the top-2 margin, not the top-1 probability', () => {
    // By margin: fox-2 (0), fox-1 (.10), fox-0 (.15), fox-3 (.22), fox-4 (.75).
    // (By confidence alone fox-1 (.40) would come first.)
    expect(paths(store.leastConfident(triRun, 'test', 'fox', 5))).toEqual([
      'fox/fox-2.jpg',
      'fox/fox-1.jpg',
      'fox/fox-0.jpg',
      'fox/fox-3.jpg',
      'fox/fox-4.jpg'
    ])
  })

  it('confidentlyWrong: wrong predictions of the true class, most confident first', () => {
    expect(paths(store.confidentlyWrong(binaryRun, 'test', 'cat', 5))).toEqual(['cat/cat-3.jpg', 'cat/cat-4.jpg'])
    expect(paths(store.confidentlyWrong(binaryRun, 'test', 'dog', 5))).toEqual(['dog/dog-1.jpg', 'dog/dog-2.jpg'])
    expect(paths(store.confidentlyWrong(triRun, 'test', 'fox', 5))).toEqual(['fox/fox-4.jpg', 'fox/fox-3.jpg'])
    const top = store.confidentlyWrong(binaryRun, 'test', 'cat', 1)[0]!
    expect(top).toMatchObject({
      trueClass: 'cat',
      predictedClass: 'dog',
      correct: false,
      present: true,
      width: 64,
      height: 48
    })
    expect(top.confidence).toBeCloseTo(0.9, 12)
  })

  it('confusion matrix counts and cell images', () => {
    expect(store.confusionMatrix(binaryRun, 'test')).toEqual([
      { trueClass: 'cat', predictedClass: 'cat', count: 3 },
      { trueClass: 'cat', predictedClass: 'dog', count: 2 },
      { trueClass: 'dog', predictedClass: 'cat', count: 2 },
      { trueClass: 'dog', predictedClass: 'dog', count: 2 }
    ])
    expect(paths(store.confusionCellImages(binaryRun, 'test', 'dog', 'cat'))).toEqual([
      'dog/dog-1.jpg',
      'dog/dog-2.jpg'
    ])
    expect(paths(store.confusionCellImages(binaryRun, 'test', 'cat', 'cat', 2))).toEqual([
      'cat/cat-0.jpg',
      'cat/cat-1.jpg'
    ])
    expect(store.confusionCellImages(triRun, 'test', 'cat', 'cat')).toEqual([])
  })

  it('rejects a bad split or size with a clear error', () => {
    expect(() => store.mostConfident(binaryRun, 'val' as SplitName, 'cat', 3)).toThrow(/unknown split 'val'/)
    expect(() => store.mostConfident(binaryRun, 'test', 'cat', -1)).toThrow(/non-negative integer/)
  })

  it('the gallery queries use the prediction indexes', () => {
    const plan = store.db
      .prepare(
        `EXPLAIN QUERY PLAN SELECT p.image_id FROM predictions p JOIN images i ON i.id = p.image_id
         WHERE p.run_id = ? AND p.split = ? AND p.true_class = ? AND p.predicted_class = p.true_class
         ORDER BY p.confidence DESC, p.image_id LIMIT 5`
      )
      .all(binaryRun, 'test', 'cat') as { detail: string }[]
    expect(plan.map((r) => r.detail).join(' | ')).toMatch(/USING (COVERING )?INDEX predictions_by_/)
  })
})
