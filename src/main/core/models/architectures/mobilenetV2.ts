import * as tf from '@tensorflow/tfjs'
import { add, batchNorm, channels, conv, depthwise, relu6, spatial, zeroPad } from './layers'

// Mirrors keras/src/applications/mobilenet_v2.py (include_top=False, pooling=None),
// layer for layer and name for name, so Keras weights load by layer name.

const EPS = 1e-3
const MOMENTUM = 0.999

/** Keras' _make_divisible: round to the nearest multiple of divisor, never below 90 % of v. */
export function makeDivisible(v: number, divisor: number, minValue = divisor): number {
  let newV = Math.max(minValue, Math.floor(Math.floor(v + divisor / 2) / divisor) * divisor)
  if (newV < 0.9 * v) newV += divisor
  return newV
}

/** imagenet_utils.correct_pad for a 3x3 stride-2 kernel: ((0,1),(0,1)) on even sizes, ((1,1),(1,1)) on odd. */
function correctPad(x: tf.SymbolicTensor): [[number, number], [number, number]] {
  const [h, w] = spatial(x)
  return [
    [h % 2, 1],
    [w % 2, 1]
  ]
}

function invertedResBlock(
  inputs: tf.SymbolicTensor,
  o: { expansion: number; stride: number; alpha: number; filters: number; blockId: number }
): tf.SymbolicTensor {
  const inChannels = channels(inputs)
  const pointwiseFilters = makeDivisible(Math.trunc(o.filters * o.alpha), 8)
  let x = inputs
  let prefix = `block_${o.blockId}_`
  if (o.blockId > 0) {
    x = conv(x, {
      filters: o.expansion * inChannels,
      kernel: 1,
      padding: 'same',
      useBias: false,
      name: `${prefix}expand`
    })
    x = batchNorm(x, `${prefix}expand_BN`, EPS, MOMENTUM)
    x = relu6(x, `${prefix}expand_relu`)
  } else {
    prefix = 'expanded_conv_'
  }
  if (o.stride === 2) x = zeroPad(x, correctPad(x), `${prefix}pad`)
  x = depthwise(x, { strides: o.stride, padding: o.stride === 1 ? 'same' : 'valid', name: `${prefix}depthwise` })
  x = batchNorm(x, `${prefix}depthwise_BN`, EPS, MOMENTUM)
  x = relu6(x, `${prefix}depthwise_relu`)
  x = conv(x, { filters: pointwiseFilters, kernel: 1, padding: 'same', useBias: false, name: `${prefix}project` })
  x = batchNorm(x, `${prefix}project_BN`, EPS, MOMENTUM)
  if (inChannels === pointwiseFilters && o.stride === 1) return add(inputs, x, `${prefix}add`)
  return x
}

const BLOCKS: ReadonlyArray<{ filters: number; stride: number; expansion: number }> = [
  { filters: 16, stride: 1, expansion: 1 },
  { filters: 24, stride: 2, expansion: 6 },
  { filters: 24, stride: 1, expansion: 6 },
  { filters: 32, stride: 2, expansion: 6 },
  { filters: 32, stride: 1, expansion: 6 },
  { filters: 32, stride: 1, expansion: 6 },
  { filters: 64, stride: 2, expansion: 6 },
  { filters: 64, stride: 1, expansion: 6 },
  { filters: 64, stride: 1, expansion: 6 },
  { filters: 64, stride: 1, expansion: 6 },
  { filters: 96, stride: 1, expansion: 6 },
  { filters: 96, stride: 1, expansion: 6 },
  { filters: 96, stride: 1, expansion: 6 },
  { filters: 160, stride: 2, expansion: 6 },
  { filters: 160, stride: 1, expansion: 6 },
  { filters: 160, stride: 1, expansion: 6 },
  { filters: 320, stride: 1, expansion: 6 }
]

/** Number of channels of the no-top output ('out_relu'). */
export function mobileNetV2OutputChannels(alpha: number): number {
  return alpha > 1.0 ? makeDivisible(1280 * alpha, 8) : 1280
}

/** MobileNetV2 without top; output 'out_relu'. Input: preprocessed [-1,1] RGB, [null,size,size,3]. */
export function buildMobileNetV2(alpha: number, size: number): tf.LayersModel {
  const input = tf.input({ shape: [size, size, 3], name: 'input_1' })
  let x = conv(input, {
    filters: makeDivisible(32 * alpha, 8),
    kernel: 3,
    strides: 2,
    padding: 'same',
    useBias: false,
    name: 'Conv1'
  })
  x = batchNorm(x, 'bn_Conv1', EPS, MOMENTUM)
  x = relu6(x, 'Conv1_relu')
  BLOCKS.forEach((b, blockId) => {
    x = invertedResBlock(x, { ...b, alpha, blockId })
  })
  x = conv(x, { filters: mobileNetV2OutputChannels(alpha), kernel: 1, useBias: false, name: 'Conv_1' })
  x = batchNorm(x, 'Conv_1_bn', EPS, MOMENTUM)
  x = relu6(x, 'out_relu')
  return tf.model({ inputs: input, outputs: x, name: `mobilenetv2_${alpha.toFixed(2)}_${size}` })
}
