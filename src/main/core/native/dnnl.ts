/**
 * The native addon (native/dnnl): oneDNN convolutions plus a few plain C++ loops (OpenMP) for the training
 * step and the data pipeline. Optional: built at install time where oneDNN is installed; every caller keeps a
 * JavaScript / wasm path for when it is missing. No tfjs import here, so the data pipeline can use it too.
 */
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

/** Shapes and padding of one convolution, in the addon's terms (TF NHWC, weights HWIO or [kh, kw, in, mult]). */
export interface NativeConvParams {
  n: number
  ih: number
  iw: number
  ic: number
  oh: number
  ow: number
  oc: number
  kh: number
  kw: number
  sh: number
  sw: number
  pt: number
  pb: number
  pl: number
  pr: number
  /** 1, or ic for depthwise (oc = ic * multiplier). */
  groups: number
  /** 0 none, 1 relu, 2 relu6 (forward only). */
  act: number
}

export interface DnnlAddon {
  conv2dForward(p: NativeConvParams, x: Float32Array, w: Float32Array, bias: Float32Array | null, y: Float32Array): void
  conv2dBackwardData(p: NativeConvParams, dy: Float32Array, w: Float32Array, dx: Float32Array): void
  conv2dBackwardWeights(p: NativeConvParams, x: Float32Array, dy: Float32Array, dw: Float32Array): void
  implementations(p: NativeConvParams): { forward: string; backwardData: string; backwardWeights: string }
  affineChannels(x: Float32Array, scale: Float32Array, shift: Float32Array, y: Float32Array): void
  channelSums(dy: Float32Array, x: Float32Array, sumDy: Float32Array, sumDyX: Float32Array): void
  maskGrad(x: Float32Array, dy: Float32Array, lo: number, hi: number, loInclusive: boolean, out: Float32Array): void
  /** maskGrad (exclusive lo, inclusive hi) and the per-channel sums of its output, in one pass; absent in older builds. */
  maskGradSums?(y: Float32Array, dy: Float32Array, lo: number, hi: number, out: Float32Array, sums: Float32Array): void
  /** One pass of tfjs' Adam into new buffers (see addon.cc); absent in addons built before it existed. */
  adamUpdate?(
    w: Float32Array,
    m: Float32Array,
    v: Float32Array,
    g: Float32Array,
    wOut: Float32Array,
    mOut: Float32Array,
    vOut: Float32Array,
    beta1: number,
    oneMinusBeta1: number,
    beta2: number,
    oneMinusBeta2: number,
    c1: number,
    c2: number,
    epsilon: number,
    negLr: number
  ): void
  /** count images: coefficients has 6 per image (see warpCoefficients), NaN first for a plain copy. */
  warpAffineBatch(src: Uint8Array, dst: Uint8Array, size: number, coefficients: Float64Array): void
  /** dst[i] = float(src[i]) * scale + offset, in float32 (scale, offset already float32 values). */
  pixelsToFloat(src: Uint8Array, dst: Float32Array, scale: number, offset: number): void
  setThreads(n: number): void
  info(): { version: string; threads: number; isa: number; cachedPrimitives: number }
}

export type NativeLoad = { addon: DnnlAddon; path: string } | { addon: null; reason: string }

const ADDON_FILE = join('native', 'dnnl', 'build', 'Release', 'tunelab_dnnl.node')
let loaded: NativeLoad | null = null

/** Where the addon may be: env TUNELAB_DNNL_ADDON, else native/dnnl/build under the working dir or above this file. */
export function addonCandidates(env: NodeJS.ProcessEnv = process.env): string[] {
  if (env['TUNELAB_DNNL_ADDON']) return [resolve(env['TUNELAB_DNNL_ADDON'])]
  const here = dirname(fileURLToPath(import.meta.url))
  // Electron, packaged: the addon ships unpacked under the app's resources folder.
  const resources = (process as { resourcesPath?: string }).resourcesPath
  const dirs = [
    process.cwd(),
    ...[1, 2, 3, 4, 5].map((up) => resolve(here, ...Array<string>(up).fill('..'))),
    ...(resources ? [resources] : [])
  ]
  return [...new Set(dirs.map((d) => join(d, ADDON_FILE)))]
}

/**
 * Load the oneDNN addon once. TUNELAB_NATIVE=0 turns it off (pure wasm). Never throws: a missing or broken
 * addon is a reason, and the wasm kernels stay.
 */
export function loadDnnl(env: NodeJS.ProcessEnv = process.env): NativeLoad {
  if (loaded) return loaded
  if (env['TUNELAB_NATIVE'] === '0') return (loaded = { addon: null, reason: 'turned off (TUNELAB_NATIVE=0)' })
  const candidates = addonCandidates(env)
  const path = candidates.find((p) => existsSync(p))
  if (!path) return (loaded = { addon: null, reason: `not built (no ${candidates[0]}; see README, "How it is fast")` })
  try {
    const addon = createRequire(import.meta.url)(path) as DnnlAddon
    const threads = Number(env['TUNELAB_NATIVE_THREADS'])
    if (Number.isInteger(threads) && threads > 0) addon.setThreads(threads)
    return (loaded = { addon, path })
  } catch (err) {
    return (loaded = {
      addon: null,
      reason: `${path} failed to load: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`
    })
  }
}
