import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  buildBase,
  describeBase,
  formatBaseId,
  parseBaseId,
  applyPreprocessing,
  TF_MODE_PREPROCESSING,
  preprocessPixel
} from '@core/models'
import { makeDivisible } from '@core/models/architectures/mobilenetV2'
import { useWasm } from '@test/helpers/wasm'

beforeAll(useWasm)

function weightNames(m: tf.LayersModel): string[] {
  return m.layers.filter((l) => l.weights.length > 0).map((l) => l.name)
}

describe('parseBaseId', () => {
  it('parses the documented ids', () => {
    expect(parseBaseId('mobilenet_v2_1.0_160')).toEqual({ family: 'mobilenet_v2', alpha: 1, size: 160 })
    expect(parseBaseId('mobilenet_v2_0.35_224')).toEqual({ family: 'mobilenet_v2', alpha: 0.35, size: 224 })
    expect(parseBaseId('mobilenet_v1_0.25_224')).toEqual({ family: 'mobilenet_v1', alpha: 0.25, size: 224 })
    expect(parseBaseId('resnet50_v2_224')).toEqual({ family: 'resnet50_v2', alpha: 1, size: 224 })
    expect(parseBaseId('mobilenet_v2_1.4_33').size).toBe(33)
    expect(formatBaseId(parseBaseId('mobilenet_v2_1_160'))).toBe('mobilenet_v2_1.0_160')
  })
  it('rejects unknown family, alpha and size with specific messages', () => {
    expect(() => parseBaseId('efficientnet_b0_224')).toThrow(
      /Unknown base "efficientnet_b0_224".*mobilenet_v2, mobilenet_v1, resnet50_v2/
    )
    expect(() => parseBaseId('mobilenet_v1_0.35_224')).toThrow(
      /Bad alpha "0.35".*mobilenet_v1 supports alpha 0.25, 0.5, 0.75, 1.0/
    )
    expect(() => parseBaseId('mobilenet_v2_1.0_16')).toThrow(/Bad input size "16".*32 to 1024/)
    expect(() => parseBaseId('mobilenet_v2_1.0_abc')).toThrow(/Bad input size "abc"/)
    expect(() => parseBaseId('mobilenet_v2_160')).toThrow(/expected mobilenet_v2_<alpha>_<size>/)
    expect(() => parseBaseId('resnet50_v2_1.0_224')).toThrow(/expected resnet50_v2_<size>/)
  })
})

describe('preprocessing', () => {
  it("is Keras 'tf' mode: x / 127.5 - 1, as a function and a descriptor", () => {
    expect(TF_MODE_PREPROCESSING).toEqual({ kind: 'scale', scale: 1 / 127.5, offset: -1 })
    const y = applyPreprocessing(tf.tensor4d([0, 127.5, 255], [1, 1, 1, 3]), TF_MODE_PREPROCESSING)
    expect(Array.from(y.dataSync())).toEqual([-1, 0, 1])
    expect(preprocessPixel(255, describeBase('resnet50_v2_224').preprocessing)).toBe(1)
  })
})

describe('MobileNetV2', () => {
  it('_make_divisible matches Keras', () => {
    expect(makeDivisible(32 * 0.35, 8)).toBe(16)
    expect(makeDivisible(16 * 0.35, 8)).toBe(8)
    expect(makeDivisible(1280 * 1.3, 8)).toBe(1664)
    expect(makeDivisible(24 * 0.75, 8)).toBe(24)
  })
  it('1.0 at 160: 154 layers, 2,257,984 params, 5x5x1280, Keras names in order', () => {
    const b = buildBase('mobilenet_v2_1.0_160')
    const m = b.model
    expect(m.layers.length).toBe(154)
    expect(m.countParams()).toBe(2_257_984)
    expect(m.outputs[0]?.shape).toEqual([null, 5, 5, 1280])
    expect(b.spec.outputShape).toEqual([5, 5, 1280])
    expect(m.layers.slice(0, 9).map((l) => l.name)).toEqual([
      'input_1',
      'Conv1',
      'bn_Conv1',
      'Conv1_relu',
      'expanded_conv_depthwise',
      'expanded_conv_depthwise_BN',
      'expanded_conv_depthwise_relu',
      'expanded_conv_project',
      'expanded_conv_project_BN'
    ])
    expect(m.layers.slice(-3).map((l) => l.name)).toEqual(['Conv_1', 'Conv_1_bn', 'out_relu'])
    expect(m.getLayer('block_1_pad').getClassName()).toBe('ZeroPadding2D')
    expect(m.getLayer('block_16_project_BN').getConfig()).toMatchObject({ epsilon: 1e-3, momentum: 0.999 })
    expect(m.layers[b.spec.defaultFineTuneAt]?.name).toBe(b.spec.defaultFineTuneAtLayer)
    expect(b.spec.defaultFineTuneAt).toBe(100)
    expect(b.spec.layerCount).toBe(154)
    m.dispose()
  })
  it.each([
    ['mobilenet_v2_0.35_224', 410_208, [7, 7, 1280]],
    ['mobilenet_v2_1.4_224', 4_363_712, [7, 7, 1792]],
    ['mobilenet_v2_0.5_97', null, [4, 4, 1280]]
  ] as const)('%s: params and output shape agree with the spec', (id, params, shape) => {
    const b = buildBase(id)
    if (params !== null) expect(b.model.countParams()).toBe(params)
    expect(b.model.outputs[0]?.shape.slice(1)).toEqual([...shape])
    expect(b.spec.outputShape).toEqual([...shape])
    b.model.dispose()
  })
})

describe('MobileNet v1', () => {
  it('0.25 at 224: 218,544 params, 7x7x256, conv1 ... conv_pw_13_relu', () => {
    const b = buildBase('mobilenet_v1_0.25_224')
    const m = b.model
    expect(m.countParams()).toBe(218_544)
    expect(m.outputs[0]?.shape).toEqual([null, 7, 7, 256])
    expect(b.spec.outputShape).toEqual([7, 7, 256])
    expect(m.layers.at(-1)?.name).toBe('conv_pw_13_relu')
    expect(weightNames(m).slice(0, 5)).toEqual(['conv1', 'conv1_bn', 'conv_dw_1', 'conv_dw_1_bn', 'conv_pw_1'])
    expect(m.layers.filter((l) => l.name.startsWith('conv_pad_')).map((l) => l.name)).toEqual([
      'conv_pad_2',
      'conv_pad_4',
      'conv_pad_6',
      'conv_pad_12'
    ])
    expect(m.layers[b.spec.defaultFineTuneAt]?.name).toBe(b.spec.defaultFineTuneAtLayer)
    expect(m.layers.length).toBe(b.spec.layerCount)
    m.dispose()
  })
  it.each([
    ['mobilenet_v1_1.0_224', 3_228_864, [7, 7, 1024]],
    ['mobilenet_v1_0.5_97', null, [3, 3, 512]]
  ] as const)('%s: params and output shape agree with the spec', (id, params, shape) => {
    const b = buildBase(id)
    if (params !== null) expect(b.model.countParams()).toBe(params)
    expect(b.model.outputs[0]?.shape.slice(1)).toEqual([...shape])
    expect(b.spec.outputShape).toEqual([...shape])
    b.model.dispose()
  })
  it('runs a forward pass on wasm with the right shape and range', () => {
    const b = buildBase('mobilenet_v1_0.25_96')
    const y = tf.tidy(() => b.model.predict(b.preprocess(tf.fill([2, 96, 96, 3], 200) as tf.Tensor4D)) as tf.Tensor)
    expect(y.shape).toEqual([2, 3, 3, 256])
    const v = y.dataSync()
    expect(Math.min(...v)).toBeGreaterThanOrEqual(0)
    expect(Math.max(...v)).toBeLessThanOrEqual(6)
    y.dispose()
    b.model.dispose()
  })
})

describe('ResNet50V2', () => {
  it('224: 190 layers, 23,564,800 params, 7x7x2048, conv1_pad ... post_relu', () => {
    const b = buildBase('resnet50_v2_224')
    const m = b.model
    expect(m.countParams()).toBe(23_564_800)
    expect(m.layers.length).toBe(190)
    expect(m.outputs[0]?.shape).toEqual([null, 7, 7, 2048])
    expect(b.spec.outputShape).toEqual([7, 7, 2048])
    expect(m.layers.slice(0, 7).map((l) => l.name)).toEqual([
      'input_1',
      'conv1_pad',
      'conv1_conv',
      'pool1_pad',
      'pool1_pool',
      'conv2_block1_preact_bn',
      'conv2_block1_preact_relu'
    ])
    expect(m.layers.slice(-2).map((l) => l.name)).toEqual(['post_bn', 'post_relu'])
    expect(m.getLayer('conv4_block6_out').getClassName()).toBe('Add')
    expect(m.getLayer('conv3_block1_0_conv').weights.map((w) => w.originalName)).toEqual([
      'conv3_block1_0_conv/kernel',
      'conv3_block1_0_conv/bias'
    ])
    expect(m.getLayer('conv3_block1_1_conv').weights.length).toBe(1)
    expect(m.getLayer('post_bn').getConfig()).toMatchObject({ epsilon: 1.001e-5 })
    expect(m.layers[b.spec.defaultFineTuneAt]?.name).toBe(b.spec.defaultFineTuneAtLayer)
    m.dispose()
  })
})
