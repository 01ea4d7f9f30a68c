// Run step 1, prepare data: scan the folder (reusing unchanged files' records), store the scan, pick or reuse the
// split, and build one image set per split once the base's input size is known.
import type { ScannedImage, ScanResult, SplitName, SplitStrategy } from '@shared/domain'
import { SPLIT_NAMES } from '@shared/domain'
import { scanProject } from '../project/scan'
import type { ScanWarm } from '../project/scanProbe'
import { assignKeeping } from '../project/split'
import { checkTrainSplit } from '../project/splitCheck'
import { readScanRecords } from '../store/scanRecords'
import type { ProjectStore } from '../store/projectStore'
import type { StoredSplit } from '../store/rows'
import type { ImageCache } from '../pipeline/imageCache'
import type { RunEventListener } from './events'
import { imageSetFor, type SplitImages } from '../pipeline/imageSets'
import type { TrainOptions } from './options'
import { effectiveImages } from '../labels/projectLabels'
import type { LabelOverride } from '../labels/types'
import { defaultStrategy, describeStrategy } from './runDefaults'

export interface PreparedData {
  projectId: number
  scan: ScanResult
  classes: string[]
  split: StoredSplit
  strategy: SplitStrategy
  assignment: Map<string, SplitName>
  /** The scanned images after the label overrides: relabelled ones keep their split with their new class, excluded ones are gone. */
  images: ScannedImage[]
  overridesUsed: LabelOverride[]
}

/** Scans `root`; files unchanged since the last stored scan are not read again (readScanRecords creates nothing). */
export async function scanStep(
  root: string,
  opts: TrainOptions,
  emit: RunEventListener,
  warm?: ScanWarm
): Promise<ScanResult> {
  emit({ type: 'stage', stage: 'scan', detail: root })
  return scanProject(root, {
    previous: opts.rescan === true ? undefined : readScanRecords(root),
    warm,
    onProgress: (done, total) => emit({ type: 'scan-progress', done, total })
  })
}

/** Stores the scan and the split (a new one only when the assignment changed). */
export function splitStep(
  store: ProjectStore,
  root: string,
  scan: ScanResult,
  opts: TrainOptions,
  emit: RunEventListener
): PreparedData {
  const projectId = store.upsertProject(root, scan.layout)
  store.saveScan(projectId, scan)

  const stored = store.getSplit(projectId)
  const strategy = opts.split === 'reuse' ? (stored?.strategy ?? defaultStrategy(scan)) : opts.split
  if (strategy.kind === 'folder' && scan.layout !== 'presplit')
    throw new Error('split: the folder split needs train/validation/test subfolders, and this folder is flat')
  const assignment = assignKeeping(scan.images, strategy, stored)
  checkTrainSplit(scan.images, assignment)
  const same =
    stored !== null &&
    JSON.stringify(stored.strategy) === JSON.stringify(strategy) &&
    stored.assignment.size === assignment.size &&
    [...assignment].every(([p, s]) => stored.assignment.get(p) === s)
  const split = same && stored ? stored : store.saveSplit(projectId, strategy, assignment)
  emit({
    type: 'stage',
    stage: 'split',
    detail: `${same ? 'reusing stored' : 'new'} split #${split.id}: ${describeStrategy(strategy, scan)}`
  })
  const labelled = effectiveImages(store, projectId, scan.images)
  if (labelled.used.length > 0) {
    emit({
      type: 'info',
      message: `label overrides: ${labelled.counts.relabelled} relabelled, ${labelled.counts.excluded} excluded`
    })
  }
  const classes = scan.classes.map((c) => c.name)
  return {
    projectId,
    scan,
    classes,
    split,
    strategy,
    assignment,
    images: labelled.images,
    overridesUsed: labelled.used
  }
}

export interface SplitSets {
  sets: Record<SplitName, SplitImages>
  counts: Record<SplitName, number>
}

/** One image set per split at the base's input size; every class must have a training image. */
export function splitSets(
  root: string,
  data: PreparedData,
  cache: ImageCache,
  size: number,
  opts: TrainOptions
): SplitSets {
  const { images, assignment, classes } = data
  const sets = Object.fromEntries(
    SPLIT_NAMES.map((s) => [s, imageSetFor(root, images, assignment, s, classes, cache, size, opts.resizeMode)])
  ) as Record<SplitName, SplitImages>
  const counts = Object.fromEntries(SPLIT_NAMES.map((s) => [s, sets[s].images.length])) as Record<SplitName, number>
  if (counts.train === 0) throw new Error('split: the train split is empty')
  for (const [i, c] of classes.entries()) {
    if (!sets.train.set.labels.includes(i)) throw new Error(`split: class '${c}' has no image in the train split`)
  }
  return { sets, counts }
}
