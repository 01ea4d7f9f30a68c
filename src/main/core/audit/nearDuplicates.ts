// Near-duplicate pairs: cosine similarity of the frozen base's pooled features above a threshold. Re-encoded,
// resized or slightly cropped copies keep almost the same features; a pair in two splits is leakage.
import { forEachSimilarityBlock, type SimilarityConsumer } from './similarity'

/**
 * Measured on cats_and_dogs_filtered with MobileNetV2 0.35 features: copies cropped by 4 % a side keep about 0.91
 * (re-encoded ~0.99, resized to 70 % ~0.96-0.99), while of its ~4.5 million distinct pairs only one, a real
 * duplicate (dog.74 / dog.180), is above 0.90. See test/audit/realData.test.ts.
 */
export const DEFAULT_DUPLICATE_THRESHOLD = 0.9

export interface DuplicatePair {
  /** Row indices, a < b. */
  a: number
  b: number
  similarity: number
  /** The two images are in different splits (an evaluation image the model has in effect seen). */
  crossSplit: boolean
}

export interface NearDuplicateOptions {
  threshold?: number
  /** Split of each row; pairs across splits are flagged. */
  splits?: readonly string[]
  signal?: AbortSignal
}

/** Collects pairs with similarity >= threshold from similarity blocks (see forEachSimilarityBlock). */
export function duplicateCollector(
  n: number,
  opts: Omit<NearDuplicateOptions, 'signal'> = {}
): SimilarityConsumer<DuplicatePair[]> {
  const threshold = opts.threshold ?? DEFAULT_DUPLICATE_THRESHOLD
  if (!(threshold > 0 && threshold <= 1)) throw new Error(`threshold: must be in (0, 1], got ${threshold}`)
  const pairs: DuplicatePair[] = []
  return {
    add(start, rows, sims) {
      for (let r = 0; r < rows; r++) {
        const a = start + r
        for (let b = a + 1; b < n; b++) {
          const s = sims[r * n + b] as number
          if (s < threshold) continue
          pairs.push({
            a,
            b,
            similarity: Math.min(1, s),
            crossSplit: opts.splits ? opts.splits[a] !== opts.splits[b] : false
          })
        }
      }
    },
    result: () => pairs.sort((x, y) => y.similarity - x.similarity || x.a - y.a || x.b - y.b)
  }
}

/** Pairs with similarity >= threshold, most similar first. */
export async function findNearDuplicates(
  features: Float32Array,
  dim: number,
  opts: NearDuplicateOptions = {}
): Promise<DuplicatePair[]> {
  const collector = duplicateCollector(features.length / dim, opts)
  await forEachSimilarityBlock(features, dim, collector.add, { signal: opts.signal })
  return collector.result()
}
