export type BaseFamily = 'mobilenet_v2' | 'mobilenet_v1' | 'resnet50_v2'

export const BASE_FAMILIES: readonly BaseFamily[] = ['mobilenet_v2', 'mobilenet_v1', 'resnet50_v2']

/** Width multipliers Keras Applications publishes ImageNet weights for. */
export const PRETRAINED_ALPHAS: Readonly<Record<BaseFamily, readonly number[]>> = {
  mobilenet_v2: [0.35, 0.5, 0.75, 1.0, 1.3, 1.4],
  mobilenet_v1: [0.25, 0.5, 0.75, 1.0],
  resnet50_v2: [1.0]
}

/** Input sizes Keras Applications publishes ImageNet weights for. */
export const PRETRAINED_SIZES: Readonly<Record<BaseFamily, readonly number[]>> = {
  mobilenet_v2: [96, 128, 160, 192, 224],
  mobilenet_v1: [128, 160, 192, 224],
  resnet50_v2: [224]
}

/** Keras' own lower bound on input size for these applications. */
export const MIN_INPUT_SIZE = 32
export const MAX_INPUT_SIZE = 1024

export interface ParsedBaseId {
  family: BaseFamily
  alpha: number
  size: number
}

/**
 * Parses '<family>_<alpha>_<size>' (e.g. mobilenet_v2_1.0_160, mobilenet_v1_0.25_224)
 * or 'resnet50_v2_<size>' (ResNet50V2 has no width multiplier).
 * Any size in [32, 1024] is accepted (random weights); use hasPretrainedWeights()
 * to know whether official ImageNet weights exist for it.
 */
export function parseBaseId(id: string): ParsedBaseId {
  const family = BASE_FAMILIES.find((f) => id.startsWith(`${f}_`))
  if (family === undefined) {
    throw new Error(
      `Unknown base "${id}": the family must be one of ${BASE_FAMILIES.join(', ')} (e.g. mobilenet_v2_1.0_160, mobilenet_v1_0.25_224, resnet50_v2_224)`
    )
  }
  const parts = id.slice(family.length + 1).split('_')
  let alphaText: string
  let sizeText: string
  if (family === 'resnet50_v2') {
    if (parts.length !== 1) throw new Error(`Bad base id "${id}": expected resnet50_v2_<size>, e.g. resnet50_v2_224`)
    alphaText = '1.0'
    sizeText = parts[0] ?? ''
  } else {
    if (parts.length !== 2)
      throw new Error(
        `Bad base id "${id}": expected ${family}_<alpha>_<size>, e.g. ${family}_${family === 'mobilenet_v2' ? '1.0_160' : '0.25_224'}`
      )
    alphaText = parts[0] ?? ''
    sizeText = parts[1] ?? ''
  }
  const alpha = Number(alphaText)
  const allowed = PRETRAINED_ALPHAS[family]
  if (!/^\d+(\.\d+)?$/.test(alphaText) || !allowed.includes(alpha)) {
    throw new Error(
      `Bad alpha "${alphaText}" in base id "${id}": ${family} supports alpha ${allowed.map(formatAlpha).join(', ')}`
    )
  }
  const size = Number(sizeText)
  if (!/^\d+$/.test(sizeText) || size < MIN_INPUT_SIZE || size > MAX_INPUT_SIZE) {
    throw new Error(
      `Bad input size "${sizeText}" in base id "${id}": must be an integer from ${MIN_INPUT_SIZE} to ${MAX_INPUT_SIZE} (ImageNet weights exist for ${PRETRAINED_SIZES[family].join(', ')})`
    )
  }
  return { family, alpha, size }
}

/** Canonical id, inverse of parseBaseId. */
export function formatBaseId(p: ParsedBaseId): string {
  return p.family === 'resnet50_v2' ? `resnet50_v2_${p.size}` : `${p.family}_${formatAlpha(p.alpha)}_${p.size}`
}

/** 1 -> '1.0', 0.5 -> '0.5', 0.35 -> '0.35' (the spelling Keras file names use). */
export function formatAlpha(alpha: number): string {
  return Number.isInteger(alpha) ? alpha.toFixed(1) : String(alpha)
}

export function hasPretrainedWeights(p: ParsedBaseId): boolean {
  return PRETRAINED_ALPHAS[p.family].includes(p.alpha) && PRETRAINED_SIZES[p.family].includes(p.size)
}

/** Every base id with official ImageNet weights (30 MobileNetV2, 16 MobileNet v1, 1 ResNet50V2). */
export function listPretrainedBaseIds(): string[] {
  return BASE_FAMILIES.flatMap((family) =>
    PRETRAINED_ALPHAS[family].flatMap((alpha) =>
      PRETRAINED_SIZES[family].map((size) => formatBaseId({ family, alpha, size }))
    )
  )
}
