// The split a run uses when none is given or stored, and the words that say which split it is.
import type { ScanResult, SplitStrategy } from '@shared/domain'
import type { RunChoice } from '@shared/runConfig'
import type { TrainPhase } from '../training/types'

/** Share of validation moved to test when a pre-split folder has no test/ (as the TF tutorial does). */
export const TEST_FROM_VALIDATION = 0.2
const SEED = 42

/** A pre-split folder keeps its own split (test from test/, else a stratified share of validation); a flat one 80/10/10. */
export function defaultStrategy(scan: Pick<ScanResult, 'layout' | 'folderSplits'>): SplitStrategy {
  if (scan.layout !== 'presplit') return { kind: 'ratios', ratios: [0.8, 0.1, 0.1], seed: SEED }
  const hasTest = scan.folderSplits.includes('test')
  return {
    kind: 'folder',
    testFromVal: hasTest || !scan.folderSplits.includes('validation') ? 0 : TEST_FROM_VALIDATION,
    seed: SEED
  }
}

export function describeStrategy(strategy: SplitStrategy, scan: Pick<ScanResult, 'folderSplits'>): string {
  if (strategy.kind === 'ratios') {
    const [a, b, c] = strategy.ratios.map((r) => Math.round(r * 100))
    return `ratios ${a}/${b}/${c} over all images (stratified, seed ${strategy.seed})`
  }
  const test = scan.folderSplits.includes('test')
    ? 'test from test/' +
      (strategy.testFromVal > 0 ? ` plus ${Math.round(strategy.testFromVal * 100)} % of validation` : '')
    : strategy.testFromVal > 0
      ? `test: a stratified ${Math.round(strategy.testFromVal * 100)} % of validation (seed ${strategy.seed})`
      : 'no test set'
  return `the folder's own split (train/, validation/; ${test})`
}

export function keptPhaseChoice(phase: TrainPhase): RunChoice {
  return phase === 'head'
    ? {
        setting: 'kept phase',
        value: 'phase 1 (head only)',
        why: 'fine-tuning did not lower the validation loss; its weights were put back'
      }
    : {
        setting: 'kept phase',
        value: 'phase 2 (fine-tuned)',
        why: 'fine-tuning lowered the validation loss below phase 1'
      }
}
