// Cosine similarities of feature rows, one block of rows at a time (the full n x n matrix is never held).
import * as tf from '@tensorflow/tfjs'

/** Rows scaled to unit length (a zero row stays zero). */
export function unitRows(features: Float32Array, dim: number): Float32Array {
  const out = new Float32Array(features.length)
  for (let r = 0; r * dim < features.length; r++) {
    let ss = 0
    for (let c = 0; c < dim; c++) ss += (features[r * dim + c] as number) ** 2
    const inv = ss > 0 ? 1 / Math.sqrt(ss) : 0
    for (let c = 0; c < dim; c++) out[r * dim + c] = (features[r * dim + c] as number) * inv
  }
  return out
}

/** Takes the similarity blocks of one pass and gives a result at the end. */
export interface SimilarityConsumer<T> {
  add(start: number, rows: number, sims: Float32Array): void
  result(): T
}

/**
 * Calls `onBlock(start, rows, sims)` for consecutive blocks of rows: sims[r * n + j] is the cosine similarity of
 * row start + r with row j (every row, itself included).
 */
export async function forEachSimilarityBlock(
  features: Float32Array,
  dim: number,
  onBlock: (start: number, rows: number, sims: Float32Array) => void,
  opts: { blockRows?: number; signal?: AbortSignal } = {}
): Promise<void> {
  const n = features.length / dim
  if (!Number.isInteger(n)) throw new Error(`features: ${features.length} values are not rows of ${dim}`)
  if (n === 0) return
  const all = tf.tensor2d(unitRows(features, dim), [n, dim])
  const block = opts.blockRows ?? 256
  try {
    for (let start = 0; start < n; start += block) {
      if (opts.signal?.aborted) {
        const e = new Error('audit cancelled')
        e.name = 'AbortError'
        throw e
      }
      const rows = Math.min(block, n - start)
      const sims = tf.tidy(() => tf.matMul(all.slice([start, 0], [rows, dim]), all, false, true))
      const data = (await sims.data()) as Float32Array
      sims.dispose()
      onBlock(start, rows, data)
    }
  } finally {
    all.dispose()
  }
}
