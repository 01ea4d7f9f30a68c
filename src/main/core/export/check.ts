// The export's second-runtime check: the written files, run by another runtime (ONNX Runtime, or TF.js loading
// them back from disk), must give TuneLab's probabilities on the run's test images.
import * as tf from '@tensorflow/tfjs'
import { fileSystemModelLoader } from './fsModelIO'
import { ONNX_INPUT, ONNX_PROBABILITIES } from './onnx/write'
import type { PreprocessingSpec } from '../models/preprocessing'
import { pixelsToInput } from '../models/preprocessing'

/** Default bound on |p_export - p_tunelab| for every class of every checked image. */
export const DEFAULT_TOLERANCE = 1e-4

export interface CheckImages {
  /** RGB uint8 [count, S, S, 3], decoded and resized exactly as TuneLab does. */
  pixels: Uint8Array
  count: number
  size: number
  /** Which images: e.g. 'test split (200 images)'. */
  source: string
  /** TuneLab's probabilities [count, classes] for the same pixels. */
  reference: Float32Array
  classes: number
}

export interface CheckFigures {
  format: 'onnx' | 'tfjs'
  runtime: string
  images: number
  source: string
  /** max over images and classes of |p_export - p_tunelab|. */
  maxAbsDiff: number
  /** Fraction of images whose predicted class (argmax) is the same. */
  agreement: number
  tolerance: number
  passed: boolean
}

export class ExportCheckError extends Error {
  constructor(readonly figures: CheckFigures) {
    super(
      `export check failed: ${figures.runtime} gives probabilities up to ${figures.maxAbsDiff.toExponential(2)} away from TuneLab's (tolerance ${figures.tolerance.toExponential(0)}) and agrees on ${(figures.agreement * 100).toFixed(1)} % of the ${figures.images} images of the ${figures.source}; nothing was written`
    )
    this.name = 'ExportCheckError'
  }
}

function argmax(p: Float32Array, from: number, k: number): number {
  let best = 0
  for (let c = 1; c < k; c++) if (p[from + c]! > p[from + best]!) best = c
  return best
}

/** Max abs difference and class agreement of two [count, k] probability arrays. */
export function compareProbabilities(
  reference: Float32Array,
  got: Float32Array,
  k: number
): { maxAbsDiff: number; agreement: number } {
  if (reference.length !== got.length)
    throw new Error(`export check: ${got.length} probabilities for ${reference.length} expected`)
  const n = reference.length / k
  let maxAbsDiff = 0
  let same = 0
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < k; c++) {
      const d = Math.abs(reference[i * k + c]! - got[i * k + c]!)
      maxAbsDiff = Number.isNaN(d) ? Infinity : Math.max(maxAbsDiff, d)
    }
    if (argmax(reference, i * k, k) === argmax(got, i * k, k)) same++
  }
  return { maxAbsDiff, agreement: n === 0 ? 1 : same / n }
}

function figures(
  format: CheckFigures['format'],
  runtime: string,
  images: CheckImages,
  got: Float32Array,
  tolerance: number
): CheckFigures {
  const { maxAbsDiff, agreement } = compareProbabilities(images.reference, got, images.classes)
  return {
    format,
    runtime,
    images: images.count,
    source: images.source,
    maxAbsDiff,
    agreement,
    tolerance,
    passed: maxAbsDiff <= tolerance && agreement === 1
  }
}

/** Runs the ONNX file (bytes) with onnxruntime-node on the check images. */
export async function checkOnnx(
  model: Uint8Array,
  images: CheckImages,
  tolerance = DEFAULT_TOLERANCE,
  batchSize = 32
): Promise<CheckFigures> {
  // Loaded on first use: a native library the app's start-up (Electron main, serve mode) must not depend on.
  const ort = await import('onnxruntime-node')
  const session = await ort.InferenceSession.create(model, { graphOptimizationLevel: 'all', intraOpNumThreads: 2 })
  try {
    const S = images.size
    const per = S * S * 3
    const out = new Float32Array(images.count * images.classes)
    for (let s = 0; s < images.count; s += batchSize) {
      const n = Math.min(batchSize, images.count - s)
      const x = Float32Array.from(images.pixels.subarray(s * per, (s + n) * per))
      const r = await session.run({ [ONNX_INPUT]: new ort.Tensor('float32', x, [n, S, S, 3]) })
      const p = r[ONNX_PROBABILITIES]
      if (!p) throw new Error(`export check: the ONNX model has no '${ONNX_PROBABILITIES}' output`)
      out.set(p.data as Float32Array, s * images.classes)
    }
    return figures('onnx', `onnxruntime-node ${ort.env.versions.common} (CPU)`, images, out, tolerance)
  } finally {
    await session.release()
  }
}

/** Loads the written TF.js files back with tf.loadLayersModel and runs them on the check images. */
export async function checkTfjs(
  dir: string,
  preprocessing: PreprocessingSpec,
  images: CheckImages,
  tolerance = DEFAULT_TOLERANCE,
  batchSize = 32
): Promise<CheckFigures> {
  const model = await tf.loadLayersModel(fileSystemModelLoader(dir))
  try {
    const S = images.size
    const per = S * S * 3
    const k = images.classes
    const out = new Float32Array(images.count * k)
    for (let s = 0; s < images.count; s += batchSize) {
      const n = Math.min(batchSize, images.count - s)
      const probs = tf.tidy(() => {
        const p = model.predict(
          pixelsToInput(images.pixels.subarray(s * per, (s + n) * per), n, S, preprocessing)
        ) as tf.Tensor2D
        return p.shape[1] === 1 ? tf.concat([tf.sub(1, p), p], 1) : p
      })
      out.set(await probs.data(), s * k)
      probs.dispose()
    }
    return figures('tfjs', `TF.js ${tf.version_core} tf.loadLayersModel (${tf.getBackend()})`, images, out, tolerance)
  } finally {
    model.dispose()
  }
}
