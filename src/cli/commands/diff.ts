// diff: two runs image by image (wrong→right, right→wrong, per-class accuracy, McNemar's exact test).
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import type { SplitName } from '@shared/domain'
import { SPLIT_NAMES } from '@shared/domain'
import { diffRuns, type DiffImage } from '@core/labels/runDiff'
import { labelStore } from '@core/labels/projectLabels'
import { openProjectState } from '@core/store/projectState'
import type { Command } from '../command'
import { requireDir, str } from '../args'
import { UsageError } from '../errors'
import { table } from '../format'

const pct = (v: number | null): string => (v === null ? '-' : `${(v * 100).toFixed(1)}%`)

function rows(list: DiffImage[]): (string | number)[][] {
  return list.map((d) => [
    d.relPath,
    d.trueA === d.trueB ? d.trueB : `${d.trueA} -> ${d.trueB}`,
    `${d.predictedA} ${pct(d.confidenceA)}`,
    `${d.predictedB} ${pct(d.confidenceB)}`
  ])
}

export const diffCommand: Command = {
  name: 'diff',
  summary: 'Compare two runs image by image: wrong→right, right→wrong, per-class accuracy deltas, McNemar p-value.',
  usage: 'diff <dir> --run A --run B [--split validation|test] [--json]',
  options: { run: { type: 'string', multiple: true }, split: { type: 'string' } },
  async run(positionals, values, ctx) {
    const dir = resolve(requireDir(positionals, 'diff'))
    if (!existsSync(dir)) throw new UsageError(`diff: ${dir} does not exist`)
    const runs = (Array.isArray(values.run) ? values.run : []).map((r) => {
      const n = Number(r)
      if (!Number.isInteger(n) || n <= 0) throw new UsageError(`--run: '${r}' is not a run id`)
      return n
    })
    if (runs.length !== 2) throw new UsageError('diff: give two runs, --run A --run B')
    const split = str(values, 'split')
    if (split !== undefined && !(SPLIT_NAMES as readonly string[]).includes(split))
      throw new UsageError(`--split: '${split}' is not one of ${SPLIT_NAMES.join(', ')}`)
    const state = openProjectState(dir)
    try {
      const [a, b] = runs as [number, number]
      for (const id of runs)
        if (state.store.getRun(id)?.projectId !== state.project.id) throw new UsageError(`diff: no run ${id} in ${dir}`)
      const excludedInB = new Set(
        labelStore(state.store)
          .forRun(b)
          .filter((o) => o.excluded)
          .map((o) => o.relPath)
      )
      const d = diffRuns(state.store, a, b, split as SplitName | undefined, excludedInB)
      if (ctx.json) {
        ctx.emit(d)
        return
      }
      ctx.say(
        `run #${a} vs run #${b} on ${d.common} image(s) both evaluated (${d.splits.join(', ')}): accuracy ${pct(d.accuracyA)} -> ${pct(d.accuracyB)}` +
          (d.relabelled.length > 0
            ? ` on the ${d.sameLabel} whose label did not change (${d.relabelled.length} relabelled, listed apart)`
            : '')
      )
      ctx.say(
        `McNemar exact test: ${d.mcnemar.c} wrong->right, ${d.mcnemar.b} right->wrong, p = ${d.mcnemar.pValue.toPrecision(3)}${d.mcnemar.pValue < 0.05 ? ' (more than noise at 5%)' : ' (within noise at 5%)'}`
      )
      const header = ['image', 'true class', `run #${a}`, `run #${b}`]
      for (const [title, list] of [
        ['wrong -> right', d.wrongToRight],
        ['right -> wrong', d.rightToWrong],
        ['relabelled in between', d.relabelled]
      ] as const) {
        if (list.length === 0) continue
        ctx.say('')
        ctx.say(`${title} (${list.length}):`)
        ctx.say(table(header, rows(list)))
      }
      if (d.onlyA.length > 0)
        ctx.say(
          `\nonly in run #${a} (${d.onlyA.length}): ${d.onlyA.map((o) => `${o.relPath}${o.excluded ? ' (excluded)' : ''}`).join(', ')}`
        )
      if (d.onlyB.length > 0)
        ctx.say(`only in run #${b} (${d.onlyB.length}): ${d.onlyB.map((o) => o.relPath).join(', ')}`)
      ctx.say('')
      ctx.say(
        table(
          ['class', `acc #${a}`, `acc #${b}`, 'delta'],
          d.perClass.map((c) => [
            c.className,
            `${pct(c.accuracyA)} (${c.countA})`,
            `${pct(c.accuracyB)} (${c.countB})`,
            c.delta === null ? '-' : `${c.delta >= 0 ? '+' : ''}${(c.delta * 100).toFixed(1)} pt`
          ])
        )
      )
    } finally {
      state.store.close()
    }
  }
}
