// The real scanner and splitter feeding the store, on a subset of cats_and_dogs_filtered copied to a temp folder.
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { scanProject } from '@core/project/scan'
import { assignSplits } from '@core/project/split'
import { openProjectState, type ProjectState } from '@core/store/projectState'
import { makeTempDir } from '@test/helpers/store'
import { SHARED_DATA } from '@test/helpers/sharedData'

const DATA = SHARED_DATA
const CATS_DOGS = join(DATA, 'cats_and_dogs_filtered')
const PER_FOLDER = 12

describe.skipIf(!existsSync(CATS_DOGS))(
  'store with real images (skipped: needs /work/shared/data/cats_and_dogs_filtered)',
  () => {
    const tmp = makeTempDir()
    const root = join(tmp.dir, 'cats_and_dogs')
    let state: ProjectState

    beforeAll(() => {
      for (const split of ['train', 'validation']) {
        for (const cls of ['cats', 'dogs']) {
          const from = join(CATS_DOGS, split, cls)
          mkdirSync(join(root, split, cls), { recursive: true })
          for (const name of readdirSync(from).sort().slice(0, PER_FOLDER))
            copyFileSync(join(from, name), join(root, split, cls, name))
        }
      }
      state = openProjectState(root, { dataDir: join(tmp.dir, 'userdata') })
    })
    afterAll(() => {
      state.store.close()
      tmp.cleanup()
    })

    it('stores a real scan and split, keeps image ids across a rescan, and serves predictions by id', async () => {
      const { store, project } = state
      const scan = await scanProject(root)
      expect(scan.images).toHaveLength(4 * PER_FOLDER)
      expect(store.saveScan(project.id, scan)).toEqual({ inserted: 4 * PER_FOLDER, updated: 0, missing: 0 })
      expect(store.getProject(project.id)?.layout).toBe('presplit')
      const stored = store.listImages(project.id)
      const first = stored[0]!
      expect(first.relPath).toMatch(/^train\/cats\/cat\.\d+\.jpg$/)
      expect(first.contentHash).toMatch(/^[0-9a-f]{64}$/)
      expect(first.width).toBeGreaterThan(0)
      expect(first.folderSplit).toBe('train')

      const strategy = { kind: 'folder' as const, testFromVal: 0.5, seed: 11 }
      const assignment = assignSplits(scan.images, strategy)
      store.saveSplit(project.id, strategy, assignment)
      expect(store.getSplit(project.id)?.assignment).toEqual(
        new Map([...assignment].sort(([a], [b]) => (a < b ? -1 : 1)))
      )
      expect(store.listImages(project.id, { split: 'test' })).toHaveLength(PER_FOLDER)

      const run = store.createRun({ projectId: project.id, config: { recipe: 'A' }, classes: ['cats', 'dogs'] })
      const test = store.listImages(project.id, { split: 'test' })
      store.savePredictions(
        run.id,
        test.map((img, i) => ({
          imageId: img.id,
          split: 'test' as const,
          trueClass: img.className!,
          predictedClass: i % 3 === 0 ? 'dogs' : 'cats',
          probabilities: i % 3 === 0 ? [0.2, 0.8] : [0.9, 0.1]
        }))
      )

      // A file disappears and the folder is scanned again: the others keep their ids, predictions still join.
      const gone = test[0]!
      rmSync(join(root, gone.relPath))
      const rescan = await scanProject(root)
      expect(store.saveScan(project.id, rescan)).toEqual({ inserted: 0, updated: 4 * PER_FOLDER - 1, missing: 1 })
      for (const img of store.listImages(project.id))
        expect(img.id).toBe(stored.find((s) => s.relPath === img.relPath)?.id)
      const predictions = store.getPredictions(run.id)
      expect(predictions).toHaveLength(test.length)
      // test[0] is a cat predicted 'dogs' (i = 0): it stays in the gallery, flagged as gone from disk.
      expect(gone.className).toBe('cats')
      const wrong = store.confidentlyWrong(run.id, 'test', 'cats', 10).find((g) => g.imageId === gone.id)
      expect(wrong).toMatchObject({ relPath: gone.relPath, present: false, predictedClass: 'dogs' })
      expect(store.integrityCheck()).toEqual(['ok'])
    })
  }
)
