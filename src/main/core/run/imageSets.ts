// Builds the training engine's ImageSets (labels + a pixel loader) from a scanned project and its split.
import { join } from 'node:path'
import type { ResizeMode, ScannedImage, SplitName } from '@shared/domain'
import type { ImageCache } from '../pipeline/imageCache'
import type { ImageSet } from '../training/types'

export interface SplitImages {
  images: ScannedImage[]
  set: ImageSet
}

/** Images of one split in path order, with class indices into `classes`. */
export function imageSetFor(
  root: string,
  images: readonly ScannedImage[],
  assignment: ReadonlyMap<string, SplitName>,
  split: SplitName,
  classes: readonly string[],
  cache: ImageCache,
  size: number,
  mode: ResizeMode
): SplitImages {
  const chosen = images.filter((im) => assignment.get(im.path) === split).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
  const classIndex = new Map(classes.map((c, i) => [c, i]))
  const labels = chosen.map((im) => {
    const y = classIndex.get(im.className)
    if (y === undefined) throw new Error(`image ${im.path}: class '${im.className}' is not one of the run's classes`)
    return y
  })
  const items = chosen.map((im) => ({ absPath: join(root, im.path), hash: im.hash }))
  return {
    images: chosen,
    set: {
      keys: chosen.map((im) => im.hash),
      labels,
      load: (indices) =>
        cache.loadBatch(
          indices.map((i) => {
            const it = items[i]
            if (!it) throw new RangeError(`${split}: image index ${i} out of range 0..${items.length - 1}`)
            return it
          }),
          size,
          mode,
          { concurrency: 16 }
        )
    }
  }
}
