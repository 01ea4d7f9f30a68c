// Read-ahead for batch loaders: while the caller computes on batch i (synchronous wasm/cpu work on this
// thread), batch i+1 is read and decoded on libuv's threads (sharp, fs), so decode overlaps compute.
// The next batch is the one named by hint(), else the consecutive range after a consecutive request
// (feature extraction, evaluation and activation caching walk the set in order).

export type BatchLoader = (indices: readonly number[]) => Promise<Uint8Array>

export interface ReadAheadStats {
  /** Batches answered by a read-ahead started earlier. */
  hits: number
  /** Batches loaded on request (nothing, or something else, was read ahead). */
  misses: number
  /** Read-aheads started. */
  started: number
}

export interface ReadAheadLoader {
  load: BatchLoader
  /** The batch the caller will ask for after the current one (e.g. the next slice of a shuffled epoch). */
  hint(next: readonly number[]): void
  readonly stats: ReadAheadStats
}

interface Pending {
  key: string
  promise: Promise<Uint8Array>
}

const keyOf = (indices: readonly number[]): string => indices.join(',')

/** The same-length range after `indices` if they are consecutive ascending, clipped to `count`; else null. */
export function consecutiveSuccessor(indices: readonly number[], count: number): number[] | null {
  const first = indices[0]
  if (first === undefined) return null
  for (let k = 1; k < indices.length; k++) if (indices[k] !== first + k) return null
  const start = first + indices.length
  const end = Math.min(count, start + indices.length)
  if (start >= end) return null
  return Array.from({ length: end - start }, (_, k) => start + k)
}

/**
 * Wraps `load` (for a set of `count` items) so that, once batch i is loaded, batch i+1 starts loading.
 * Only one batch is read ahead (one extra batch buffer in memory). A read-ahead that fails rethrows when
 * that batch is requested, and is dropped silently if it never is.
 */
export function withReadAhead(load: BatchLoader, count: number): ReadAheadLoader {
  let pending: Pending | null = null
  let hinted: number[] | null = null
  const stats: ReadAheadStats = { hits: 0, misses: 0, started: 0 }

  const start = (indices: readonly number[]): void => {
    const key = keyOf(indices)
    if (pending?.key === key) return
    const promise = load(indices)
    promise.catch(() => undefined) // surfaced when the batch is requested
    pending = { key, promise }
    stats.started++
  }

  return {
    stats,
    hint(next) {
      hinted = next.length > 0 ? [...next] : null
    },
    async load(indices) {
      const key = keyOf(indices)
      let promise: Promise<Uint8Array>
      if (pending?.key === key) {
        promise = pending.promise
        stats.hits++
      } else {
        promise = load(indices)
        stats.misses++
      }
      pending = null
      const pixels = await promise
      // Started only now, so the requested batch never waits behind its successor's decodes.
      const next = hinted ?? consecutiveSuccessor(indices, count)
      hinted = null
      if (next) start(next)
      return pixels
    }
  }
}
