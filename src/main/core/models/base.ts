import * as tf from '@tensorflow/tfjs'
import { stat } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { formatBaseId, hasPretrainedWeights, parseBaseId, type BaseFamily, type ParsedBaseId } from './baseId'
import { buildMobileNetV1, mobileNetV1OutputChannels } from './architectures/mobilenetV1'
import { buildMobileNetV2, mobileNetV2OutputChannels } from './architectures/mobilenetV2'
import { buildResNet50V2, RESNET50V2_OUTPUT_CHANNELS } from './architectures/resnet50V2'
import { defaultWeightsCacheDir, ensureCachedFile, hashFile, type DownloadProgress } from './download'
import { applyPreprocessing, pixelsToInput, TF_MODE_PREPROCESSING, type PreprocessingSpec } from './preprocessing'
import { officialWeights } from './registry'
import { assignWeightsByLayerName, type AssignReport } from './weights/assign'
import { readKerasH5 } from './weights/kerasH5'
import { readTfjsLayersWeights } from './weights/tfjsLayers'

export interface BaseSpec {
  /** Canonical id, e.g. mobilenet_v2_1.0_160. */
  id: string
  family: BaseFamily
  alpha: number
  size: number
  /** [rows, cols, channels] of the no-top feature map. */
  outputShape: [number, number, number]
  /** Name of the output layer ('out_relu', 'conv_pw_13_relu', 'post_relu'). */
  outputLayer: string
  /** Index into model.layers from which fine-tuning unfreezes by default. */
  defaultFineTuneAt: number
  /** Name of the layer at defaultFineTuneAt. */
  defaultFineTuneAtLayer: string
  /** Number of layers of the built model (InputLayer included, as Keras counts). */
  layerCount: number
  preprocessing: PreprocessingSpec
  /** Whether official Keras Applications ImageNet weights exist for this alpha and size. */
  hasPretrainedWeights: boolean
}

export type WeightsSourceKind = 'random' | 'keras-h5' | 'tfjs-layers'

export interface WeightsSource {
  kind: WeightsSourceKind
  path?: string
  sha256?: string
  /** Source layers with weights that were not part of the base (e.g. a classifier head). */
  ignoredLayers?: string[]
}

export interface BaseNetwork {
  spec: BaseSpec
  /** Input [null,size,size,3] already preprocessed; output the no-top feature map. */
  model: tf.LayersModel
  /** RGB pixels 0..255 -> model input. */
  preprocess(x: tf.Tensor4D): tf.Tensor4D
  /** RGB uint8 [count,size,size,3] -> model input (pixelsToInput: same values, one native pass when available). */
  input(pixels: Uint8Array, count: number): tf.Tensor4D
  weightsSource: WeightsSource
}

interface FamilyInfo {
  outputLayer: string
  fineTuneAt: number
  fineTuneAtLayer: string
  layerCount: number
  channels(alpha: number): number
  build(alpha: number, size: number): tf.LayersModel
  /** Spatial size of the output for an input size. */
  outSize(size: number): number
}

const halve = (s: number, times: number, round: (x: number) => number): number => {
  for (let i = 0; i < times; i++) s = round(s / 2)
  return s
}

// Layer indices are fixed by the architecture (tests check them on built models).
const FAMILIES: Readonly<Record<BaseFamily, FamilyInfo>> = {
  mobilenet_v2: {
    outputLayer: 'out_relu',
    // The TF transfer-learning tutorial's fine_tune_at = 100 (of 154).
    fineTuneAt: 100,
    fineTuneAtLayer: 'block_11_expand_relu',
    layerCount: 154,
    channels: mobileNetV2OutputChannels,
    build: buildMobileNetV2,
    outSize: (s) => halve(s, 5, Math.ceil)
  },
  mobilenet_v1: {
    outputLayer: 'conv_pw_13_relu',
    // Unfreeze the last three depthwise-separable blocks (11-13, about a quarter of the layers).
    fineTuneAt: 67,
    fineTuneAtLayer: 'conv_dw_11',
    layerCount: 86,
    channels: mobileNetV1OutputChannels,
    build: buildMobileNetV1,
    // conv1 is 'same' (ceil); the stride-2 blocks pad (0,1) then 'valid' (floor on odd sizes).
    outSize: (s) => halve(Math.ceil(s / 2), 4, Math.floor)
  },
  resnet50_v2: {
    outputLayer: 'post_relu',
    // Unfreeze stage conv5 (the last 3 residual blocks + post_bn).
    fineTuneAt: 154,
    fineTuneAtLayer: 'conv5_block1_preact_bn',
    layerCount: 190,
    channels: () => RESNET50V2_OUTPUT_CHANNELS,
    build: (_alpha, size) => buildResNet50V2(size),
    outSize: (s) => halve(s, 5, Math.ceil)
  }
}

function specOf(p: ParsedBaseId): BaseSpec {
  const f = FAMILIES[p.family]
  const out = f.outSize(p.size)
  return {
    id: formatBaseId(p),
    family: p.family,
    alpha: p.alpha,
    size: p.size,
    outputShape: [out, out, f.channels(p.alpha)],
    outputLayer: f.outputLayer,
    defaultFineTuneAt: f.fineTuneAt,
    defaultFineTuneAtLayer: f.fineTuneAtLayer,
    layerCount: f.layerCount,
    preprocessing: TF_MODE_PREPROCESSING,
    hasPretrainedWeights: hasPretrainedWeights(p)
  }
}

/** The spec of a base without building it (cheap; for UIs and validation). */
export function describeBase(id: string): BaseSpec {
  return specOf(parseBaseId(id))
}

function network(spec: BaseSpec, model: tf.LayersModel, weightsSource: WeightsSource): BaseNetwork {
  return {
    spec,
    model,
    preprocess: (x) => applyPreprocessing(x, spec.preprocessing),
    input: (pixels, count) => pixelsToInput(pixels, count, spec.size, spec.preprocessing),
    weightsSource
  }
}

/** Builds a base in code with random (Keras-default) initial weights. */
export function buildBase(id: string): BaseNetwork {
  const p = parseBaseId(id)
  const model = FAMILIES[p.family].build(p.alpha, p.size)
  return network(specOf(p), model, { kind: 'random' })
}

export type LoadWeightsOption =
  | { path: string }
  | {
      download: true
      cacheDir?: string
      onProgress?: (p: DownloadProgress) => void
      /** Replaces https://storage.googleapis.com/tensorflow/keras-applications/ (mirror, tests). */
      baseUrl?: string
      idleTimeoutMs?: number
    }

async function kindOfPath(path: string): Promise<{ kind: 'keras-h5' | 'tfjs-layers'; path: string }> {
  let s
  try {
    s = await stat(path)
  } catch {
    throw new Error(`Weights path ${path} does not exist`)
  }
  if (s.isDirectory()) {
    try {
      await stat(join(path, 'model.json'))
    } catch {
      throw new Error(`Weights folder ${path} has no model.json (expected a TF.js layers model folder)`)
    }
    return { kind: 'tfjs-layers', path }
  }
  if (basename(path) === 'model.json') return { kind: 'tfjs-layers', path: join(path, '..') }
  if (/\.(h5|hdf5|keras\.h5)$/i.test(path)) return { kind: 'keras-h5', path }
  throw new Error(`Weights file ${path}: expected a Keras .h5 file or a TF.js model folder (model.json + shards)`)
}

/**
 * Builds a base in code and loads pretrained weights into it by layer name:
 * from a Keras .h5 file or TF.js layers-model folder ({path}), or from the
 * official Keras Applications file, downloaded once into the cache ({download: true}).
 * Nothing is half-loaded: on any mismatch it throws and no model is returned.
 */
export async function loadBase(id: string, weights: LoadWeightsOption): Promise<BaseNetwork> {
  const p = parseBaseId(id)
  const spec = specOf(p)
  let source: WeightsSource
  let layerWeights
  if ('path' in weights) {
    const resolved = await kindOfPath(weights.path)
    if (resolved.kind === 'keras-h5') {
      layerWeights = (await readKerasH5(resolved.path)).weights
      source = { kind: 'keras-h5', path: resolved.path, sha256: (await hashFile(resolved.path)).sha256 }
    } else {
      layerWeights = await readTfjsLayersWeights(resolved.path)
      source = { kind: 'tfjs-layers', path: resolved.path }
    }
  } else {
    const official = officialWeights(spec.id, weights.baseUrl)
    const cached = await ensureCachedFile({
      url: official.url,
      fileName: official.fileName,
      checksum: official.checksum,
      cacheDir: weights.cacheDir ?? defaultWeightsCacheDir(),
      onProgress: weights.onProgress,
      idleTimeoutMs: weights.idleTimeoutMs
    })
    layerWeights = (await readKerasH5(cached.path)).weights
    source = { kind: 'keras-h5', path: cached.path, sha256: cached.sha256 }
  }
  const model = FAMILIES[p.family].build(p.alpha, p.size)
  let report: AssignReport
  try {
    report = assignWeightsByLayerName(model, layerWeights, source.path ?? id)
  } catch (e) {
    model.dispose()
    throw e
  }
  if (report.ignoredLayers.length > 0) source.ignoredLayers = report.ignoredLayers
  return network(spec, model, source)
}
