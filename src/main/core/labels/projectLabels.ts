// Label overrides of an open project: the state the UI and the CLI show, and the images training sees.
import type { ScannedImage } from '@shared/domain'
import type { ProjectStore } from '../store/projectStore'
import { LabelOverrideStore } from '../store/labelOverrides'
import { withOverrides, type EffectiveImages } from './effective'
import type { LabelCounts, LabelOverride, OverrideResolution } from './types'

export interface OverrideListing extends LabelOverride {
  imageId: number | null
  applied: boolean
}

export interface LabelState {
  overrides: OverrideListing[]
  counts: LabelCounts
  undoable: { actionId: number; kind: 'relabel' | 'exclude' | 'clear'; images: number } | null
}

export function labelStore(store: ProjectStore): LabelOverrideStore {
  return new LabelOverrideStore(store.db)
}

/** Every override (matched ones with their image id), the counts of those in force, and what undo would undo. */
export function labelState(store: ProjectStore, projectId: number, resolution?: OverrideResolution): LabelState {
  const labels = labelStore(store)
  const r = resolution ?? labels.resolve(projectId)
  const matched: OverrideListing[] = [...r.byImage.values()].map(({ folderClass: _f, ...o }) => o)
  const overrides = [...matched, ...r.unmatched.map((o) => ({ ...o, imageId: null, applied: false }))].sort((a, b) =>
    a.relPath < b.relPath ? -1 : 1
  )
  const last = labels
    .actions(projectId)
    .filter((a) => a.undoneAt === null)
    .at(-1)
  const inForce = matched.filter((o) => !o.applied)
  const inForcePaths = new Set(inForce.map((o) => o.relPath))
  // An action whose images were all applied to the folders (moved) has nothing left to undo here: undoing the
  // apply is what puts them back (undoing the override alone would change nothing anyone can see).
  const undoable = last && (last.kind === 'clear' || last.paths.some((p) => inForcePaths.has(p))) ? last : null
  return {
    overrides,
    counts: labels.counts(inForce),
    undoable: undoable ? { actionId: undoable.id, kind: undoable.kind, images: undoable.paths.length } : null
  }
}

/** The scanned images as training and evaluation see them, and the overrides that made the difference. */
export function effectiveImages(
  store: ProjectStore,
  projectId: number,
  images: readonly ScannedImage[]
): EffectiveImages {
  const r = labelStore(store).resolve(projectId)
  return withOverrides(images, r.byImage.values())
}

/** The classes of the project (from its last scan), for checking a relabel target. */
export function projectClasses(store: ProjectStore, projectId: number): string[] {
  return store.getProject(projectId)?.scanSummary?.classes.map((c) => c.name) ?? []
}
