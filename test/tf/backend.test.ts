import * as tf from '@tensorflow/tfjs'
import { createRequire } from 'node:module'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { currentBackend, initBackend, resolveWasmDir, tensorCount } from '@core/tf/backend'

function installed(pkg: string): boolean {
  try {
    createRequire(import.meta.url).resolve(`${pkg}/package.json`)
    return true
  } catch {
    return false
  }
}

describe('initBackend', () => {
  it('auto picks the best backend that loads and says why each better one did not', async () => {
    const info = await initBackend()
    const chain = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const
    expect(tf.getBackend()).toBe(info.tfBackend)
    expect(info.name).not.toBe('cpu') // wasm always ships with the app
    const better = chain.slice(0, chain.indexOf(info.name))
    expect(info.skipped.map((s) => s.name)).toEqual(better)
    for (const s of info.skipped) expect(s.reason.length).toBeGreaterThan(5)
    if (!installed('@tensorflow/tfjs-node-gpu')) {
      expect(info.skipped.find((s) => s.name === 'tensorflow-gpu')?.reason).toMatch(
        /tfjs-node-gpu: module not installed/
      )
    }
    if (info.name === 'wasm') {
      expect(info.simd).toBe(true)
      expect(info.threads).toBe(1)
      expect(info.wasmDir?.endsWith('/')).toBe(true)
    }
    expect(currentBackend()).toEqual(info)
  })

  it('is idempotent and the wasm gradient kernels are registered once wasm runs', async () => {
    const a = await initBackend({ prefer: 'wasm' })
    const b = await initBackend({ prefer: 'wasm' })
    expect(b).toBe(a)
    expect(a.name).toBe('wasm')
    expect(a.skipped).toEqual([])
    for (const k of [
      'Conv2DBackpropFilter',
      'DepthwiseConv2dNativeBackpropFilter',
      'DepthwiseConv2dNativeBackpropInput'
    ]) {
      expect(tf.getKernel(k, 'wasm'), k).toBeDefined()
    }
  })

  it("prefer: 'cpu' runs the pure-JS backend and switching back to wasm works", async () => {
    const cpu = await initBackend({ prefer: 'cpu' })
    expect(cpu).toMatchObject({ name: 'cpu', tfBackend: 'cpu', skipped: [] })
    expect(tf.getBackend()).toBe('cpu')
    const wasm = await initBackend({ prefer: 'wasm' })
    expect(wasm.name).toBe('wasm')
    expect(tf.getBackend()).toBe('wasm')
  })

  it('rejects an unknown backend name', async () => {
    await expect(initBackend({ prefer: 'webgpu' as never })).rejects.toThrow(/unknown backend "webgpu"/)
  })

  it('tensorCount follows tf.memory()', async () => {
    await initBackend({ prefer: 'wasm' })
    const before = tensorCount()
    const t = tf.ones([2, 2])
    expect(tensorCount()).toBe(before + 1)
    t.dispose()
    expect(tensorCount()).toBe(before)
  })
})

describe('resolveWasmDir', () => {
  it('defaults to the package dist folder, with the trailing slash setWasmPaths needs', () => {
    const dir = resolveWasmDir()
    expect(dir).toMatch(/tfjs-backend-wasm\/dist\/$/)
  })

  it('names the folder when an override holds no .wasm files', () => {
    const empty = mkdtempSync(join(tmpdir(), 'tunelab-wasm-'))
    expect(() => resolveWasmDir(empty)).toThrow(
      new RegExp(`no tfjs-backend-wasm.wasm .* in ${empty} \\(from wasmDir option\\)`)
    )
  })

  it('honours TUNELAB_WASM_DIR', () => {
    const empty = mkdtempSync(join(tmpdir(), 'tunelab-wasm-'))
    const saved = process.env['TUNELAB_WASM_DIR']
    process.env['TUNELAB_WASM_DIR'] = empty
    try {
      expect(() => resolveWasmDir()).toThrow(/from TUNELAB_WASM_DIR/)
    } finally {
      if (saved === undefined) delete process.env['TUNELAB_WASM_DIR']
      else process.env['TUNELAB_WASM_DIR'] = saved
    }
  })
})
