import * as tf from '@tensorflow/tfjs'
import { batchNorm, conv, depthwise, relu6, zeroPad } from './layers'

// Mirrors keras/src/applications/mobilenet.py (include_top=False, pooling=None,
// depth_multiplier=1). Keras >= 2.2 pads stride-2 depthwise blocks explicitly
// ('conv_pad_N' + 'valid'); Keras 2.0/2.1 files used 'same' without the pad
// layers. For even sizes both pad (0,1),(0,1) and give identical results, and
// the pad layers hold no weights, so both generations of weight files load.

const EPS = 1e-3
const MOMENTUM = 0.99

function depthwiseConvBlock(
  x: tf.SymbolicTensor,
  pointwiseFilters: number,
  alpha: number,
  strides: number,
  blockId: number
): tf.SymbolicTensor {
  const filters = Math.trunc(pointwiseFilters * alpha)
  if (strides !== 1)
    x = zeroPad(
      x,
      [
        [0, 1],
        [0, 1]
      ],
      `conv_pad_${blockId}`
    )
  x = depthwise(x, { strides, padding: strides === 1 ? 'same' : 'valid', name: `conv_dw_${blockId}` })
  x = batchNorm(x, `conv_dw_${blockId}_bn`, EPS, MOMENTUM)
  x = relu6(x, `conv_dw_${blockId}_relu`)
  x = conv(x, { filters, kernel: 1, padding: 'same', useBias: false, name: `conv_pw_${blockId}` })
  x = batchNorm(x, `conv_pw_${blockId}_bn`, EPS, MOMENTUM)
  return relu6(x, `conv_pw_${blockId}_relu`)
}

const BLOCKS: ReadonlyArray<[filters: number, strides: number]> = [
  [64, 1],
  [128, 2],
  [128, 1],
  [256, 2],
  [256, 1],
  [512, 2],
  [512, 1],
  [512, 1],
  [512, 1],
  [512, 1],
  [512, 1],
  [1024, 2],
  [1024, 1]
]

export function mobileNetV1OutputChannels(alpha: number): number {
  return Math.trunc(1024 * alpha)
}

/** MobileNet v1 without top; output 'conv_pw_13_relu'. Input: preprocessed [-1,1] RGB. */
export function buildMobileNetV1(alpha: number, size: number): tf.LayersModel {
  const input = tf.input({ shape: [size, size, 3], name: 'input_1' })
  let x = conv(input, {
    filters: Math.trunc(32 * alpha),
    kernel: 3,
    strides: 2,
    padding: 'same',
    useBias: false,
    name: 'conv1'
  })
  x = batchNorm(x, 'conv1_bn', EPS, MOMENTUM)
  x = relu6(x, 'conv1_relu')
  BLOCKS.forEach(([filters, strides], i) => {
    x = depthwiseConvBlock(x, filters, alpha, strides, i + 1)
  })
  return tf.model({ inputs: input, outputs: x, name: `mobilenet_${alpha.toFixed(2)}_${size}` })
}
