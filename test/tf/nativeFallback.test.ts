import * as tf from '@tensorflow/tfjs'
import { describe, expect, it, vi } from 'vitest'
import { initBackend } from '@core/tf/backend'
import type { DnnlAddon } from '@core/native/dnnl'
import { registerNativeConvKernels } from '@core/tf/nativeConv'
import { randomTensor, relErr } from '@test/helpers/tf'

// Own process (one per test file): start on plain wasm, then put a oneDNN addon that always fails in front.
process.env['TUNELAB_NATIVE'] = '0'

function failingAddon(): DnnlAddon & { calls: number } {
  const fail = (): never => {
    addon.calls++
    throw new Error('oneDNN: could not create a primitive descriptor iterator')
  }
  const addon = {
    calls: 0,
    conv2dForward: fail,
    conv2dBackwardData: fail,
    conv2dBackwardWeights: fail,
    implementations: fail,
    affineChannels: fail,
    channelSums: fail,
    maskGrad: fail,
    adamUpdate: fail,
    maskGradSums: fail,
    warpAffineBatch: fail,
    pixelsToFloat: fail,
    setThreads: () => undefined,
    info: () => ({ version: '0.0.0', threads: 1, isa: 0, cachedPrimitives: 0 })
  }
  return addon
}

describe('a failing oneDNN kernel', () => {
  it('falls back to the wasm kernel, frees what it allocated, and warns once', async () => {
    const info = await initBackend({ prefer: 'wasm' })
    expect(info.native).toEqual({ reason: 'turned off (TUNELAB_NATIVE=0)' })
    const x = randomTensor([2, 6, 6, 3], 1) as tf.Tensor4D
    const f = randomTensor([3, 3, 3, 4], 2) as tf.Tensor4D
    const want = tf.conv2d(x, f, 1, 'same').dataSync()

    const addon = failingAddon()
    registerNativeConvKernels(addon)
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined)
    const before = tf.memory()
    const buffersBefore = tf.backend().numDataIds()
    for (let i = 0; i < 3; i++) {
      const y = tf.conv2d(x, f, 1, 'same')
      expect(relErr(y.dataSync(), want)).toBe(0)
      y.dispose()
    }
    expect(addon.calls).toBe(3) // the native kernel was tried each time
    expect(tf.memory().numTensors).toBe(before.numTensors)
    expect(tf.memory().numBytes).toBe(before.numBytes)
    expect(tf.backend().numDataIds()).toBe(buffersBefore) // the outputs made before the failure were freed
    expect(warn).toHaveBeenCalledTimes(1)
    expect(String(warn.mock.calls[0]![0])).toMatch(
      /oneDNN Conv2D failed, using the wasm kernel instead: oneDNN: could not create/
    )
    warn.mockRestore()
    tf.dispose([x, f])
  })
})
