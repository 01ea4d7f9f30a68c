// relabel, overrides and apply-labels: label overrides from the command line (stored in the project database;
// only apply-labels moves files, and only when asked).
import { isAbsolute, relative, resolve } from 'node:path'
import { applyLabels, planApplyLabels, undoApplyLabels, type ApplyPlan } from '@core/labels/applyLabels'
import { labelState, labelStore, projectClasses } from '@core/labels/projectLabels'
import { openProjectState, type ProjectState } from '@core/store/projectState'
import type { Command, CommandContext } from '../command'
import { requireDir, str } from '../args'
import { UsageError } from '../errors'
import { table } from '../format'
import { scanAndStore } from './scan'

/** The project's state after a scan (so paths and classes are current). */
async function scannedState(dir: string, ctx: CommandContext): Promise<ProjectState> {
  await scanAndStore(dir, { ...ctx, json: true })
  return openProjectState(resolve(dir))
}

function toRelPath(root: string, path: string): string {
  const rel = relative(root, isAbsolute(path) ? path : resolve(root, path))
    .split(/[\\/]/)
    .join('/')
  if (rel.startsWith('..') || isAbsolute(rel)) throw new UsageError(`${path} is not inside the project folder ${root}`)
  return rel
}

function say(ctx: CommandContext, state: ProjectState): void {
  const s = labelState(state.store, state.project.id)
  if (ctx.json) {
    ctx.emit({ root: state.root, ...s })
    return
  }
  if (s.overrides.length === 0) {
    ctx.say('no label overrides')
    return
  }
  ctx.say(
    table(
      ['image', 'folder class', 'now', 'action', 'when', 'note'],
      s.overrides.map((o) => [
        o.relPath,
        o.originalClass,
        o.excluded ? 'excluded' : (o.newClass ?? ''),
        `#${o.actionId}${o.applied ? ' (applied to folders)' : o.imageId === null ? ' (file not found)' : ''}`,
        o.createdAt.replace('T', ' ').slice(0, 19),
        o.note ?? ''
      ])
    )
  )
  ctx.say(
    `${s.counts.relabelled} relabelled, ${s.counts.excluded} excluded${s.undoable ? ` · undo would undo action #${s.undoable.actionId} (${s.undoable.kind}, ${s.undoable.images} image(s))` : ''}`
  )
}

export const relabelCommand: Command = {
  name: 'relabel',
  summary: 'Relabel or exclude images (stored in the project database; your files are not touched), or undo.',
  usage: 'relabel <dir> <image-path…> --to CLASS | --exclude | --undo [--note TEXT] [--json]',
  options: {
    to: { type: 'string' },
    exclude: { type: 'boolean' },
    undo: { type: 'boolean' },
    note: { type: 'string' }
  },
  async run(positionals, values, ctx) {
    const dir = resolve(requireDir(positionals, 'relabel'))
    const paths = positionals.slice(1)
    const to = str(values, 'to')
    const modes = [to !== undefined, values.exclude === true, values.undo === true].filter(Boolean).length
    if (modes !== 1) throw new UsageError('relabel: give exactly one of --to CLASS, --exclude, --undo')
    if (paths.length === 0 && values.undo !== true)
      throw new UsageError('relabel: name at least one image (a path inside the project)')
    const state = await scannedState(dir, ctx)
    try {
      const { store, project } = state
      const labels = labelStore(store)
      const rels = paths.map((p) => toRelPath(state.root, p))
      if (values.undo === true) {
        const actions = new Set<number>()
        if (rels.length > 0) {
          const byPath = new Map(labels.list(project.id).map((o) => [o.relPath, o.actionId]))
          for (const r of rels) {
            const id = byPath.get(r)
            if (id === undefined) throw new UsageError(`relabel --undo: ${r} has no override`)
            actions.add(id)
          }
          for (const id of [...actions].sort((a, b) => b - a)) labels.undo(project.id, id)
        } else if (labels.undo(project.id) === null) {
          throw new UsageError('relabel --undo: nothing to undo')
        }
      } else {
        const ids = rels.map((r) => {
          const img = store.getImageByPath(project.id, r)
          if (!img || !img.present)
            throw new UsageError(`relabel: ${r} is not an image of the project (scan found no such file)`)
          return img.id
        })
        labels.set(
          project.id,
          ids,
          to !== undefined ? { kind: 'relabel', to } : { kind: 'exclude' },
          projectClasses(store, project.id),
          str(values, 'note')
        )
      }
      say(ctx, state)
    } finally {
      state.store.close()
    }
  }
}

export const overridesCommand: Command = {
  name: 'overrides',
  summary: 'List the label overrides of a project (relabelled and excluded images).',
  usage: 'overrides <dir> [--json]',
  options: {},
  async run(positionals, _values, ctx) {
    const state = await scannedState(requireDir(positionals, 'overrides'), ctx)
    try {
      say(ctx, state)
    } finally {
      state.store.close()
    }
  }
}

function printPlan(ctx: CommandContext, plan: ApplyPlan, verb: string): void {
  for (const m of plan.moves)
    ctx.say(`${verb} ${m.from}  ->  ${m.to}${m.renamed ? '  (name taken: suffix added)' : ''}`)
  for (const s of plan.skipped) ctx.say(`skip ${s.relPath}: ${s.reason}`)
}

export const applyLabelsCommand: Command = {
  name: 'apply-labels',
  summary:
    'Move relabelled files into their class folder and excluded ones into <dir>/_excluded/<class>/ (all or nothing, journalled; --undo puts them back).',
  usage: 'apply-labels <dir> [--dry-run] [--undo] [--json]',
  options: { 'dry-run': { type: 'boolean' }, undo: { type: 'boolean' } },
  async run(positionals, values, ctx) {
    const dir = resolve(requireDir(positionals, 'apply-labels'))
    if (values['dry-run'] === true && values.undo === true)
      throw new UsageError('apply-labels: --dry-run and --undo exclude each other')
    const state = await scannedState(dir, ctx)
    try {
      const { store, project, root, stateDir } = state
      if (values.undo === true) {
        const r = undoApplyLabels(root, stateDir)
        if (ctx.json) ctx.emit({ undone: r.moved, journal: r.journal })
        else ctx.say(`put back ${r.moved} file(s) (journal ${r.journal})`)
      } else {
        const layout = store.getProject(project.id)?.layout ?? 'flat'
        const res = labelStore(store).resolve(project.id)
        const plan = planApplyLabels(root, layout, res.byImage.values(), res.unmatched)
        if (values['dry-run'] === true) {
          if (ctx.json) ctx.emit({ dryRun: true, ...plan })
          else {
            printPlan(ctx, plan, 'would move')
            ctx.say(`${plan.moves.length} file(s) would move; nothing was changed (run without --dry-run to move them)`)
          }
          return
        }
        const r = applyLabels(root, plan, stateDir)
        if (ctx.json) ctx.emit({ moved: r.moved, journal: r.journal, moves: r.moves, skipped: plan.skipped })
        else {
          printPlan(ctx, plan, 'moved')
          ctx.say(`${r.moved} file(s) moved; journal ${r.journal} (apply-labels --undo puts them back)`)
        }
      }
    } finally {
      state.store.close()
    }
    // The stored scan follows the files (and the overrides their new paths).
    await scanAndStore(dir, { ...ctx, json: true })
  }
}
