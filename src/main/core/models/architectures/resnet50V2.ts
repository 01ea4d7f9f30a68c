import * as tf from '@tensorflow/tfjs'
import { add, apply, batchNorm, conv, relu, zeroPad } from './layers'

// Mirrors keras/src/applications/resnet.py ResNet(preact=True, use_bias=True)
// with resnet_v2.ResNet50V2's stack_fn (include_top=False, pooling=None).

const EPS = 1.001e-5
const MOMENTUM = 0.99

interface Counter {
  maxPool: number
}

// Keras leaves the shortcut MaxPooling2D layers unnamed; these are the names it generates.
function autoMaxPoolName(c: Counter): string {
  const name = c.maxPool === 0 ? 'max_pooling2d' : `max_pooling2d_${c.maxPool}`
  c.maxPool++
  return name
}

function residualBlockV2(
  x: tf.SymbolicTensor,
  filters: number,
  o: { stride: number; convShortcut: boolean; name: string },
  c: Counter
): tf.SymbolicTensor {
  const { name } = o
  let preact = batchNorm(x, `${name}_preact_bn`, EPS, MOMENTUM)
  preact = relu(preact, `${name}_preact_relu`)
  let shortcut: tf.SymbolicTensor
  if (o.convShortcut) {
    shortcut = conv(preact, {
      filters: 4 * filters,
      kernel: 1,
      strides: o.stride,
      useBias: true,
      name: `${name}_0_conv`
    })
  } else if (o.stride > 1) {
    shortcut = apply(tf.layers.maxPooling2d({ poolSize: 1, strides: o.stride, name: autoMaxPoolName(c) }), x)
  } else {
    shortcut = x
  }
  let y = conv(preact, { filters, kernel: 1, useBias: false, name: `${name}_1_conv` })
  y = batchNorm(y, `${name}_1_bn`, EPS, MOMENTUM)
  y = relu(y, `${name}_1_relu`)
  y = zeroPad(
    y,
    [
      [1, 1],
      [1, 1]
    ],
    `${name}_2_pad`
  )
  y = conv(y, { filters, kernel: 3, strides: o.stride, useBias: false, name: `${name}_2_conv` })
  y = batchNorm(y, `${name}_2_bn`, EPS, MOMENTUM)
  y = relu(y, `${name}_2_relu`)
  y = conv(y, { filters: 4 * filters, kernel: 1, useBias: true, name: `${name}_3_conv` })
  return add(shortcut, y, `${name}_out`)
}

function stackV2(
  x: tf.SymbolicTensor,
  filters: number,
  blocks: number,
  stride1: number,
  name: string,
  c: Counter
): tf.SymbolicTensor {
  x = residualBlockV2(x, filters, { stride: 1, convShortcut: true, name: `${name}_block1` }, c)
  for (let i = 2; i < blocks; i++)
    x = residualBlockV2(x, filters, { stride: 1, convShortcut: false, name: `${name}_block${i}` }, c)
  return residualBlockV2(x, filters, { stride: stride1, convShortcut: false, name: `${name}_block${blocks}` }, c)
}

export const RESNET50V2_OUTPUT_CHANNELS = 2048

/** ResNet50V2 without top; output 'post_relu'. Input: preprocessed [-1,1] RGB. */
export function buildResNet50V2(size: number): tf.LayersModel {
  const c: Counter = { maxPool: 0 }
  const input = tf.input({ shape: [size, size, 3], name: 'input_1' })
  let x = zeroPad(
    input,
    [
      [3, 3],
      [3, 3]
    ],
    'conv1_pad'
  )
  x = conv(x, { filters: 64, kernel: 7, strides: 2, useBias: true, name: 'conv1_conv' })
  x = zeroPad(
    x,
    [
      [1, 1],
      [1, 1]
    ],
    'pool1_pad'
  )
  x = apply(tf.layers.maxPooling2d({ poolSize: 3, strides: 2, name: 'pool1_pool' }), x)
  x = stackV2(x, 64, 3, 2, 'conv2', c)
  x = stackV2(x, 128, 4, 2, 'conv3', c)
  x = stackV2(x, 256, 6, 2, 'conv4', c)
  x = stackV2(x, 512, 3, 1, 'conv5', c)
  x = batchNorm(x, 'post_bn', EPS, MOMENTUM)
  x = relu(x, 'post_relu')
  return tf.model({ inputs: input, outputs: x, name: 'resnet50v2' })
}
