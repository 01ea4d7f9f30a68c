// Split form state <-> SplitStrategy, with the validation the form shows.
import type { Layout, SplitStrategy } from '@shared/domain'
import type { SplitCounts } from '@shared/contract/schemas'

export interface SplitFormState {
  kind: 'ratios' | 'folder'
  /** Percent, as the user types them. */
  train: number
  validation: number
  test: number
  /** Percent of the validation folder moved to test (folder split). */
  testFromVal: number
  seed: number
}

export type SplitField = 'train' | 'validation' | 'test' | 'testFromVal' | 'seed' | 'kind'

/** On error, `fields` are the inputs to mark: the one that is wrong, or all three percentages when only their sum is. */
export type SplitValidation =
  | { ok: true; strategy: SplitStrategy }
  | { ok: false; error: string; fields: readonly SplitField[] }

function invalid(error: string, ...fields: SplitField[]): SplitValidation {
  return { ok: false, error, fields }
}

/** What training uses when nothing is chosen: a pre-split folder's own split (test from test/, else 20 % of validation). */
export function defaultSplitState(layout: Layout | null, hasTestFolder = false): SplitFormState {
  const folder = layout === 'presplit'
  return {
    kind: folder ? 'folder' : 'ratios',
    train: 80,
    validation: 10,
    test: 10,
    testFromVal: folder && !hasTestFolder ? 20 : 0,
    seed: 42
  }
}

export function stateFromStrategy(s: SplitStrategy): SplitFormState {
  if (s.kind === 'ratios') {
    const [a, b, c] = s.ratios
    return {
      kind: 'ratios',
      train: round2(a * 100),
      validation: round2(b * 100),
      test: round2(c * 100),
      testFromVal: 0,
      seed: s.seed
    }
  }
  return { kind: 'folder', train: 80, validation: 10, test: 10, testFromVal: round2(s.testFromVal * 100), seed: s.seed }
}

function round2(v: number): number {
  return Math.round(v * 100) / 100
}

function isPercent(v: number): boolean {
  return Number.isFinite(v) && v >= 0 && v <= 100
}

/** Turns the form into a strategy, or says precisely what is wrong. */
export function validateSplit(f: SplitFormState, layout: Layout | null): SplitValidation {
  if (!Number.isInteger(f.seed) || f.seed < 0) return invalid('Seed must be a whole number ≥ 0.', 'seed')
  if (f.kind === 'folder') {
    if (layout !== 'presplit')
      return invalid('Folder split needs a project with train/validation folders; use ratios for this project.', 'kind')
    if (!isPercent(f.testFromVal) || f.testFromVal >= 100)
      return invalid('Test from validation must be between 0 and 99 %.', 'testFromVal')
    return { ok: true, strategy: { kind: 'folder', testFromVal: f.testFromVal / 100, seed: f.seed } }
  }
  for (const [name, field] of [
    ['Train', 'train'],
    ['Validation', 'validation'],
    ['Test', 'test']
  ] as const) {
    if (!isPercent(f[field])) return invalid(`${name} must be a percentage between 0 and 100.`, field)
  }
  if (f.train <= 0) return invalid('Train must be more than 0 %.', 'train')
  const sum = f.train + f.validation + f.test
  if (Math.abs(sum - 100) > 0.01)
    return invalid(
      `Train + validation + test must add up to 100 % (now ${round2(sum)} %).`,
      'train',
      'validation',
      'test'
    )
  return {
    ok: true,
    strategy: { kind: 'ratios', ratios: [f.train / 100, f.validation / 100, f.test / 100], seed: f.seed }
  }
}

/** What a valid split costs the run when a set is empty (it may be on purpose, so a warning, not an error). */
export function splitWarnings(totals: SplitCounts): string[] {
  const out: string[] = []
  if (totals.validation === 0)
    out.push(
      'No validation images: nothing tells when to stop or which epoch was best, so training runs every epoch and ' +
        'keeps the last, and auto cannot compare its options.'
    )
  if (totals.test === 0)
    out.push(
      'No test images: Results can only show validation accuracy, the figure the model was chosen by, which is ' +
        'optimistic.'
    )
  return out
}
