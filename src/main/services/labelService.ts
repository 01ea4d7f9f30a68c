// labels.* (relabel / exclude / undo / clear / apply to folders) and runs.diff over the core label modules.
import { ApiError } from '@shared/contract'
import { scanProject } from '@core/project/scan'
import { applyLabels, lastApplySummary, planApplyLabels, undoApplyLabels } from '@core/labels/applyLabels'
import { labelState, labelStore, projectClasses } from '@core/labels/projectLabels'
import { diffRuns } from '@core/labels/runDiff'
import type { OpenProject } from './projects'
import type { PartialHandlers } from './context'

function requireRunOf(p: OpenProject, runId: number): void {
  const run = p.state.store.getRun(runId)
  if (!run || run.projectId !== p.state.project.id) throw new ApiError('not-found', `no run ${runId} in ${p.root}`)
}

function plan(p: OpenProject): ReturnType<typeof planApplyLabels> {
  const { store, project } = p.state
  const layout = store.getProject(project.id)?.layout
  if (!layout) throw new ApiError('conflict', `${p.root} has not been scanned yet: scan the project first`)
  const r = labelStore(store).resolve(project.id)
  return planApplyLabels(p.root, layout, r.byImage.values(), r.unmatched)
}

/** The overrides as the UI shows them, with the apply that could be undone. */
function stateOf(p: OpenProject): ReturnType<typeof labelState> & { lastApply: ReturnType<typeof lastApplySummary> } {
  return { ...labelState(p.state.store, p.state.project.id), lastApply: lastApplySummary(p.state.stateDir) }
}

/** After files moved, the stored scan must follow, so the overrides resolve to the new paths. */
async function rescan(p: OpenProject): Promise<void> {
  const scan = await scanProject(p.root, { previous: p.state.store.scanRecords(p.state.project.id) })
  p.state.store.upsertProject(p.root, scan.layout)
  p.state.store.saveScan(p.state.project.id, scan)
}

export const labelHandlers: PartialHandlers<
  | 'labels.set'
  | 'labels.undo'
  | 'labels.clear'
  | 'labels.list'
  | 'labels.applyPlan'
  | 'labels.apply'
  | 'labels.applyUndo'
  | 'runs.diff'
> = {
  'labels.set': async ({ projectKey, imageIds, action, note }, ctx) => {
    const p = ctx.projects.get(projectKey)
    const { store, project } = p.state
    const { actionId } = labelStore(store).set(project.id, imageIds, action, projectClasses(store, project.id), note)
    return { ...stateOf(p), actionId }
  },
  'labels.undo': async ({ projectKey, actionId }, ctx) => {
    const p = ctx.projects.get(projectKey)
    const undone = labelStore(p.state.store).undo(p.state.project.id, actionId)
    return { ...stateOf(p), undoneActionId: undone?.actionId ?? null }
  },
  'labels.clear': async ({ projectKey }, ctx) => {
    const p = ctx.projects.get(projectKey)
    labelStore(p.state.store).clear(p.state.project.id)
    return stateOf(p)
  },
  'labels.list': async ({ projectKey }, ctx) => {
    return stateOf(ctx.projects.get(projectKey))
  },
  'labels.applyPlan': async ({ projectKey }, ctx) => plan(ctx.projects.get(projectKey)),
  'labels.apply': async ({ projectKey }, ctx) => {
    const p = ctx.projects.get(projectKey)
    if (ctx.runner.active().some((r) => r.projectKey === projectKey && r.status === 'running')) {
      throw new ApiError('conflict', `a run is training on ${p.root}: wait for it before moving files`)
    }
    const result = applyLabels(p.root, plan(p), p.state.stateDir)
    await rescan(p)
    return result
  },
  'labels.applyUndo': async ({ projectKey }, ctx) => {
    const p = ctx.projects.get(projectKey)
    const result = undoApplyLabels(p.root, p.state.stateDir)
    await rescan(p)
    return result
  },
  'runs.diff': async ({ projectKey, runA, runB, split }, ctx) => {
    const p = ctx.projects.get(projectKey)
    requireRunOf(p, runA)
    requireRunOf(p, runB)
    const excludedInB = new Set(
      labelStore(p.state.store)
        .forRun(runB)
        .filter((o) => o.excluded)
        .map((o) => o.relPath)
    )
    return diffRuns(p.state.store, runA, runB, split, excludedInB)
  }
}
