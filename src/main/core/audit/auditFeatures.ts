// The frozen base's pooled features of every image of a project, from the same disk cache training uses.
import { SPLIT_NAMES, type ResizeMode, type ScannedImage, type SplitName } from '@shared/domain'
import { ImageCache } from '../pipeline/imageCache'
import { loadBase, buildBase, parseBaseId, formatBaseId, type BaseNetwork } from '../models'
import { extractFeatures, featureCacheKey, weightsChecksum, type FeatureProgress } from '../training/features'
import { foldBatchNorm } from '../tf/foldBatchNorm'
import type { BackendInfo } from '../tf/backend'
import type { WeightsChoice } from '../run/options'
import { createFeaturePool } from '../parallel/featurePool'
import { imageSetFor } from '../pipeline/imageSets'

export interface AuditImage extends ScannedImage {
  split: SplitName
  /** Class index into the project's classes. */
  label: number
}

export interface ProjectFeatures {
  images: AuditImage[]
  data: Float32Array
  dim: number
  fromDisk: number
}

export async function loadAuditBase(
  baseId: string,
  size: number | undefined,
  weights: WeightsChoice
): Promise<BaseNetwork> {
  const parsed = parseBaseId(baseId)
  const id = formatBaseId(size === undefined ? parsed : { ...parsed, size })
  if (weights.kind === 'random') return buildBase(id)
  if (weights.kind === 'file') return loadBase(id, { path: weights.path })
  return loadBase(id, { download: true, baseUrl: weights.baseUrl, cacheDir: weights.cacheDir })
}

/** Features of every assigned image, split by split (train, validation, test), each in path order. */
export async function projectFeatures(args: {
  root: string
  images: readonly ScannedImage[]
  assignment: ReadonlyMap<string, SplitName>
  classes: readonly string[]
  base: BaseNetwork
  backend: BackendInfo
  cacheDir: string
  resizeMode: ResizeMode
  batchSize?: number
  signal?: AbortSignal
  onProgress?(p: FeatureProgress): void
  onInfo?(message: string): void
}): Promise<ProjectFeatures> {
  const { base } = args
  const cache = new ImageCache(args.cacheDir)
  // The key training uses (featureCacheKeyOf), so an audit after a run, or a run after an audit, decodes nothing.
  const key = featureCacheKey({
    baseId: base.spec.id,
    weightsChecksum: base.weightsSource.sha256 ?? weightsChecksum(base.model),
    size: base.spec.size,
    resizeMode: args.resizeMode
  })
  const frozen = { spec: base.spec, model: foldBatchNorm(base.model), preprocess: base.preprocess, input: base.input }
  const pool = createFeaturePool(base, frozen, args.backend, args.onInfo ?? (() => undefined))
  const sets = SPLIT_NAMES.map((s) =>
    imageSetFor(args.root, args.images, args.assignment, s, args.classes, cache, base.spec.size, args.resizeMode)
  )
  const total = sets.reduce((n, s) => n + s.images.length, 0)
  const images: AuditImage[] = []
  const parts: Float32Array[] = []
  let dim = 0
  let done = 0
  let fromDisk = 0
  try {
    for (const [k, s] of sets.entries()) {
      if (s.images.length === 0) continue
      const f = await extractFeatures(frozen, s.set, {
        batchSize: args.batchSize ?? 32,
        cache: { dir: args.cacheDir, resizeMode: args.resizeMode, key },
        signal: args.signal,
        forward: pool.forward,
        onProgress: (p) => args.onProgress?.({ done: done + p.done, total, fromDisk: fromDisk + p.fromDisk })
      })
      dim = f.dim
      done += f.count
      fromDisk += f.fromDisk
      parts.push(f.data)
      s.images.forEach((im, i) =>
        images.push({ ...im, split: SPLIT_NAMES[k] as SplitName, label: s.set.labels[i] as number })
      )
    }
  } finally {
    await pool.close()
  }
  const data = new Float32Array(images.length * dim)
  let offset = 0
  for (const p of parts) {
    data.set(p, offset)
    offset += p.length
  }
  return { images, data, dim, fromDisk }
}
