// models.* and app.*: base networks with their cached-weights state; downloads with progress events.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { ApiError, type ModelInfo } from '@shared/contract'
import { describeBase, ensureCachedFile, listPretrainedBaseIds, officialWeights } from '@core/models'
import type { PartialHandlers } from './context'

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
      // Counting needs the network built (seconds for ResNet50V2): not done on the answering thread.
      params: null,
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
      ? { name: ctx.lastBackend.name, tfBackend: ctx.lastBackend.tfBackend, simd: ctx.lastBackend.simd, threads: ctx.lastBackend.threads, skipped: ctx.lastBackend.skipped }
      : null,
    platform: process.platform,
    node: process.versions.node,
    electron: ctx.electronVersion,
    weightsCacheDir: ctx.weightsCacheDir,
    canPickFolder: ctx.pickFolder !== undefined,
    initialProject: ctx.initialProject
  }),
  'app.pickFolder': async (_req, ctx) => {
    if (!ctx.pickFolder) throw new ApiError('unsupported', 'no native folder picker in serve mode: type the folder path')
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
      onProgress: (p) => ctx.emit('models.downloadProgress', { id: spec.id, bytes: p.bytes, total: p.total, bytesPerSecond: p.bytesPerSecond, done: false })
    })
    ctx.emit('models.downloadProgress', { id: spec.id, bytes: 0, total: null, bytesPerSecond: 0, done: true })
    return { id: spec.id, path: file.path, sha256: file.sha256, fromCache: file.fromCache }
  }
}
