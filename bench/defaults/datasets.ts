// The data sets of `npm run bench:defaults`: hymenoptera_data as it is, and seeded subsets of cats_and_dogs_filtered
// (N training images per class; one fixed validation/test partition of its validation folder for every N).
import { copyFileSync, existsSync, mkdirSync, readdirSync, symlinkSync } from 'node:fs'
import { join } from 'node:path'
import { createRng } from '../../src/main/core/util/rng'

export interface BenchDataset {
  /** Row name in the table and the JSON. */
  name: string
  root: string
  /** Training images (all classes). */
  images: number
}

const CLASSES = ['cats', 'dogs'] as const
const IMAGE = /\.(jpe?g|png)$/i

function listImages(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => IMAGE.test(f))
    .sort()
}

function seededShuffle<T>(items: readonly T[], seed: number): T[] {
  return createRng(seed).shuffle(items.slice())
}

function copyAll(files: readonly string[], from: string, to: string): void {
  mkdirSync(to, { recursive: true })
  for (const f of files) copyFileSync(join(from, f), join(to, f))
}

/**
 * Builds <work>/cats_dogs_<n> for every n: train/{cats,dogs} holds the first n of a seeded shuffle of the original
 * train folder (so smaller subsets are nested in larger ones), validation/ and test/ are the two seeded halves of
 * the original validation folder, the same for every n. The files are copied (the scan does not have to follow
 * links out of the folder). Every subset's .tunelab/cache is one shared folder, so an image's features are
 * computed once for all subsets.
 */
export function catsDogsSubsets(source: string, work: string, perClass: readonly number[], seed = 1): BenchDataset[] {
  const sharedCache = join(work, 'shared-cache')
  mkdirSync(sharedCache, { recursive: true })
  const order = Object.fromEntries(CLASSES.map((c) => [c, seededShuffle(listImages(join(source, 'train', c)), seed)]))
  const val = Object.fromEntries(
    CLASSES.map((c) => [c, seededShuffle(listImages(join(source, 'validation', c)), seed + 1)])
  )
  return perClass.map((n) => {
    const root = join(work, `cats_dogs_${n}`)
    if (!existsSync(root)) {
      for (const c of CLASSES) {
        const train = order[c] ?? []
        if (train.length < n) throw new Error(`${source}/train/${c}: ${train.length} images, fewer than ${n}`)
        copyAll(train.slice(0, n), join(source, 'train', c), join(root, 'train', c))
        const v = val[c] ?? []
        const half = Math.floor(v.length / 2)
        copyAll(v.slice(0, half), join(source, 'validation', c), join(root, 'validation', c))
        copyAll(v.slice(half), join(source, 'validation', c), join(root, 'test', c))
      }
      mkdirSync(join(root, '.tunelab'), { recursive: true })
      symlinkSync(sharedCache, join(root, '.tunelab', 'cache'), 'dir')
    }
    return { name: 'cats_and_dogs_filtered', root, images: n * CLASSES.length }
  })
}

/** hymenoptera_data in place (read-only: its state goes to TUNELAB_DATA_DIR). */
export function hymenoptera(root: string): BenchDataset {
  const images = ['ants', 'bees'].reduce((a, c) => a + listImages(join(root, 'train', c)).length, 0)
  return { name: 'hymenoptera_data', root, images }
}
