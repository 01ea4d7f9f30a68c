// One label audit end to end: scan -> split -> base -> features (cached) -> out-of-fold probabilities -> label
// issues, near-duplicates, outliers -> SQLite. Used by the CLI `audit` command and the app's audit worker alike.
import { resolve } from 'node:path'
import type { ResizeMode, SplitName } from '@shared/domain'
import { scanProject } from '../project/scan'
import { assignKeeping } from '../project/split'
import { openProjectState } from '../store/projectState'
import { readScanRecords } from '../store/scanRecords'
import { saveAudit, type NewAudit } from '../store/auditStore'
import { initBackend, type BackendInfo, type BackendPreference } from '../tf/backend'
import type { WeightsChoice } from '../run/options'
import { defaultStrategy } from '../run/runDefaults'
import { loadAuditBase, projectFeatures, type AuditImage } from './auditFeatures'
import { outOfFoldProbabilities, stratifiedFolds } from './oof'
import { classThresholds, findLabelIssues } from './confidentLearning'
import { DEFAULT_DUPLICATE_THRESHOLD, duplicateCollector } from './nearDuplicates'
import { outlierCollector, standingOut } from './outliers'
import { forEachSimilarityBlock } from './similarity'

export interface AuditOptions {
  baseId: string
  weights: WeightsChoice
  size?: number
  resizeMode: ResizeMode
  folds: number
  seed: number
  backend?: BackendPreference
  duplicateThreshold?: number
  /** Outliers kept (the most outlying first). */
  outlierCount?: number
}

export const DEFAULT_AUDIT_OPTIONS: AuditOptions = {
  baseId: 'mobilenet_v2_1.0_160',
  weights: { kind: 'download' },
  resizeMode: 'squash',
  folds: 5,
  seed: 42,
  outlierCount: 50
}

export type AuditStage = 'scan' | 'split' | 'backend' | 'weights' | 'features' | 'folds' | 'similarity' | 'save'

export type AuditEvent =
  | { type: 'stage'; stage: AuditStage; detail: string }
  | { type: 'progress'; stage: 'scan' | 'features' | 'folds'; done: number; total: number }
  | { type: 'backend'; info: BackendInfo }
  | { type: 'info'; message: string }

export interface AuditedImage {
  imageId: number
  path: string
  split: SplitName
  className: string
}

export interface AuditOutcome {
  auditId: number
  dbPath: string
  classes: string[]
  seconds: Record<string, number>
  featuresFromDisk: number
  labelIssues: (AuditedImage & { suggested: string; score: number; selfConfidence: number })[]
  nearDuplicates: { a: AuditedImage; b: AuditedImage; similarity: number; crossSplit: boolean }[]
  outliers: (AuditedImage & { score: number })[]
}

export async function runAudit(
  rootDir: string,
  opts: AuditOptions,
  onEvent: (e: AuditEvent) => void = () => undefined,
  signal?: AbortSignal
): Promise<AuditOutcome> {
  const root = resolve(rootDir)
  const seconds: Record<string, number> = {}
  const t0 = performance.now()
  let mark = t0
  const lap = (name: string): void => {
    const now = performance.now()
    seconds[name] = (now - mark) / 1000
    mark = now
  }
  onEvent({ type: 'stage', stage: 'scan', detail: root })
  const scan = await scanProject(root, {
    previous: readScanRecords(root),
    onProgress: (done, total) => onEvent({ type: 'progress', stage: 'scan', done, total })
  })
  lap('scan')
  const state = openProjectState(root)
  const { store } = state
  try {
    const projectId = store.upsertProject(root, scan.layout)
    store.saveScan(projectId, scan)
    // The audit looks at the split training uses: the stored one, else the default that training would store.
    const stored = store.getSplit(projectId)
    const strategy = stored?.strategy ?? defaultStrategy(scan)
    // Images added or moved since the split was stored go where training would put them.
    const assignment = assignKeeping(scan.images, strategy, stored)
    const split = stored ?? store.saveSplit(projectId, strategy, assignment)
    onEvent({ type: 'stage', stage: 'split', detail: `split #${split.id}: ${JSON.stringify(split.strategy)}` })
    const classes = scan.classes.map((c) => c.name)
    if (classes.length < 2) throw new Error(`audit: needs at least 2 classes, found ${classes.length}`)

    onEvent({ type: 'stage', stage: 'backend', detail: opts.backend ?? 'auto' })
    const backend = await initBackend({ prefer: opts.backend ?? 'auto' })
    onEvent({ type: 'backend', info: backend })
    onEvent({ type: 'stage', stage: 'weights', detail: opts.baseId })
    const base = await loadAuditBase(opts.baseId, opts.size, opts.weights)
    lap('weights')

    onEvent({ type: 'stage', stage: 'features', detail: `${scan.images.length} images through ${base.spec.id}` })
    const features = await projectFeatures({
      root,
      images: scan.images,
      assignment,
      classes,
      base,
      backend,
      cacheDir: state.cacheDir,
      resizeMode: opts.resizeMode,
      signal,
      onProgress: (p) => onEvent({ type: 'progress', stage: 'features', done: p.done, total: p.total }),
      onInfo: (message) => onEvent({ type: 'info', message })
    })
    lap('features')

    // Out-of-fold probabilities over train + validation (the test split stays unseen by the audit too).
    const { images, dim } = features
    const heldIn = images.flatMap((im, i) => (im.split === 'test' ? [] : [i]))
    const rows = new Float32Array(heldIn.length * dim)
    heldIn.forEach((i, r) => rows.set(features.data.subarray(i * dim, (i + 1) * dim), r * dim))
    const labels = heldIn.map((i) => (images[i] as AuditImage).label)
    const k = classes.length
    onEvent({
      type: 'stage',
      stage: 'folds',
      detail: `${opts.folds} folds over ${heldIn.length} train + validation images`
    })
    const probs = await outOfFoldProbabilities(rows, dim, labels, k, {
      folds: opts.folds,
      seed: opts.seed,
      signal,
      onFold: (done, total) => onEvent({ type: 'progress', stage: 'folds', done, total })
    })
    const folds = stratifiedFolds(labels, opts.folds, opts.seed)
    const issues = findLabelIssues(probs, labels, k)
    lap('folds')

    onEvent({ type: 'stage', stage: 'similarity', detail: 'near-duplicates and outliers' })
    // One pass over the similarities serves both near-duplicates and outliers.
    const duplicates = duplicateCollector(images.length, {
      threshold: opts.duplicateThreshold ?? DEFAULT_DUPLICATE_THRESHOLD,
      splits: images.map((im) => im.split)
    })
    const outlying = outlierCollector(
      images.map((im) => im.label),
      k
    )
    await forEachSimilarityBlock(
      features.data,
      dim,
      (start, rows, sims) => {
        duplicates.add(start, rows, sims)
        outlying.add(start, rows, sims)
      },
      { signal }
    )
    const pairs = duplicates.result()
    const outliers = standingOut(outlying.result()).slice(0, opts.outlierCount ?? 50)
    lap('similarity')

    const idByPath = new Map(store.listImages(projectId).map((r) => [r.relPath, r.id]))
    const idOf = (im: AuditImage): number => {
      const id = idByPath.get(im.path)
      if (id === undefined) throw new Error(`internal: no stored image for ${im.path}`)
      return id
    }
    const described = (i: number): AuditedImage => {
      const im = images[i] as AuditImage
      return { imageId: idOf(im), path: im.path, split: im.split, className: im.className }
    }
    const outcome = {
      labelIssues: issues.map((x) => ({
        ...described(heldIn[x.index] as number),
        suggested: classes[x.suggested] as string,
        score: x.score,
        selfConfidence: x.selfConfidence
      })),
      nearDuplicates: pairs.map((p) => ({
        a: described(p.a),
        b: described(p.b),
        similarity: p.similarity,
        crossSplit: p.crossSplit
      })),
      outliers: outliers.map((o) => ({ ...described(o.index), score: o.score }))
    }
    onEvent({ type: 'stage', stage: 'save', detail: state.dbPath })
    const audit: NewAudit = {
      projectId,
      splitId: split.id,
      baseId: base.spec.id,
      weightsChecksum: base.weightsSource.sha256 ?? null,
      folds: opts.folds,
      classes,
      thresholds: classThresholds(probs, labels, k),
      timings: seconds,
      predictions: heldIn.map((i, r) => ({
        imageId: idOf(images[i] as AuditImage),
        fold: folds[r] as number,
        given: classes[labels[r] as number] as string,
        probabilities: Array.from(probs.subarray(r * k, (r + 1) * k), (v) => Math.round(v * 1e6) / 1e6)
      })),
      findings: [
        ...outcome.labelIssues.map((x) => ({
          kind: 'label' as const,
          imageId: x.imageId,
          suggested: x.suggested,
          score: x.score
        })),
        ...outcome.nearDuplicates.map((p) => ({
          kind: 'duplicate' as const,
          imageId: p.a.imageId,
          otherImageId: p.b.imageId,
          score: p.similarity,
          crossSplit: p.crossSplit
        })),
        ...outcome.outliers.map((o) => ({ kind: 'outlier' as const, imageId: o.imageId, score: o.score }))
      ]
    }
    lap('save')
    seconds.total = (performance.now() - t0) / 1000
    const auditId = saveAudit(store.db, audit)
    return { auditId, dbPath: state.dbPath, classes, seconds, featuresFromDisk: features.fromDisk, ...outcome }
  } finally {
    store.close()
  }
}
