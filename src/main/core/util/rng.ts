// Seeded pseudo-random numbers (mulberry32). Same seed -> same sequence on every platform.

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number
  /** Integer uniform in [0, n). */
  int(n: number): number
  /** Uniform in [a, b). */
  uniform(a: number, b: number): number
  /** Fisher-Yates shuffle in place; returns the same array. */
  shuffle<T>(a: T[]): T[]
}

export function createRng(seed: number): Rng {
  if (!Number.isFinite(seed)) throw new RangeError(`seed must be a finite number, got ${seed}`)
  // Fold the seed (possibly fractional or > 2^32) into 32 bits so nearby seeds differ.
  let state = (Math.floor(seed) ^ Math.floor(seed / 0x1_0000_0000) ^ 0x9e3779b9) >>> 0
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const int = (n: number): number => Math.floor(next() * n)
  return {
    next,
    int,
    uniform: (a, b) => a + (b - a) * next(),
    shuffle<T>(a: T[]): T[] {
      for (let i = a.length - 1; i > 0; i--) {
        const j = int(i + 1)
        const tmp = a[i] as T
        a[i] = a[j] as T
        a[j] = tmp
      }
      return a
    }
  }
}

/** Derives an independent seed for a sub-stream (e.g. per class, per epoch) from a base seed and a label. */
export function deriveSeed(seed: number, label: string | number): number {
  let h = (Math.floor(seed) ^ 0x811c9dc5) >>> 0
  const s = String(label)
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193) >>> 0
  }
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b) >>> 0
  h ^= h >>> 13
  return h >>> 0
}
