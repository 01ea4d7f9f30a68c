// Run step 2, the network: the base with its weights (official, file or random), and the frozen copy used for
// features (BatchNorm folded into the convolutions).
import { buildBase, loadBase, parseBaseId, formatBaseId, type BaseNetwork } from '../models'
import { foldBatchNorm } from '../tf/foldBatchNorm'
import type { BaseLike } from '../training/types'
import type { RunEventListener } from './events'
import type { TrainOptions } from './options'

function resolvedBaseId(opts: TrainOptions): string {
  const parsed = parseBaseId(opts.baseId)
  return opts.size === undefined ? formatBaseId(parsed) : formatBaseId({ ...parsed, size: opts.size })
}

/** The base's input size, or null when the id is bad (prepareBase reports that). */
export function baseInputSize(opts: TrainOptions): number | null {
  try {
    return parseBaseId(resolvedBaseId(opts)).size
  } catch {
    return null
  }
}

export async function prepareBase(opts: TrainOptions, emit: RunEventListener): Promise<BaseNetwork> {
  const id = resolvedBaseId(opts)
  const w = opts.weights
  if (w.kind === 'random') {
    emit({ type: 'stage', stage: 'weights', detail: `${id} with random weights (no pretraining)` })
    return buildBase(id)
  }
  if (w.kind === 'file') {
    emit({ type: 'stage', stage: 'weights', detail: `${id} with weights from ${w.path}` })
    return loadBase(id, { path: w.path })
  }
  emit({
    type: 'stage',
    stage: 'weights',
    detail: `${id} with the official Keras ImageNet weights (downloaded once, then cached)`
  })
  return loadBase(id, {
    download: true,
    baseUrl: w.baseUrl,
    cacheDir: w.cacheDir,
    onProgress: (p) =>
      emit({ type: 'download-progress', bytes: p.bytes, total: p.total ?? null, bytesPerSecond: p.bytesPerSecond })
  })
}

/** The base with BatchNorm folded into the convolutions: same outputs, about twice as fast forward. */
export function foldedBase(base: BaseNetwork): BaseLike {
  return {
    spec: base.spec,
    model: foldBatchNorm(base.model),
    preprocess: (x) => base.preprocess(x),
    input: (px, n) => base.input(px, n)
  }
}
