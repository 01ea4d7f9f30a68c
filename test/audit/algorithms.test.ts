// The audit's algorithms on data whose answer is known: planted label flips, planted near-copies, a planted
// outlier; and the audit tables in a real SQLite file (dismissals last until the file changes).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { initBackend } from '@core/tf/backend'
import { createRng } from '@core/util/rng'
import { outOfFoldProbabilities, stratifiedFolds } from '@core/audit/oof'
import { classThresholds, findLabelIssues } from '@core/audit/confidentLearning'
import { findNearDuplicates } from '@core/audit/nearDuplicates'
import { scoreOutliers, standingOut } from '@core/audit/outliers'
import { ProjectStore } from '@core/store/projectStore'
import { dismissFinding, latestAudit, listFindings, saveAudit, auditProbabilities } from '@core/store/auditStore'
import { flatScan, makeTempDir } from '@test/helpers/store'
import { join } from 'node:path'

/** n points per class around well separated random centres in `dim` dimensions. */
function clusters(k: number, n: number, dim: number, seed: number, spread = 0.6): { x: Float32Array; y: number[] } {
  const rng = createRng(seed)
  const gauss = (): number => Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next())
  const centres = Array.from({ length: k }, () => Array.from({ length: dim }, () => gauss()))
  const x = new Float32Array(k * n * dim)
  const y: number[] = []
  for (let c = 0; c < k; c++) {
    for (let i = 0; i < n; i++) {
      const row = c * n + i
      for (let d = 0; d < dim; d++) x[row * dim + d] = (centres[c]?.[d] as number) + spread * gauss()
      y.push(c)
    }
  }
  return { x, y }
}

describe('out-of-fold probabilities and confident learning', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'wasm' })
  })

  it('stratified folds put each class evenly in every fold, and depend on the seed only', () => {
    const labels = [...Array(50).fill(0), ...Array(20).fill(1)] as number[]
    const folds = stratifiedFolds(labels, 5, 3)
    for (let f = 0; f < 5; f++) {
      expect(labels.filter((y, i) => y === 0 && folds[i] === f)).toHaveLength(10)
      expect(labels.filter((y, i) => y === 1 && folds[i] === f)).toHaveLength(4)
    }
    expect(stratifiedFolds(labels, 5, 3)).toEqual(folds)
    expect(stratifiedFolds(labels, 5, 4)).not.toEqual(folds)
  })

  it('finds planted label flips among 3 classes and suggests the true class', async () => {
    const { x, y } = clusters(3, 60, 16, 1)
    const truth = [...y]
    const rng = createRng(9)
    const flipped = rng.shuffle(y.map((_, i) => i)).slice(0, 9)
    for (const i of flipped) y[i] = ((y[i] as number) + 1) % 3
    const probs = await outOfFoldProbabilities(x, 16, y, 3, { folds: 5, seed: 1 })
    const n = Math.round(1.5 * flipped.length)
    // cleanlab's default (prune by noise rate) finds every flip; the strict confident-joint rule misses the two
    // that sit nearer the boundary than their true class' mean self-confidence, but flags nothing else.
    const issues = findLabelIssues(probs, y, 3)
    const found = issues.slice(0, n).filter((c) => flipped.includes(c.index))
    expect(found).toHaveLength(9)
    for (const c of found) expect(c.suggested).toBe(truth[c.index])
    const strict = findLabelIssues(probs, y, 3, { method: 'confident-joint' })
    expect(strict.filter((c) => flipped.includes(c.index)).length).toBeGreaterThanOrEqual(7)
    expect(strict.every((c) => flipped.includes(c.index))).toBe(true)
    // Best first.
    for (let i = 1; i < issues.length; i++) expect(issues[i]?.score).toBeLessThanOrEqual(issues[i - 1]?.score as number)
  })

  it('refuses too few images per class for the folds, and mismatched shapes', async () => {
    await expect(
      outOfFoldProbabilities(new Float32Array(12), 2, [0, 0, 0, 1, 1, 1], 2, { folds: 5, seed: 1 })
    ).rejects.toThrow(/class #0 has 3 image\(s\) in train \+ validation, fewer than the 5 folds/)
    await expect(outOfFoldProbabilities(new Float32Array(5), 2, [0, 1], 2, { folds: 2, seed: 1 })).rejects.toThrow(
      /expected 2 rows of 2/
    )
    expect(() => findLabelIssues(new Float32Array(3), [0, 1], 2)).toThrow(/expected 2 rows of 2/)
  })

  it('thresholds are the mean self-confidence per class; the rule needs both conditions', () => {
    // Rows: [p0, p1], labels 0,0,1,1
    // (Values exact in binary, so the >= comparisons are not at the mercy of rounding.)
    const probs = Float32Array.from([0.875, 0.125, 0.25, 0.75, 0.25, 0.75, 0.5, 0.5])
    const labels = [0, 0, 1, 1]
    const t = classThresholds(probs, labels, 2)
    expect(t).toEqual([0.5625, 0.625])
    // Row 1: p0 0.25 < 0.5625 and p1 0.75 >= 0.625 -> candidate. Row 3: p1 0.5 < 0.625 but p0 0.5 < 0.5625 -> not.
    const issues = findLabelIssues(probs, labels, 2, { method: 'confident-joint' })
    expect(issues.map((i) => [i.index, i.suggested])).toEqual([[1, 1]])
    expect(issues[0]?.score).toBe(0.75)
  })
})

describe('near-duplicates and outliers', () => {
  it('finds altered copies, flags pairs across splits, and ignores distinct points', async () => {
    const { x } = clusters(2, 40, 32, 5, 1.0)
    const dim = 32
    const n = 80
    const rng = createRng(2)
    const withCopies = new Float32Array((n + 3) * dim)
    withCopies.set(x)
    // Copies of rows 3, 44, 70 with 2 % noise.
    ;[3, 44, 70].forEach((src, k) => {
      for (let d = 0; d < dim; d++)
        withCopies[(n + k) * dim + d] = (x[src * dim + d] as number) * (1 + 0.02 * (rng.next() - 0.5))
    })
    const splits = [...Array(n).fill('train'), 'validation', 'train', 'test'] as string[]
    const pairs = await findNearDuplicates(withCopies, dim, { threshold: 0.99, splits })
    expect(pairs.map((p) => [p.a, p.b, p.crossSplit])).toEqual(
      expect.arrayContaining([
        [3, 80, true],
        [44, 81, false],
        [70, 82, true]
      ])
    )
    expect(pairs).toHaveLength(3)
    await expect(findNearDuplicates(withCopies, dim, { threshold: 0 })).rejects.toThrow(
      /threshold: must be in \(0, 1\]/
    )
  })

  it('ranks a point unlike every class first', async () => {
    const { x, y } = clusters(2, 30, 16, 7, 0.3)
    const dim = 16
    const all = new Float32Array(x.length + dim)
    all.set(x)
    // Orthogonal-ish junk: alternating signs, far from both centres' directions.
    for (let d = 0; d < dim; d++) all[x.length + d] = d % 2 === 0 ? 5 : -5
    const labels = [...y, 0]
    const out = await scoreOutliers(all, dim, labels, 2, { k: 5 })
    expect(out[0]?.index).toBe(60)
    expect(out).toHaveLength(61)
    // Of the 61 scored, only the junk stands out; a tidy project without it has none.
    expect(standingOut(out).map((o) => o.index)).toEqual([60])
    const tidy = await scoreOutliers(x, dim, y, 2, { k: 5 })
    expect(standingOut(tidy).length).toBeLessThanOrEqual(1)
  })
})

describe('audit tables (real SQLite)', () => {
  const tmp = makeTempDir('tunelab-audit-')
  let store: ProjectStore
  afterAll(() => {
    store?.close()
    tmp.cleanup()
  })

  it('stores per-image probabilities and findings; "keep as is" hides a finding until the file changes', () => {
    store = ProjectStore.open(join(tmp.dir, 'tunelab.db'))
    const root = join(tmp.dir, 'pets')
    const projectId = store.upsertProject(root, 'flat')
    const scan = flatScan(root, ['cats', 'dogs'], 3)
    store.saveScan(projectId, scan)
    const ids = new Map(store.listImages(projectId).map((r) => [r.relPath, r.id]))
    const id = (p: string): number => ids.get(p) as number
    const auditId = saveAudit(store.db, {
      projectId,
      splitId: null,
      baseId: 'mobilenet_v2_0.35_96',
      weightsChecksum: null,
      folds: 2,
      classes: ['cats', 'dogs'],
      thresholds: [0.8, 0.7],
      timings: { total: 1 },
      predictions: [{ imageId: id('cats/cats-0.jpg'), fold: 0, given: 'cats', probabilities: [0.1, 0.9] }],
      findings: [
        { kind: 'label', imageId: id('cats/cats-0.jpg'), suggested: 'dogs', score: 0.9 },
        { kind: 'label', imageId: id('dogs/dogs-1.jpg'), suggested: 'cats', score: 0.6 },
        {
          kind: 'duplicate',
          imageId: id('cats/cats-1.jpg'),
          otherImageId: id('cats/cats-2.jpg'),
          score: 0.99,
          crossSplit: true
        },
        { kind: 'outlier', imageId: id('dogs/dogs-2.jpg'), score: 0.7 }
      ]
    })
    expect(latestAudit(store.db, projectId)?.id).toBe(auditId)
    expect(auditProbabilities(store.db, auditId).get(id('cats/cats-0.jpg'))).toEqual([0.1, 0.9])
    const labels = listFindings(store.db, auditId, 'label')
    expect(labels.map((f) => [f.rank, f.image.relPath, f.suggested])).toEqual([
      [1, 'cats/cats-0.jpg', 'dogs'],
      [2, 'dogs/dogs-1.jpg', 'cats']
    ])
    const dup = listFindings(store.db, auditId, 'duplicate')[0]
    expect([dup?.image.relPath, dup?.other?.relPath, dup?.crossSplit]).toEqual([
      'cats/cats-1.jpg',
      'cats/cats-2.jpg',
      true
    ])

    dismissFinding(store.db, projectId, 'label', id('cats/cats-0.jpg'))
    dismissFinding(store.db, projectId, 'duplicate', id('cats/cats-1.jpg'), id('cats/cats-2.jpg'))
    expect(listFindings(store.db, auditId, 'label').map((f) => f.image.relPath)).toEqual(['dogs/dogs-1.jpg'])
    expect(listFindings(store.db, auditId, 'duplicate')).toEqual([])
    expect(listFindings(store.db, auditId, 'label', { includeDismissed: true })).toHaveLength(2)

    // The file changes (new bytes, new hash): the finding is shown again.
    const changed = {
      ...scan,
      images: scan.images.map((im) => (im.path === 'cats/cats-0.jpg' ? { ...im, hash: 'new-hash', bytes: 999 } : im))
    }
    store.saveScan(projectId, changed)
    expect(listFindings(store.db, auditId, 'label').map((f) => f.image.relPath)).toEqual([
      'cats/cats-0.jpg',
      'dogs/dogs-1.jpg'
    ])
    expect(() => dismissFinding(store.db, projectId, 'outlier', 99_999)).toThrow(/image #99999 is not in this project/)
  })
})
