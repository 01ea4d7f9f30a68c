// models.* and app.*: base networks with their cached-weights state; downloads with progress events.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { ApiError, type ModelInfo } from '@shared/contract'
import { describeBase, ensureCachedFile, listPretrainedBaseIds, officialWeights } from '@core/models'
import type { PartialHandlers } from './context'

/**
 * Parameters of each no-top base, by family and alpha (they do not depend on the input size). Counting them means
 * building the network (up to 4 s for ResNet50V2), too slow for the answering thread, so they were counted once with
 * buildBase(...).model.countParams(); test/ipc/modelParams.test.ts rebuilds the cheap ones and checks this table.
 * MobileNetV2 1.0 matches the TF tutorial's 2,257,984; ResNet50V2 Keras' 23,564,800.
 */
export const BASE_PARAMS: Readonly<Record<string, number>> = {
  'mobilenet_v2_0.35': 410_208,
  'mobilenet_v2_0.5': 706_224,
  'mobilenet_v2_0.75': 1_382_064,
  mobilenet_v2_1: 2_257_984,
  'mobilenet_v2_1.3': 3_766_048,
  'mobilenet_v2_1.4': 4_363_712,
  'mobilenet_v1_0.25': 218_544,
  'mobilenet_v1_0.5': 829_536,
  'mobilenet_v1_0.75': 1_832_976,
  mobilenet_v1_1: 3_228_864,
  resnet50_v2_1: 23_564_800
}

export function baseParams(family: string, alpha: number): number | null {
  return BASE_PARAMS[`${family}_${alpha}`] ?? null
}

export function listModels(cacheDir: string): ModelInfo[] {
  return listPretrainedBaseIds().map((id) => {
    const spec = describeBase(id)
    const w = spec.hasPretrainedWeights ? officialWeights(id) : null
    return {
      id: spec.id,
      family: spec.family,
      alpha: spec.alpha,
      size: spec.size,
      layers: spec.layerCount,
      params: baseParams(spec.family, spec.alpha),
      outputShape: spec.outputShape,
      defaultFineTuneAt: spec.defaultFineTuneAt,
      defaultFineTuneAtLayer: spec.defaultFineTuneAtLayer,
      weightsFile: w?.fileName ?? null,
      weightsCached: w !== null && existsSync(join(cacheDir, w.fileName)),
      weightsUrl: w?.url ?? null
    }
  })
}

export const modelHandlers: PartialHandlers<'app.info' | 'app.pickFolder' | 'models.list' | 'models.download'> = {
  'app.info': async (_req, ctx) => ({
    version: ctx.version,
    transport: ctx.transport,
    backend: ctx.lastBackend
      ? {
          name: ctx.lastBackend.name,
          tfBackend: ctx.lastBackend.tfBackend,
          simd: ctx.lastBackend.simd,
          threads: ctx.lastBackend.threads,
          skipped: ctx.lastBackend.skipped
        }
      : null,
    platform: process.platform,
    node: process.versions.node,
    electron: ctx.electronVersion,
    weightsCacheDir: ctx.weightsCacheDir,
    canPickFolder: ctx.pickFolder !== undefined,
    initialProject: ctx.initialProject
  }),
  'app.pickFolder': async (_req, ctx) => {
    if (!ctx.pickFolder)
      throw new ApiError('unsupported', 'no native folder picker in serve mode: type the folder path')
    return { path: await ctx.pickFolder() }
  },
  'models.list': async (_req, ctx) => ({ models: listModels(ctx.weightsCacheDir) }),
  'models.download': async ({ id }, ctx) => {
    let spec
    try {
      spec = describeBase(id)
    } catch (err) {
      throw new ApiError('bad-input', (err as Error).message)
    }
    if (!spec.hasPretrainedWeights) throw new ApiError('bad-input', `no official ImageNet weights exist for ${spec.id}`)
    const w = officialWeights(spec.id)
    const file = await ensureCachedFile({
      url: w.url,
      fileName: w.fileName,
      checksum: w.checksum,
      cacheDir: ctx.weightsCacheDir,
      onProgress: (p) =>
        ctx.emit('models.downloadProgress', {
          id: spec.id,
          bytes: p.bytes,
          total: p.total,
          bytesPerSecond: p.bytesPerSecond,
          done: false
        })
    })
    ctx.emit('models.downloadProgress', { id: spec.id, bytes: 0, total: null, bytesPerSecond: 0, done: true })
    return { id: spec.id, path: file.path, sha256: file.sha256, fromCache: file.fromCache }
  }
}
