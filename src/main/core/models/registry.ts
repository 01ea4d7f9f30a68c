import { formatAlpha, hasPretrainedWeights, parseBaseId, PRETRAINED_SIZES, type ParsedBaseId } from './baseId'

export interface Checksum {
  algorithm: 'sha256' | 'md5'
  value: string
  /** Where the value comes from, for the record. */
  source: string
}

export interface OfficialWeights {
  baseId: string
  fileName: string
  url: string
  /**
   * Published checksum, or null when none exists (most Keras Applications
   * files): those are "trust on first use", their sha256 is recorded at
   * download and verified on every later load.
   */
  checksum: Checksum | null
}

export const KERAS_APPLICATIONS_URL = 'https://storage.googleapis.com/tensorflow/keras-applications/'

const KNOWN_CHECKSUMS: Readonly<Record<string, Checksum>> = {
  'resnet50v2_weights_tf_dim_ordering_tf_kernels_notop.h5': {
    algorithm: 'md5',
    value: 'fac2f116257151a9d068a22e544a4917',
    source: 'keras/src/applications/resnet.py WEIGHTS_HASHES["resnet50v2"][1]'
  },
  'mobilenet_2_5_224_tf_no_top.h5': {
    algorithm: 'sha256',
    value: 'dbdb03ee2a22fd895301636cd328b234bb3a9952358f436d82f46b81e0d5b0bf',
    source: 'measured on the upstream file (TuneLab shared/data SOURCES.md)'
  }
}

const V1_ALPHA_TEXT: Readonly<Record<string, string>> = { '1.0': '1_0', '0.75': '7_5', '0.5': '5_0', '0.25': '2_5' }

function relativePath(p: ParsedBaseId): string {
  switch (p.family) {
    case 'mobilenet_v2':
      return `mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_${formatAlpha(p.alpha)}_${p.size}_no_top.h5`
    case 'mobilenet_v1':
      return `mobilenet/mobilenet_${V1_ALPHA_TEXT[formatAlpha(p.alpha)] ?? '?'}_${p.size}_tf_no_top.h5`
    case 'resnet50_v2':
      return 'resnet/resnet50v2_weights_tf_dim_ordering_tf_kernels_notop.h5'
  }
}

/**
 * The official Keras Applications no-top ImageNet weights for a base id.
 * `baseUrl` replaces the storage.googleapis.com prefix (mirrors, tests).
 */
export function officialWeights(id: string, baseUrl: string = KERAS_APPLICATIONS_URL): OfficialWeights {
  const p = parseBaseId(id)
  if (!hasPretrainedWeights(p)) {
    throw new Error(
      `No official ImageNet weights for "${id}": ${p.family} weights exist for sizes ${PRETRAINED_SIZES[p.family].join(', ')}. Use random weights (buildBase) or a weights file of your own.`
    )
  }
  const rel = relativePath(p)
  const fileName = rel.split('/').pop() ?? rel
  return {
    baseId: id,
    fileName,
    url: new URL(rel, baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`).toString(),
    checksum: KNOWN_CHECKSUMS[fileName] ?? null
  }
}
