// Seeded randomness of a run: independent streams so that e.g. turning augmentation on
// does not change the shuffling order.
import { createRng, deriveSeed, type Rng } from '../util/rng'

export type { Rng }

export interface RunRandom {
  shuffle: Rng
  dropout: Rng
  augment: Rng
}

export function runRandom(seed: number): RunRandom {
  return {
    shuffle: createRng(deriveSeed(seed, 'shuffle')),
    dropout: createRng(deriveSeed(seed, 'dropout')),
    augment: createRng(deriveSeed(seed, 'augment'))
  }
}

/** Seeded permutation of 0..n-1. */
export function permutation(n: number, rng: Rng): number[] {
  return rng.shuffle(Array.from({ length: n }, (_, i) => i))
}

/** An integer seed for a tf op (tf.dropout). */
export function nextSeed(rng: Rng): number {
  return rng.int(2147483647)
}
