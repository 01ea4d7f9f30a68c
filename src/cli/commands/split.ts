import type { SplitName, SplitStrategy } from '@shared/domain'
import { SPLIT_NAMES } from '@shared/domain'
import { assignKeeping, countBySplit, findLeakage, parseRatios } from '@core/project/split'
import { checkTrainSplit } from '@core/project/splitCheck'
import { openProjectState } from '@core/store/projectState'
import type { Command } from '../command'
import { num, requireDir, str } from '../args'
import { UsageError } from '../errors'
import { table } from '../format'
import { scanAndStore } from './scan'

type Values = Record<string, string | boolean | string[] | undefined>

/** Reads --ratios / --use-folder-split / --test-from-val / --seed into a strategy. */
export function strategyFromOptions(values: Values, folderSplitAvailable: boolean): SplitStrategy {
  const seed = num(values, 'seed', { integer: true, min: 0 }) ?? 42
  const ratiosText = str(values, 'ratios')
  const useFolder = values['use-folder-split'] === true
  const testFromVal = num(values, 'test-from-val', { min: 0, max: 1 })
  if (ratiosText !== undefined && useFolder) throw new UsageError('--ratios and --use-folder-split exclude each other')
  if (ratiosText !== undefined && testFromVal !== undefined)
    throw new UsageError('--test-from-val goes with the folder split, not with --ratios')
  if (useFolder || (ratiosText === undefined && testFromVal !== undefined)) {
    if (!folderSplitAvailable)
      throw new UsageError('--use-folder-split: this folder is not split into train/validation/test subfolders')
    return { kind: 'folder', testFromVal: testFromVal ?? 0, seed }
  }
  let ratios: [number, number, number]
  try {
    ratios = ratiosText === undefined ? [0.8, 0.1, 0.1] : parseRatios(ratiosText)
  } catch (e) {
    throw new UsageError(`--ratios: ${(e as Error).message}`)
  }
  return { kind: 'ratios', ratios, seed }
}

export const SPLIT_OPTIONS = {
  ratios: { type: 'string' },
  'use-folder-split': { type: 'boolean' },
  'test-from-val': { type: 'string' },
  seed: { type: 'string' }
} as const

export const splitCommand: Command = {
  name: 'split',
  summary: 'Assign every image to train/validation/test (stratified, seeded) and store the split.',
  usage: 'split <dir> [--ratios a,b,c | --use-folder-split] [--test-from-val F] [--seed N] [--json]',
  options: SPLIT_OPTIONS,
  async run(positionals, values, ctx) {
    const dir = requireDir(positionals, 'split')
    const { scan, projectId, dbPath } = await scanAndStore(dir, ctx)
    const strategy = strategyFromOptions(values, scan.layout === 'presplit')
    const state = openProjectState(scan.root)
    let assignment
    try {
      assignment = assignKeeping(scan.images, strategy, state.store.getSplit(projectId))
      checkTrainSplit(scan.images, assignment)
      state.store.saveSplit(projectId, strategy, assignment)
    } finally {
      state.store.close()
    }
    const counts = countBySplit(scan.images, assignment)
    const leakage = findLeakage(scan.images, assignment)
    const totals: Record<SplitName, number> = { train: 0, validation: 0, test: 0 }
    for (const split of assignment.values()) totals[split] += 1
    if (ctx.json) {
      ctx.emit({ root: scan.root, strategy, counts, totals, leakage, unreadable: scan.unreadable, dbPath })
      return
    }
    const how =
      strategy.kind === 'ratios'
        ? `ratios ${strategy.ratios.join('/')}, seed ${strategy.seed}`
        : `folder split${strategy.testFromVal > 0 ? `, ${strategy.testFromVal} of validation moved to test` : ''}, seed ${strategy.seed}`
    ctx.say(`split of ${scan.root} (${how})`)
    ctx.say('')
    ctx.say(
      table(
        ['class', ...SPLIT_NAMES],
        [
          ...Object.entries(counts).map(([name, c]) => [name, ...SPLIT_NAMES.map((s) => c[s])]),
          ['total', ...SPLIT_NAMES.map((s) => totals[s])]
        ]
      )
    )
    if (leakage.length > 0) {
      ctx.say('')
      ctx.say(`leakage: ${leakage.length} group(s) of identical files in different splits:`)
      for (const g of leakage) ctx.say(`  ${g.paths.join('  =  ')}  (${g.splits.join(', ')})`)
    }
    ctx.say(`\nstored in ${dbPath}`)
  }
}
