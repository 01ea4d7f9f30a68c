// project.* and dataset.* over the core scanner, splitter, store and augmentation preview.
import type { ScanResult, ScannedImage, SplitName, SplitStrategy } from '@shared/domain'
import { SPLIT_NAMES } from '@shared/domain'
import { ApiError, type ScanView, type SplitCounts, type SplitPreview, type StoredSplitView } from '@shared/contract'
import { scanProject } from '@core/project/scan'
import { checkProjectFolder } from '@core/project/scanWalk'
import { hasStoredState, STATE_DIR_NAME } from '@core/store/stateDir'
import { assignKeeping, countBySplit, findLeakage } from '@core/project/split'
import { checkTrainSplit } from '@core/project/splitCheck'
import { renderAugmentedSamples } from '@core/pipeline/preview'
import type { StoredSplit } from '@core/store'
import { effectiveImages } from '@core/labels/projectLabels'
import { classCountsAfter } from '@core/labels/effective'
import { checkedFolder, projectKeyOf, type OpenProject } from './projects'
import { resolveInside } from './containment'
import type { PartialHandlers } from './context'

const zeroCounts = (): SplitCounts => ({ train: 0, validation: 0, test: 0 })

/** The readable, present images of the last stored scan, as the splitter wants them. */
function scannedImages(p: OpenProject): ScannedImage[] {
  const rows = p.state.store.listImages(p.state.project.id)
  if (rows.length === 0)
    throw new ApiError('conflict', `${p.root} has no scanned images yet: scan it first (Rescan on the Projects screen)`)
  return rows.map((r) => ({
    path: r.relPath,
    className: r.className ?? '',
    folderSplit: r.folderSplit,
    hash: r.contentHash ?? '',
    width: r.width ?? 0,
    height: r.height ?? 0,
    bytes: r.bytes ?? 0
  }))
}

/** The images as training will see them: excluded ones left out, relabelled ones with their new class. */
function afterOverrides(p: OpenProject, images: readonly ScannedImage[]): ScannedImage[] {
  return effectiveImages(p.state.store, p.state.project.id, images).images
}

function preview(images: readonly ScannedImage[], assignment: ReadonlyMap<string, SplitName>): SplitPreview {
  const byClass = countBySplit(images, assignment)
  const classes = [...new Set(images.map((i) => i.className))].sort()
  const counts: Record<string, SplitCounts> = {}
  const totals = zeroCounts()
  for (const c of classes) {
    const row = zeroCounts()
    for (const s of SPLIT_NAMES) {
      row[s] = byClass[c]?.[s] ?? 0
      totals[s] += row[s]
    }
    counts[c] = row
  }
  return { classes, counts, totals, leakage: findLeakage(images, assignment) }
}

function storedView(p: OpenProject, split: StoredSplit): StoredSplitView {
  const images = afterOverrides(p, scannedImages(p)).filter((i) => split.assignment.has(i.path))
  return {
    ...preview(images, split.assignment),
    splitId: split.id,
    strategy: split.strategy,
    createdAt: split.createdAt
  }
}

/** The split training would use (a stored split of the same strategy keeps its images where they are). */
function assign(p: OpenProject, images: readonly ScannedImage[], strategy: SplitStrategy): Map<string, SplitName> {
  if (strategy.kind === 'folder' && images.every((i) => i.folderSplit === null)) {
    throw new ApiError(
      'bad-input',
      'the folder split needs train/validation/test subfolders, and this project is flat: use ratios'
    )
  }
  return assignKeeping(images, strategy, p.state.store.getSplit(p.state.project.id))
}

export const projectHandlers: PartialHandlers<
  | 'project.open'
  | 'project.recent'
  | 'project.scan'
  | 'dataset.images'
  | 'dataset.previewSplit'
  | 'dataset.saveSplit'
  | 'dataset.getSplit'
  | 'dataset.augmentPreview'
> = {
  'project.open': async ({ path }, ctx) => {
    const root = checkedFolder(path)
    // A folder that is no project (no class folders, one class, a class with no readable image) is refused before
    // anything is stored in it or it joins the recent list: a new folder is scanned first (the quick check of its
    // top folders spares walking, say, a home folder), and that scan is stored, so the next one reuses it.
    let firstScan: ScanResult | null = null
    if (!ctx.projects.find(projectKeyOf(root)) && !hasStoredState(root)) {
      await checkProjectFolder(root, STATE_DIR_NAME)
      firstScan = await scanProject(root)
    }
    const p = ctx.projects.openFolder(root)
    if (firstScan && !p.state.readOnly) {
      p.state.store.upsertProject(p.root, firstScan.layout)
      p.state.store.saveScan(p.state.project.id, firstScan)
    }
    ctx.recent.remember(p.root)
    return ctx.projects.info(p)
  },
  'project.recent': async (_req, ctx) => ({ projects: ctx.recent.list() }),
  'project.scan': async ({ projectKey }, ctx): Promise<ScanView> => {
    const p = ctx.projects.writable(projectKey)
    // Files unchanged since the stored scan (same size and time) are not read again.
    const scan = await scanProject(p.root, { previous: p.state.store.scanRecords(p.state.project.id) })
    const { store, project } = p.state
    store.upsertProject(p.root, scan.layout)
    store.saveScan(project.id, scan)
    const labelled = effectiveImages(store, project.id, scan.images)
    return {
      layout: scan.layout,
      folderSplits: scan.folderSplits,
      classes: classCountsAfter(scan.classes, labelled.images),
      overrides: labelled.counts,
      images: scan.images.length,
      unreadable: scan.unreadable,
      leakage: scan.leakage,
      seconds: scan.seconds,
      scannedAt: new Date().toISOString()
    }
  },
  'dataset.images': async ({ projectKey, className, split, offset, limit }, ctx) => {
    const p = ctx.projects.get(projectKey)
    const rows = p.state.store.listImages(p.state.project.id, {
      ...(className !== undefined ? { className } : {}),
      ...(split ? { split } : {})
    })
    const start = offset ?? 0
    return {
      total: rows.length,
      images: rows.slice(start, start + (limit ?? 200)).map((r) => ({
        imageId: r.id,
        relPath: r.relPath,
        className: r.className,
        split: r.split,
        folderSplit: r.folderSplit,
        width: r.width,
        height: r.height
      }))
    }
  },
  'dataset.previewSplit': async ({ projectKey, strategy }, ctx) => {
    const p = ctx.projects.get(projectKey)
    const images = scannedImages(p)
    // Split from the folders' labels (as training does), counted with the overrides.
    return preview(afterOverrides(p, images), assign(p, images, strategy))
  },
  'dataset.saveSplit': async ({ projectKey, strategy }, ctx) => {
    const p = ctx.projects.writable(projectKey)
    const images = scannedImages(p)
    const assignment = assign(p, images, strategy)
    checkTrainSplit(images, assignment)
    const stored = p.state.store.saveSplit(p.state.project.id, strategy, assignment)
    return storedView(p, stored)
  },
  'dataset.getSplit': async ({ projectKey }, ctx) => {
    const p = ctx.projects.get(projectKey)
    const stored = p.state.store.getSplit(p.state.project.id)
    return stored ? storedView(p, stored) : null
  },
  'dataset.augmentPreview': async ({ projectKey, imageId, spec, n, seed, size, resizeMode }, ctx) => {
    const p = ctx.projects.get(projectKey)
    const image = p.state.store.getImage(imageId)
    if (!image || image.projectId !== p.state.project.id)
      throw new ApiError('not-found', `no image ${imageId} in ${p.root}`)
    const abs = await resolveInside(p.root, image.relPath)
    const pngs = await renderAugmentedSamples(abs, size ?? 160, resizeMode ?? 'squash', spec, n, seed)
    return { images: pngs.map((b) => `data:image/png;base64,${b.toString('base64')}`) }
  }
}
