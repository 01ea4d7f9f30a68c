// Label overrides in a real SQLite file: relabel / exclude / undo / clear round trips, and overrides that
// survive a rescan and a rename (matched by content hash).
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ProjectStore } from '@core/store/projectStore'
import { LabelOverrideStore } from '@core/store/labelOverrides'
import { labelState } from '@core/labels/projectLabels'
import { classCountsAfter, withOverrides } from '@core/labels/effective'
import { flatScan, image, makeTempDir } from '@test/helpers/store'

describe('label overrides store', () => {
  let tmp: ReturnType<typeof makeTempDir>
  let store: ProjectStore
  let labels: LabelOverrideStore
  let projectId: number
  const root = '/data/pets'
  const classes = ['cat', 'dog']
  const id = (path: string): number => store.getImageByPath(projectId, path)!.id

  beforeEach(() => {
    tmp = makeTempDir()
    store = ProjectStore.open(join(tmp.dir, 'tunelab.db'))
    labels = new LabelOverrideStore(store.db)
    projectId = store.upsertProject(root)
    store.saveScan(projectId, flatScan(root, classes, 3))
  })
  afterEach(() => {
    store.close()
    tmp.cleanup()
  })

  it('relabels and excludes as undoable actions, stored at once', () => {
    const a = labels.set(projectId, [id('cat/cat-0.jpg')], { kind: 'relabel', to: 'dog' }, classes, 'a dog, clearly')
    const b = labels.set(projectId, [id('dog/dog-1.jpg'), id('dog/dog-2.jpg')], { kind: 'exclude' }, classes)
    expect(b.actionId).toBeGreaterThan(a.actionId)
    // A second connection sees the rows: they are committed.
    const other = ProjectStore.open(join(tmp.dir, 'tunelab.db'))
    const seen = new LabelOverrideStore(other.db).list(projectId)
    other.close()
    expect(seen.map((o) => [o.relPath, o.originalClass, o.newClass, o.excluded, o.note])).toEqual([
      ['cat/cat-0.jpg', 'cat', 'dog', false, 'a dog, clearly'],
      ['dog/dog-1.jpg', 'dog', null, true, null],
      ['dog/dog-2.jpg', 'dog', null, true, null]
    ])
    const state = labelState(store, projectId)
    expect(state.counts).toEqual({ relabelled: 1, excluded: 2 })
    expect(state.undoable).toMatchObject({ actionId: b.actionId, kind: 'exclude', images: 2 })
    expect(state.overrides.every((o) => o.imageId !== null)).toBe(true)

    // Relabel the relabelled one again: the original class stays the folder's.
    labels.set(projectId, [id('cat/cat-0.jpg')], { kind: 'exclude' }, classes)
    expect(labels.list(projectId).find((o) => o.relPath === 'cat/cat-0.jpg')).toMatchObject({
      originalClass: 'cat',
      excluded: true,
      newClass: null
    })

    // Undo the latest: the relabel it replaced comes back. Then undo the exclusion of the two dogs.
    labels.undo(projectId)
    expect(labels.list(projectId).find((o) => o.relPath === 'cat/cat-0.jpg')).toMatchObject({
      newClass: 'dog',
      excluded: false,
      note: 'a dog, clearly'
    })
    labels.undo(projectId)
    expect(labels.list(projectId).map((o) => o.relPath)).toEqual(['cat/cat-0.jpg'])
    labels.undo(projectId)
    expect(labels.list(projectId)).toEqual([])
    expect(labels.undo(projectId)).toBeNull()
    expect(() => labels.undo(projectId, a.actionId)).toThrow(/already undone/)
  })

  it('moving an image back to its folder class removes its override', () => {
    labels.set(projectId, [id('cat/cat-1.jpg')], { kind: 'relabel', to: 'dog' }, classes)
    labels.set(projectId, [id('cat/cat-1.jpg')], { kind: 'relabel', to: 'cat' }, classes)
    expect(labels.list(projectId)).toEqual([])
  })

  it('clear all removes everything and is itself undoable', () => {
    labels.set(projectId, [id('cat/cat-0.jpg'), id('cat/cat-1.jpg')], { kind: 'relabel', to: 'dog' }, classes)
    labels.set(projectId, [id('dog/dog-0.jpg')], { kind: 'exclude' }, classes)
    expect(labels.clear(projectId).cleared).toBe(3)
    expect(labels.list(projectId)).toEqual([])
    labels.undo(projectId)
    expect(labels.list(projectId)).toHaveLength(3)
  })

  it('refuses unknown classes, foreign or missing images, and changes nothing then', () => {
    expect(() => labels.set(projectId, [id('cat/cat-0.jpg')], { kind: 'relabel', to: 'bird' }, classes)).toThrow(
      /'bird' is not a class of this project \(classes: cat, dog\)/
    )
    expect(() => labels.set(projectId, [id('cat/cat-0.jpg'), 999], { kind: 'exclude' }, classes)).toThrow(
      /999 \(not in this project\)/
    )
    const rescan = flatScan(root, classes, 3)
    rescan.images = rescan.images.filter((i) => i.path !== 'cat/cat-2.jpg')
    const gone = id('cat/cat-2.jpg')
    store.saveScan(projectId, rescan)
    expect(() => labels.set(projectId, [gone], { kind: 'exclude' }, classes)).toThrow(
      /cat\/cat-2.jpg \(no longer on disk/
    )
    expect(labels.list(projectId)).toEqual([])
    expect(labels.actions(projectId)).toEqual([])
  })

  it('survives a rescan, and follows a renamed (or moved) file by its content hash', () => {
    labels.set(projectId, [id('cat/cat-0.jpg')], { kind: 'relabel', to: 'dog' }, classes)
    labels.set(projectId, [id('dog/dog-2.jpg')], { kind: 'exclude' }, classes)
    store.saveScan(projectId, flatScan(root, classes, 3)) // plain rescan: same paths, same content
    expect(labelState(store, projectId).counts).toEqual({ relabelled: 1, excluded: 1 })

    // Rename cat-0.jpg to cat/renamed.jpg (same bytes, so same hash) and dog-2 into another folder.
    const renamed = flatScan(root, classes, 3)
    renamed.images = renamed.images.map((i) =>
      i.path === 'cat/cat-0.jpg'
        ? image('cat/renamed.jpg', 'cat', null, i.hash)
        : i.path === 'dog/dog-2.jpg'
          ? image('dog/sub/x.jpg', 'dog', null, i.hash)
          : i
    )
    store.saveScan(projectId, renamed)
    const state = labelState(store, projectId)
    expect(state.overrides.map((o) => [o.relPath, o.imageId])).toEqual([
      ['cat/renamed.jpg', id('cat/renamed.jpg')],
      ['dog/sub/x.jpg', id('dog/sub/x.jpg')]
    ])
    expect(state.counts).toEqual({ relabelled: 1, excluded: 1 })

    // Same path, different content: a different image, the override no longer applies to it.
    const changed = flatScan(root, classes, 3)
    changed.images = changed.images.map((i) =>
      i.path === 'cat/cat-0.jpg'
        ? image('cat/renamed.jpg', 'cat', null, 'new-bytes')
        : i.path === 'dog/dog-2.jpg'
          ? image('dog/sub/x.jpg', 'dog', null, i.hash)
          : i
    )
    store.saveScan(projectId, changed)
    const after = labelState(store, projectId)
    expect(after.overrides.find((o) => o.relPath === 'cat/renamed.jpg')?.imageId).toBeNull()
    expect(after.counts).toEqual({ relabelled: 0, excluded: 1 })
  })

  it('training sees relabelled images with their new class and no excluded ones; counts follow', () => {
    labels.set(projectId, [id('cat/cat-0.jpg')], { kind: 'relabel', to: 'dog' }, classes)
    labels.set(projectId, [id('dog/dog-2.jpg')], { kind: 'exclude' }, classes)
    const scan = flatScan(root, classes, 3)
    const eff = withOverrides(scan.images, labels.resolve(projectId).byImage.values())
    expect(eff.counts).toEqual({ relabelled: 1, excluded: 1 })
    expect(eff.images.find((i) => i.path === 'cat/cat-0.jpg')?.className).toBe('dog')
    expect(eff.images.some((i) => i.path === 'dog/dog-2.jpg')).toBe(false)
    expect(classCountsAfter(scan.classes, eff.images)).toEqual([
      { name: 'cat', counts: { all: 2 }, total: 2 },
      { name: 'dog', counts: { all: 3 }, total: 3 }
    ])
  })

  it('records the overrides a run used, unchanged by later edits', () => {
    labels.set(projectId, [id('cat/cat-0.jpg')], { kind: 'relabel', to: 'dog' }, classes)
    const run = store.createRun({ projectId, config: {}, classes })
    labels.recordRun(run.id, labels.list(projectId))
    labels.clear(projectId)
    expect(labels.forRun(run.id)).toEqual([
      {
        relPath: 'cat/cat-0.jpg',
        contentHash: 'h-cat/cat-0.jpg',
        originalClass: 'cat',
        newClass: 'dog',
        excluded: false
      }
    ])
  })
})
