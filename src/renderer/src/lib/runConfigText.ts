// One-line descriptions of a stored run config (Runs table, Results header).
import type { StoredRunConfig } from '@shared/runConfig'
import { RECIPES } from '@shared/recipes'

/** "Auto · 40 ep · lr 0.001 adam · batch 16 · +3 fine-tune from 100". */
export function configLine(c: StoredRunConfig | null | undefined): string {
  if (!c) return ''
  const r = c.resolved
  const parts = [RECIPES[c.recipe].title, `${r.epochs} ep`, `lr ${r.lr} ${r.optimizer}`, `batch ${r.batchSize}`]
  if (r.dense) parts.push(`dense ${r.dense}`)
  if ((r.fineTuneEpochs ?? 0) > 0) parts.push(`+${r.fineTuneEpochs} fine-tune from ${r.fineTuneAt ?? 'default'}`)
  if (r.classWeights) parts.push('balanced class weights')
  return parts.join(' · ')
}

/** The recipe's choices, "setting: value" joined, with the reasons for a tooltip. */
export function choicesLine(c: StoredRunConfig | null | undefined): { text: string; title: string } {
  const choices = c?.choices ?? []
  return {
    text: choices.map((x) => `${x.setting}: ${x.value}`).join(' · '),
    title: choices.map((x) => `${x.setting}: ${x.value} — ${x.why}`).join('\n')
  }
}
