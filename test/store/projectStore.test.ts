import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { SplitName, SplitStrategy } from '@shared/domain'
import { ProjectStore } from '@core/store/projectStore'
import { flatScan, image, makeTempDir } from '@test/helpers/store'

describe('ProjectStore', () => {
  let tmp: ReturnType<typeof makeTempDir>
  let store: ProjectStore
  let root: string
  beforeEach(() => {
    tmp = makeTempDir()
    root = join(tmp.dir, 'pets')
    store = ProjectStore.open(join(tmp.dir, 'tunelab.db'))
  })
  afterEach(() => {
    store.close()
    tmp.cleanup()
  })

  it('upsertProject creates once per absolute root and keeps the layout unless given', () => {
    const id = store.upsertProject(root)
    const a = store.getProject(id)!
    expect(a).toMatchObject({ id, root, layout: null, lastScannedAt: null, scanSummary: null })
    expect(store.upsertProject(join(root, '..', 'pets'), 'presplit')).toBe(id)
    expect(store.getProject(id)?.layout).toBe('presplit')
    expect(store.upsertProject(root)).toBe(id)
    expect(store.getProject(id)?.layout).toBe('presplit')
    expect(store.findProject(root)?.id).toBe(id)
    expect(store.findProject(join(tmp.dir, 'other'))).toBeNull()
    expect(store.getProject(9999)).toBeNull()
  })

  it('saveScan stores images and unreadable files, keeps ids across rescans and marks vanished files', () => {
    const project = store.getProject(store.upsertProject(root))!
    const first = store.saveScan(project.id, flatScan(root, ['cat', 'dog'], 3, ['dog/broken.bmp']))
    expect(first).toEqual({ inserted: 7, updated: 0, missing: 0 })
    const stored = store.getProject(project.id)
    expect(stored?.layout).toBe('flat')
    expect(stored?.lastScannedAt).not.toBeNull()
    expect(stored?.scanSummary).toMatchObject({
      images: 6,
      unreadable: 1,
      classes: [
        { name: 'cat', total: 3 },
        { name: 'dog', total: 3 }
      ]
    })

    const listed = store.listImages(project.id)
    expect(listed.map((i) => i.relPath)).toEqual([
      'cat/cat-0.jpg',
      'cat/cat-1.jpg',
      'cat/cat-2.jpg',
      'dog/dog-0.jpg',
      'dog/dog-1.jpg',
      'dog/dog-2.jpg'
    ])
    expect(listed[0]).toMatchObject({
      className: 'cat',
      width: 64,
      height: 48,
      bytes: 1234,
      readable: true,
      present: true,
      split: null
    })
    const broken = store.getImageByPath(project.id, 'dog/broken.bmp')
    expect(broken).toMatchObject({ readable: false, error: 'unsupported format', className: 'dog', contentHash: null })
    expect(store.listImages(project.id, { includeUnreadable: true })).toHaveLength(7)
    expect(store.listImages(project.id, { className: 'dog' })).toHaveLength(3)

    const idOf = new Map(listed.map((i) => [i.relPath, i.id]))
    // Rescan: cat-2 gone, a new cat-9, dog-0 changed content.
    const rescan = flatScan(root, ['cat', 'dog'], 3)
    rescan.images = rescan.images.filter((i) => i.path !== 'cat/cat-2.jpg')
    rescan.images.push(image('cat/cat-9.jpg', 'cat'))
    const dog0 = rescan.images.find((i) => i.path === 'dog/dog-0.jpg')!
    dog0.hash = 'changed'
    const second = store.saveScan(project.id, rescan)
    expect(second).toEqual({ inserted: 1, updated: 5, missing: 2 }) // cat-2 and the unreadable bmp
    const after = store.listImages(project.id)
    for (const img of after) {
      if (idOf.has(img.relPath)) expect(img.id).toBe(idOf.get(img.relPath))
    }
    expect(store.getImage(idOf.get('dog/dog-0.jpg')!)?.contentHash).toBe('changed')
    expect(after.map((i) => i.relPath)).not.toContain('cat/cat-2.jpg')
    const gone = store.getImage(idOf.get('cat/cat-2.jpg')!)
    expect(gone).toMatchObject({ present: false, relPath: 'cat/cat-2.jpg' })
    expect(store.listImages(project.id, { includeMissing: true })).toHaveLength(7)
    // The file comes back: same id again.
    const third = store.saveScan(project.id, flatScan(root, ['cat', 'dog'], 3))
    expect(third.inserted).toBe(0)
    expect(store.getImageByPath(project.id, 'cat/cat-2.jpg')).toMatchObject({
      id: idOf.get('cat/cat-2.jpg'),
      present: true
    })
    expect(store.getImage(123456)).toBeNull()
  })

  it('saveScan rejects duplicate paths and unknown projects without writing', () => {
    const project = store.getProject(store.upsertProject(root))!
    const scan = flatScan(root, ['cat', 'dog'], 2)
    scan.images.push(image('cat/cat-0.jpg', 'cat'))
    expect(() => store.saveScan(project.id, scan)).toThrow(/lists these paths twice: cat\/cat-0\.jpg/)
    expect(store.listImages(project.id)).toHaveLength(0)
    expect(() => store.saveScan(777, flatScan(root, ['a', 'b'], 1))).toThrow(/No project with id 777/)
  })

  it('saveSplit / getSplit store the strategy and the assignment, and keep older splits', () => {
    const project = store.getProject(store.upsertProject(root))!
    expect(store.getSplit(project.id)).toBeNull()
    store.saveScan(project.id, flatScan(root, ['cat', 'dog'], 4))
    const paths = store.listImages(project.id).map((i) => i.relPath)
    const order: SplitName[] = ['train', 'train', 'validation', 'test']
    const assignment = new Map(paths.map((p, i) => [p, order[i % 4]!]))
    const strategy: SplitStrategy = { kind: 'ratios', ratios: [0.5, 0.25, 0.25], seed: 42 }
    const first = store.saveSplit(project.id, strategy, assignment)
    expect(first.strategy).toEqual(strategy)
    expect(first.seed).toBe(42)
    expect(first.assignment).toEqual(assignment)
    expect(store.getSplit(project.id)?.id).toBe(first.id)
    expect(store.listImages(project.id, { split: 'train' })).toHaveLength(4)
    expect(store.listImages(project.id, { split: 'test', className: 'dog' }).map((i) => i.relPath)).toEqual([
      'dog/dog-3.jpg'
    ])

    const all = new Map(paths.map((p) => [p, 'train' as SplitName]))
    const second = store.saveSplit(project.id, { ...strategy, seed: 7 }, all)
    expect(store.getSplit(project.id)?.seed).toBe(7)
    expect(store.listImages(project.id, { split: 'train' })).toHaveLength(8)
    // The older split is still there, whole.
    expect(store.getSplit(project.id, first.id)?.assignment).toEqual(assignment)
    expect(second.id).toBeGreaterThan(first.id)

    const bad = new Map([['cat/nope.jpg', 'train' as SplitName]])
    expect(() => store.saveSplit(project.id, strategy, bad)).toThrow(/not readable images of project .*cat\/nope\.jpg/)
    expect(() => store.saveSplit(project.id, strategy, new Map([[paths[0]!, 'training' as SplitName]]))).toThrow(
      /unknown split 'training'/
    )
    expect(store.getSplit(project.id)?.id).toBe(second.id)
  })

  it('runs: create, start, epochs, finish, list with best validation accuracy, analyses', () => {
    const project = store.getProject(store.upsertProject(root))!
    store.saveScan(project.id, flatScan(root, ['cat', 'dog'], 2))
    const split = store.saveSplit(project.id, { kind: 'ratios', ratios: [0.5, 0.5, 0], seed: 1 }, new Map())
    const config = { base: 'mobilenet_v1_0.25_224', epochs: [2, 1], lr: 1e-4, augment: { horizontalFlip: true } }
    const run = store.createRun({
      projectId: project.id,
      config,
      classes: ['cat', 'dog'],
      splitId: split.id,
      baseId: 'mobilenet_v1_0.25_224',
      weightsSource: '/weights/m.h5',
      weightsChecksum: 'abc',
      seed: 3
    })
    expect(run).toMatchObject({
      status: 'running',
      config,
      classes: ['cat', 'dog'],
      splitId: split.id,
      startedAt: null,
      seed: 3
    })
    expect(run.owner?.pid).toBe(process.pid)

    store.markRunStarted(run.id, { backend: 'wasm', notes: { simd: true, tried: ['tensorflow: not installed'] } })
    const started = store.getRun(run.id)!
    expect(started.startedAt).not.toBeNull()
    expect(started.backend).toBe('wasm')
    expect(started.backendNotes).toEqual({ simd: true, tried: ['tensorflow: not installed'] })

    store.appendEpoch(run.id, {
      phase: 1,
      epoch: 1,
      loss: 0.6,
      accuracy: 0.7,
      valLoss: 0.5,
      valAccuracy: 0.8,
      lr: 1e-4,
      seconds: 2,
      imagesPerSec: 50
    })
    store.appendEpoch(run.id, { phase: 1, epoch: 2, loss: 0.4, accuracy: 0.85, valLoss: 0.3, valAccuracy: 0.9 })
    store.appendEpoch(run.id, { phase: 2, epoch: 3, loss: Number.NaN, valAccuracy: 0.9 })
    expect(() => store.appendEpoch(run.id, { phase: 2, epoch: 3, loss: 0.1 })).toThrow(/already has epoch 3/)
    expect(() => store.appendEpoch(run.id, { phase: 3 as 1, epoch: 4, loss: 0.1 })).toThrow(/phase must be 1 or 2/)
    const epochs = store.getEpochs(run.id)
    expect(epochs.map((e) => [e.phase, e.epoch])).toEqual([
      [1, 1],
      [1, 2],
      [2, 3]
    ])
    expect(epochs[0]).toEqual({
      runId: run.id,
      phase: 1,
      epoch: 1,
      loss: 0.6,
      accuracy: 0.7,
      valLoss: 0.5,
      valAccuracy: 0.8,
      lr: 1e-4,
      seconds: 2,
      imagesPerSec: 50
    })
    expect(epochs[2]?.loss).toBeNull()

    const other = store.createRun({ projectId: project.id, config: {}, classes: ['cat', 'dog'] })
    const listed = store.listRuns(project.id)
    expect(listed.map((r) => r.id)).toEqual([other.id, run.id])
    expect(listed[1]).toMatchObject({ epochs: 3, bestValAccuracy: 0.9, bestEpoch: 2 })
    expect(listed[0]).toMatchObject({ epochs: 0, bestValAccuracy: null, bestEpoch: null })

    const done = store.finishRun(run.id, 'completed', { metrics: { testAccuracy: 0.95 }, timings: { total: 12.5 } })
    expect(done).toMatchObject({
      status: 'completed',
      metrics: { testAccuracy: 0.95 },
      timings: { total: 12.5 },
      error: null
    })
    expect(done.endedAt).not.toBeNull()
    expect(() => store.finishRun(run.id, 'failed')).toThrow(/already ended as completed/)
    expect(() => store.appendEpoch(run.id, { phase: 2, epoch: 4, loss: 0.1 })).toThrow(
      /run \d+ is completed, not running/
    )
    const failed = store.finishRun(other.id, 'failed', { error: 'out of memory' })
    expect(failed).toMatchObject({ status: 'failed', error: 'out of memory' })

    const a1 = store.saveAnalysis(run.id, 'threshold', { threshold: 0.75, unsure: 3 })
    const a2 = store.saveAnalysis(run.id, 'threshold', { threshold: 0.8, unsure: 5 })
    store.saveAnalysis(run.id, 'calibration', [0.1, 0.2])
    expect(store.getAnalysis(run.id, 'threshold')).toEqual(a2)
    expect(store.listAnalyses(run.id).map((a) => a.id)).toEqual([a1.id, a2.id, a2.id + 1])
    expect(store.getAnalysis(run.id, 'none')).toBeNull()
    expect(store.getRun(424242)).toBeNull()
  })

  it('heartbeat moves forward, and a second connection reads epochs as soon as they are committed', async () => {
    const project = store.getProject(store.upsertProject(root))!
    const run = store.createRun({ projectId: project.id, config: {}, classes: ['a', 'b'] })
    const before = store.getRun(run.id)!.heartbeatAt!
    await new Promise((r) => setTimeout(r, 5))
    store.heartbeat(run.id)
    expect(Date.parse(store.getRun(run.id)!.heartbeatAt!)).toBeGreaterThan(Date.parse(before))
    store.markRunStarted(run.id)
    expect(store.getRun(run.id)).toMatchObject({ backend: null, status: 'running' })

    const reader = ProjectStore.open(store.dbPath)
    try {
      expect(reader.recovered).toEqual([]) // same process owns the run: not interrupted
      expect(reader.getEpochs(run.id)).toEqual([])
      store.appendEpoch(run.id, { phase: 1, epoch: 1, loss: 0.3 })
      expect(reader.getEpochs(run.id).map((e) => e.loss)).toEqual([0.3])
    } finally {
      reader.close()
    }
  })

  it('createRun validates classes, split and project', () => {
    const project = store.getProject(store.upsertProject(root))!
    expect(() => store.createRun({ projectId: project.id, config: {}, classes: ['only'] })).toThrow(
      /at least 2 classes/
    )
    expect(() => store.createRun({ projectId: project.id, config: {}, classes: ['a', 'a'] })).toThrow(/must be unique/)
    expect(() => store.createRun({ projectId: project.id, config: {}, classes: ['a', 'b'], splitId: 99 })).toThrow(
      /split 99 does not belong/
    )
    expect(() => store.createRun({ projectId: 55, config: {}, classes: ['a', 'b'] })).toThrow(/No project with id 55/)
  })

  it('savePredictions validates rows, derives confidence and margin, replaces per image, and is all-or-nothing', () => {
    const project = store.getProject(store.upsertProject(root))!
    store.saveScan(project.id, flatScan(root, ['cat', 'dog', 'fox'], 1))
    const [cat, dog, fox] = store.listImages(project.id)
    const run = store.createRun({ projectId: project.id, config: {}, classes: ['cat', 'dog', 'fox'] })
    expect(
      store.savePredictions(run.id, [
        {
          imageId: cat!.id,
          split: 'test',
          trueClass: 'cat',
          predictedClass: 'cat',
          probabilities: [0.7, 0.2, 0.1],
          loss: 0.36
        },
        { imageId: dog!.id, split: 'test', trueClass: 'dog', predictedClass: 'fox', probabilities: [0.1, 0.4, 0.5] }
      ])
    ).toBe(2)
    const rows = store.getPredictions(run.id)
    expect(rows).toHaveLength(2)
    expect(rows[0]).toMatchObject({
      imageId: cat!.id,
      confidence: 0.7,
      correct: true,
      loss: 0.36,
      probabilities: [0.7, 0.2, 0.1]
    })
    expect(rows[0]!.margin).toBeCloseTo(0.5, 12)
    expect(rows[1]).toMatchObject({ predictedClass: 'fox', confidence: 0.5, correct: false, loss: null })
    expect(rows[1]!.margin).toBeCloseTo(0.1, 12)
    expect(store.getPredictions(run.id, { className: 'dog' })).toHaveLength(1)
    expect(store.getPredictions(run.id, { split: 'validation' })).toHaveLength(0)

    // Re-evaluation replaces the row of the same image.
    store.savePredictions(run.id, [
      { imageId: dog!.id, split: 'test', trueClass: 'dog', predictedClass: 'dog', probabilities: [0, 1, 0] }
    ])
    expect(store.getPredictions(run.id, { className: 'dog' })[0]).toMatchObject({
      correct: true,
      confidence: 1,
      margin: 1
    })

    const good = {
      imageId: fox!.id,
      split: 'test' as const,
      trueClass: 'fox',
      predictedClass: 'fox',
      probabilities: [0, 0, 1]
    }
    expect(() => store.savePredictions(run.id, [good, { ...good, probabilities: [0.5, 0.5] }])).toThrow(
      /2 probabilities for 3 classes/
    )
    expect(() => store.savePredictions(run.id, [good, { ...good, predictedClass: 'wolf' }])).toThrow(
      /predicted class 'wolf'/
    )
    expect(() => store.savePredictions(run.id, [good, { ...good, trueClass: 'wolf' }])).toThrow(/true class 'wolf'/)
    expect(() => store.savePredictions(run.id, [good, { ...good, probabilities: [0, Number.NaN, 1] }])).toThrow(
      /finite numbers in \[0, 1\]/
    )
    expect(() => store.savePredictions(run.id, [good, { ...good, imageId: 99999 }])).toThrow(
      /image ids not in project \d+: 99999/
    )
    expect(store.getPredictions(run.id, { className: 'fox' })).toHaveLength(0)
  })

  it('deleting a run cascades to its epochs, predictions and analyses but not to images or other runs', () => {
    const project = store.getProject(store.upsertProject(root))!
    store.saveScan(project.id, flatScan(root, ['cat', 'dog'], 2))
    const images = store.listImages(project.id)
    const make = () => {
      const run = store.createRun({ projectId: project.id, config: {}, classes: ['cat', 'dog'] })
      store.appendEpoch(run.id, { phase: 1, epoch: 1, loss: 0.5 })
      store.savePredictions(
        run.id,
        images.map((i) => ({
          imageId: i.id,
          split: 'test' as const,
          trueClass: i.className!,
          predictedClass: 'cat',
          probabilities: [0.6, 0.4]
        }))
      )
      store.saveAnalysis(run.id, 'summary', { ok: true })
      return run
    }
    const doomed = make()
    const kept = make()
    const count = (table: string) => (store.db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n
    expect([count('epochs'), count('predictions'), count('analyses')]).toEqual([2, 8, 2])
    expect(store.deleteRun(doomed.id)).toBe(true)
    expect(store.deleteRun(doomed.id)).toBe(false)
    expect([count('epochs'), count('predictions'), count('analyses'), count('images')]).toEqual([1, 4, 1, 4])
    expect(store.getEpochs(kept.id)).toHaveLength(1)
    expect(store.getPredictions(kept.id)).toHaveLength(4)
    expect(store.integrityCheck()).toEqual(['ok'])
    expect(store.db.pragma('foreign_key_check')).toEqual([])
  })
})
