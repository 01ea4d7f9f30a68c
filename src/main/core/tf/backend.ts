/**
 * TF.js backend selection: best first tfjs-node-gpu (CUDA), tfjs-node (native CPU), wasm (SIMD), cpu.
 *
 * Everyone imports `@tensorflow/tfjs` as usual. tfjs-node / tfjs-node-gpu, when installed, depend on the
 * same `@tensorflow/tfjs` (pinned to the same version, so npm dedupes it) and on import they call
 * `tf.registerBackend('tensorflow', ..., 3)` and `tf.setBackend('tensorflow')`. The engine and the kernel
 * registry of tfjs-core live on `globalThis` (`_tfengine`, `kernelRegistry`), so even a second copy of
 * tfjs-core would see the same backend. After `initBackend()` resolves, plain `@tensorflow/tfjs` ops
 * therefore run on whichever backend was selected; `initBackend` checks this and records it.
 */
import * as tf from '@tensorflow/tfjs'
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, resolve } from 'node:path'
export { describeBackend } from './describeBackend'
import { loadDnnl } from '../native/dnnl'
import { registerNativeConvKernels } from './nativeConv'
import { registerNativeTrainingKernels } from './nativeTraining'
import { registerWasmGradKernels } from './wasmGradKernels'
import { useOneOpRelu6 } from './relu6Layer'

export type BackendName = 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu'
export type BackendPreference = 'auto' | BackendName

export interface SkippedBackend {
  name: BackendName
  reason: string
}

export interface BackendInfo {
  /** Which of our candidates runs. */
  name: BackendName
  /** The name tfjs-core knows the backend by (`tf.getBackend()`): 'tensorflow', 'wasm' or 'cpu'. */
  tfBackend: string
  /** wasm only: SIMD instructions in use. */
  simd?: boolean
  /** wasm only: number of threads (1 under Node: wasm threads need SharedArrayBuffer workers it cannot spawn). */
  threads?: number
  /** wasm only: the directory the .wasm binaries were loaded from. */
  wasmDir?: string
  /** wasm only: convolutions run by oneDNN (native/dnnl), with its version and thread count, or why not. */
  native?: { version: string; threads: number } | { reason: string }
  /** Better candidates that were tried and did not load, with why. */
  skipped: SkippedBackend[]
}

export interface InitBackendOptions {
  /** 'auto' (default) tries every backend best first; a name starts the chain at that backend. */
  prefer?: BackendPreference
  /** Directory holding tfjs-backend-wasm's .wasm files (overrides TUNELAB_WASM_DIR and the package). */
  wasmDir?: string
}

const CHAIN: readonly BackendName[] = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu']
const WASM_FILES = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm']

let current: BackendInfo | null = null
let currentKey: string | null = null
let pending: Promise<BackendInfo> | null = null

/** The backend chosen by the last successful initBackend(), or null before. */
export function currentBackend(): BackendInfo | null {
  return current
}

/** Number of live tensors in the tfjs engine; compare before/after a step to catch leaks. */
export function tensorCount(): number {
  return tf.memory().numTensors
}

/**
 * Directory of the wasm binaries, always ending with '/' (setWasmPaths treats it as a prefix).
 * Order: explicit argument, env TUNELAB_WASM_DIR (e.g. Electron's app.asar.unpacked/...), the installed package.
 */
export function resolveWasmDir(override?: string): string {
  const fromEnv = process.env['TUNELAB_WASM_DIR']
  let dir: string
  let source: string
  if (override) {
    dir = resolve(override)
    source = 'wasmDir option'
  } else if (fromEnv) {
    dir = resolve(fromEnv)
    source = 'TUNELAB_WASM_DIR'
  } else {
    const pkg = createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json')
    dir = join(dirname(pkg), 'dist')
    source = '@tensorflow/tfjs-backend-wasm package'
  }
  const missing = WASM_FILES.filter((f) => !existsSync(join(dir, f)))
  if (missing.length === WASM_FILES.length) {
    throw new Error(`wasm backend: no ${WASM_FILES.join(' / ')} in ${dir} (from ${source})`)
  }
  return dir.endsWith('/') ? dir : dir + '/'
}

/**
 * Select and initialise the best TF.js backend available. Idempotent: a second call with the same
 * options returns the same info without touching the engine; different options re-select.
 */
export async function initBackend(opts: InitBackendOptions = {}): Promise<BackendInfo> {
  const key = `${opts.prefer ?? 'auto'}|${opts.wasmDir ?? ''}`
  if (current && currentKey === key && tf.getBackend() === current.tfBackend) return current
  if (pending) {
    const info = await pending
    if (currentKey === key) return info
  }
  pending = select(opts)
  try {
    const info = await pending
    current = info
    currentKey = key
    return info
  } finally {
    pending = null
  }
}

async function select(opts: InitBackendOptions): Promise<BackendInfo> {
  const prefer = opts.prefer ?? 'auto'
  if (prefer !== 'auto' && !CHAIN.includes(prefer)) {
    throw new Error(`initBackend: unknown backend "${String(prefer)}" (expected auto, ${CHAIN.join(', ')})`)
  }
  const start = prefer === 'auto' ? 0 : CHAIN.indexOf(prefer)
  const skipped: SkippedBackend[] = []
  for (const name of CHAIN.slice(start)) {
    try {
      const info = await tryBackend(name, opts)
      return { ...info, skipped }
    } catch (err) {
      skipped.push({ name, reason: describe(err) })
    }
  }
  throw new Error(
    `initBackend: no TF.js backend could be initialised: ${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')}`
  )
}

type Loaded = Omit<BackendInfo, 'skipped'>

async function tryBackend(name: BackendName, opts: InitBackendOptions): Promise<Loaded> {
  switch (name) {
    case 'tensorflow-gpu':
      return loadNode('@tensorflow/tfjs-node-gpu', name)
    case 'tensorflow':
      return loadNode('@tensorflow/tfjs-node', name)
    case 'wasm':
      return loadWasm(opts.wasmDir)
    case 'cpu':
      await activate('cpu')
      return { name, tfBackend: 'cpu' }
  }
}

async function loadNode(pkg: string, name: BackendName): Promise<Loaded> {
  // tfjs-node and tfjs-node-gpu both register the backend 'tensorflow'; never load the second.
  if (!tf.findBackendFactory('tensorflow')) {
    try {
      // A variable specifier keeps bundlers and tsc from requiring the optional package to exist.
      const spec: string = pkg
      await import(/* @vite-ignore */ spec)
    } catch (err) {
      const code = (err as { code?: unknown }).code
      if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
        const msg = describe(err)
        if (msg.includes(`'${pkg}'`) || msg.includes(`"${pkg}"`) || msg.includes(pkg + '\n') || msg.endsWith(pkg)) {
          throw new Error(`${pkg}: module not installed`)
        }
      }
      throw new Error(`${pkg}: failed to load: ${describe(err)}`)
    }
  }
  if (!tf.findBackendFactory('tensorflow')) {
    throw new Error(
      `${pkg} loaded but registered no 'tensorflow' backend in the @tensorflow/tfjs engine (version mismatch?)`
    )
  }
  await activate('tensorflow')
  const backend = tf.backend() as unknown as { isGPUPackage?: boolean; isUsingGpuDevice?: boolean }
  if (name === 'tensorflow-gpu') {
    if (backend.isGPUPackage === false)
      throw new Error(`the loaded 'tensorflow' backend is the CPU package, not ${pkg}`)
    if (backend.isUsingGpuDevice === false) throw new Error(`${pkg} loaded but found no CUDA device`)
  }
  return { name, tfBackend: 'tensorflow' }
}

async function loadWasm(wasmDirOverride?: string): Promise<Loaded> {
  const wasmDir = resolveWasmDir(wasmDirOverride)
  // setWasmPaths must run before the wasm backend is first initialised; a later change has no effect.
  if (!tf.engine().registry['wasm']) setWasmPaths(wasmDir)
  registerWasmGradKernels()
  useOneOpRelu6()
  const native = useNativeConv()
  await activate('wasm')
  return {
    name: 'wasm',
    tfBackend: 'wasm',
    simd: tf.env().getBool('WASM_HAS_SIMD_SUPPORT'),
    threads: tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT') ? navigatorThreads() : 1,
    wasmDir,
    native
  }
}

let nativeRegistered = false

function useNativeConv(): NonNullable<BackendInfo['native']> {
  const load = loadDnnl()
  if (!load.addon) return { reason: load.reason }
  if (!nativeRegistered) {
    registerNativeConvKernels(load.addon)
    registerNativeTrainingKernels(load.addon)
    nativeRegistered = true
  }
  const { version, threads } = load.addon.info()
  return { version, threads }
}

function navigatorThreads(): number {
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator
  return nav?.hardwareConcurrency ?? 1
}

async function activate(tfBackend: string): Promise<void> {
  const ok = await tf.setBackend(tfBackend)
  await tf.ready()
  if (!ok || tf.getBackend() !== tfBackend) {
    throw new Error(`tf.setBackend('${tfBackend}') failed (active backend: ${tf.getBackend() ?? 'none'})`)
  }
}

function describe(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err)
  return msg.split('\n')[0] ?? msg
}
