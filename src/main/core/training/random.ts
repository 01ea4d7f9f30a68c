// Seeded randomness for shuffling and per-step seeds (mulberry32; small and deterministic).
export type Random = () => number

export function seededRandom(seed: number): Random {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Fisher-Yates permutation of 0..n-1. */
export function permutation(n: number, random: Random): number[] {
  const p = Array.from({ length: n }, (_, i) => i)
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    const t = p[i] as number
    p[i] = p[j] as number
    p[j] = t
  }
  return p
}

/** An integer seed for a tf op (tf.dropout, tf.randomUniform). */
export function nextSeed(random: Random): number {
  return Math.floor(random() * 2147483647)
}
