import { resolve } from 'node:path'
import type { ScanResult } from '@shared/domain'
import { scanProject } from '@core/project/scan'
import { openProjectState } from '@core/store/projectState'
import { readScanRecords } from '@core/store/scanRecords'
import type { Command, CommandContext } from '../command'
import { requireDir } from '../args'
import { createProgressBar } from '../progress'
import { table } from '../format'
import { effectiveImages } from '@core/labels/projectLabels'
import { classCountsAfter } from '@core/labels/effective'
import type { LabelCounts } from '@core/labels/types'

/** Scans the folder with a progress bar and stores the result in the project database. */
export async function scanAndStore(
  dir: string,
  ctx: CommandContext,
  opts: { rescan?: boolean } = {}
): Promise<{ scan: ScanResult; projectId: number; dbPath: string; stateNote?: string; overrides: LabelCounts }> {
  const root = resolve(dir)
  let bar: ReturnType<typeof createProgressBar> | undefined
  // Files unchanged since the last stored scan are not read again (--rescan reads them all).
  const scan = await scanProject(root, {
    previous: opts.rescan === true ? undefined : readScanRecords(root),
    onProgress: (done, total) => {
      if (ctx.json) return
      bar ??= createProgressBar('scan', total)
      bar.update(done)
    }
  })
  bar?.finish()
  const state = openProjectState(root)
  try {
    const projectId = state.store.upsertProject(root, scan.layout)
    state.store.saveScan(projectId, scan)
    const labelled = effectiveImages(state.store, projectId, scan.images)
    return {
      // Counts as training will see them: label overrides applied (relabel / exclude from the galleries).
      scan: { ...scan, classes: classCountsAfter(scan.classes, labelled.images) },
      overrides: labelled.counts,
      projectId,
      dbPath: state.dbPath,
      stateNote: state.fallback
        ? `project folder is read-only: state kept in ${state.stateDir} (${state.reason ?? ''})`
        : undefined
    }
  } finally {
    state.store.close()
  }
}

export function scanSummary(scan: ScanResult): Record<string, unknown> {
  return {
    root: scan.root,
    layout: scan.layout,
    folderSplits: scan.folderSplits,
    classes: scan.classes.map((c) => ({ name: c.name, counts: c.counts, total: c.total })),
    images: scan.images.length,
    unreadable: scan.unreadable,
    leakage: scan.leakage,
    seconds: scan.seconds
  }
}

function printScan(scan: ScanResult, ctx: CommandContext): void {
  const cols = scan.layout === 'flat' ? (['all'] as const) : scan.folderSplits
  ctx.say(`${scan.root}`)
  ctx.say(
    `layout: ${scan.layout === 'flat' ? 'flat (<class>/<images>)' : `pre-split (${scan.folderSplits.join(', ')})`}`
  )
  ctx.say(
    `${scan.classes.length} classes, ${scan.images.length} readable images, scanned in ${scan.seconds.toFixed(1)} s`
  )
  ctx.say('')
  ctx.say(
    table(
      ['class', ...cols, 'total'],
      scan.classes.map((c) => [c.name, ...cols.map((s) => c.counts[s] ?? 0), c.total])
    )
  )
  if (scan.unreadable.length > 0) {
    ctx.say('')
    ctx.say(`${scan.unreadable.length} unreadable file(s), left out:`)
    for (const u of scan.unreadable) ctx.say(`  ${u.path}: ${u.reason}`)
  }
  if (scan.leakage.length > 0) {
    ctx.say('')
    ctx.say(`leakage: ${scan.leakage.length} group(s) of identical files in different splits:`)
    for (const g of scan.leakage) ctx.say(`  ${g.paths.join('  =  ')}`)
  }
}

export const scanCommand: Command = {
  name: 'scan',
  summary: 'Detect the layout, classes and counts of a folder; list unreadable files and leakage.',
  usage: 'scan <dir> [--rescan] [--json]',
  options: { rescan: { type: 'boolean' } },
  async run(positionals, values, ctx) {
    const dir = requireDir(positionals, 'scan')
    const { scan, dbPath, stateNote, overrides } = await scanAndStore(dir, ctx, { rescan: values.rescan === true })
    if (ctx.json) {
      ctx.emit({ ...scanSummary(scan), overrides, dbPath })
      return
    }
    printScan(scan, ctx)
    if (overrides.relabelled + overrides.excluded > 0) {
      ctx.say(
        `\nlabel overrides: ${overrides.relabelled} relabelled, ${overrides.excluded} excluded (the counts above include them; see 'overrides')`
      )
    }
    if (stateNote) ctx.say(`\nnote: ${stateNote}`)
  }
}
