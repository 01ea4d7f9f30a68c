// Batch prediction with an exported model, using exactly the training preprocessing stored in tunelab.json.
import * as tf from '@tensorflow/tfjs'
import { readdir, stat } from 'node:fs/promises'
import { dirname, extname, join, relative, resolve, sep } from 'node:path'
import { pixelsToInput } from '../models/preprocessing'
import { ForwardPool } from '../parallel/forwardPool'
import { IMAGE_EXTENSIONS, decodeResized } from '../pipeline/decode'
import { csvRow } from './csv'
import { writeFileAtomic } from './fsModelIO'
import type { LoadedModel } from './loadExported'

export interface PredictedFile {
  path: string
  predictedClass: string
  /** Probability of the predicted class. */
  confidence: number
  probabilities: Record<string, number>
}

export interface FailedFile {
  path: string
  error: string
}

export type FilePrediction = PredictedFile | FailedFile

export interface PredictOptions {
  /** Images per forward pass (default 32). */
  batchSize?: number
  /** Files decoded at once (default 8). */
  decodeConcurrency?: number
  onProgress?(done: number, total: number): void
  signal?: AbortSignal
  /** Run the forward passes on a pool (see createPredictPool) instead of this thread. */
  pool?: ForwardPool
}

export function isFailed(p: FilePrediction): p is FailedFile {
  return 'error' in p
}

/**
 * Class probabilities [count, classes] (binary sigmoid models give [1-p, p]) for RGB uint8 pixels
 * [count, S, S, 3], after the export's preprocessing.
 */
export async function predictPixels(
  loaded: LoadedModel,
  pixels: Uint8Array,
  count: number,
  batchSize = 32
): Promise<Float32Array> {
  const S = loaded.meta.inputSize
  const per = S * S * 3
  if (pixels.length !== count * per)
    throw new Error(`predictPixels: expected ${count}x${S}x${S}x3 = ${count * per} bytes, got ${pixels.length}`)
  const k = loaded.meta.classes.length
  const out = new Float32Array(count * k)
  for (let s = 0; s < count; s += batchSize) {
    const n = Math.min(batchSize, count - s)
    const probs = tf.tidy(() => {
      const p = loaded.model.predict(
        pixelsToInput(pixels.subarray(s * per, (s + n) * per), n, S, loaded.meta.preprocessing)
      ) as tf.Tensor2D
      return loaded.meta.activation === 'sigmoid' ? tf.concat([tf.sub(1, p), p], 1) : p
    })
    out.set(await probs.data(), s * k)
    probs.dispose()
  }
  return out
}

/** A ForwardPool (both cores) running an export's model with its preprocessing, for predictFiles({pool}). */
export async function createPredictPool(
  loaded: LoadedModel,
  opts: { workers?: number; foldBn?: boolean } = {}
): Promise<ForwardPool> {
  return ForwardPool.create({
    workers: opts.workers ?? 2,
    model: loaded.model,
    preprocessing: loaded.meta.preprocessing,
    output: 'raw',
    foldBn: opts.foldBn ?? true
  })
}

function checkPool(loaded: LoadedModel, pool: ForwardPool): void {
  const { meta } = loaded
  const i = pool.info
  const same =
    i.preprocessing.kind === meta.preprocessing.kind &&
    i.preprocessing.scale === meta.preprocessing.scale &&
    i.preprocessing.offset === meta.preprocessing.offset
  if (i.output !== 'raw' || i.inputSize !== meta.inputSize || i.outputDim !== meta.outputUnits || !same) {
    throw new Error(
      `predict: the pool does not run this export's model (pool: ${i.output} output of ${i.outputDim} at ${i.inputSize}px, preprocessing ${JSON.stringify(i.preprocessing)}; export: ${meta.outputUnits} unit(s) at ${meta.inputSize}px, preprocessing ${JSON.stringify(meta.preprocessing)})`
    )
  }
}

/** Probabilities via the pool: its raw output is the export's sigmoid/softmax output. */
async function poolProbabilities(
  loaded: LoadedModel,
  pool: ForwardPool,
  pixels: Uint8Array,
  count: number
): Promise<Float32Array> {
  const raw = await pool.run(pixels, count)
  if (loaded.meta.activation === 'softmax') return raw
  const out = new Float32Array(count * 2)
  raw.forEach((p, i) => {
    out[2 * i] = 1 - p
    out[2 * i + 1] = p
  })
  return out
}

function reasonOf(err: unknown, absPath: string): string {
  const code = (err as { code?: unknown }).code
  if (code === 'ENOENT') return 'file not found'
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied'
  if (code === 'EISDIR') return 'is a folder, not an image file'
  const msg = err instanceof Error ? err.message : String(err)
  return msg.startsWith(`${absPath}: `) ? msg.slice(absPath.length + 2) : msg
}

type Decoded = { ok: true; pixels: Uint8Array } | { ok: false; error: string }

async function decodeAll(
  paths: readonly string[],
  size: number,
  mode: LoadedModel['meta']['resizeMode'],
  concurrency: number
): Promise<Decoded[]> {
  const out = new Array<Decoded>(paths.length)
  let next = 0
  const work = async (): Promise<void> => {
    for (let i = next++; i < paths.length; i = next++) {
      const p = paths[i] as string
      try {
        out[i] = { ok: true, pixels: await decodeResized(p, size, mode) }
      } catch (err) {
        out[i] = { ok: false, error: reasonOf(err, p) }
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, paths.length) }, work))
  return out
}

/**
 * Predicts each file (absolute paths, in order). A file that cannot be read or decoded yields
 * {path, error} and the rest go on. Decoding of the next batch overlaps the current forward pass.
 */
export async function predictFiles(
  loaded: LoadedModel,
  absPaths: readonly string[],
  opts: PredictOptions = {}
): Promise<FilePrediction[]> {
  const batchSize = opts.batchSize ?? 32
  const concurrency = opts.decodeConcurrency ?? 8
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new RangeError(`batchSize: must be a positive integer, got ${batchSize}`)
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new RangeError(`decodeConcurrency: must be a positive integer, got ${concurrency}`)
  const { classes, inputSize: S, resizeMode } = loaded.meta
  const per = S * S * 3
  if (opts.pool) checkPool(loaded, opts.pool)
  const results: FilePrediction[] = []
  const batchAt = (s: number): Promise<Decoded[]> =>
    decodeAll(absPaths.slice(s, s + batchSize), S, resizeMode, concurrency)
  let pending = absPaths.length > 0 ? batchAt(0) : null
  for (let s = 0; pending; s += batchSize) {
    const decoded = await pending
    pending = s + batchSize < absPaths.length ? batchAt(s + batchSize) : null
    if (opts.signal?.aborted) {
      await pending?.catch(() => undefined)
      throw new DOMException('prediction cancelled', 'AbortError')
    }
    const okIdx = decoded.flatMap((d, i) => (d.ok ? [i] : []))
    const pixels = new Uint8Array(okIdx.length * per)
    okIdx.forEach((i, j) => pixels.set((decoded[i] as { pixels: Uint8Array }).pixels, j * per))
    const probs =
      okIdx.length === 0
        ? new Float32Array(0)
        : opts.pool
          ? await poolProbabilities(loaded, opts.pool, pixels, okIdx.length)
          : await predictPixels(loaded, pixels, okIdx.length, batchSize)
    const row = new Map(okIdx.map((i, j) => [i, j]))
    decoded.forEach((d, i) => {
      const path = absPaths[s + i] as string
      if (!d.ok) {
        results.push({ path, error: d.error })
        return
      }
      const p = probs.subarray((row.get(i) as number) * classes.length, ((row.get(i) as number) + 1) * classes.length)
      let best = 0
      for (let c = 1; c < p.length; c++) if ((p[c] as number) > (p[best] as number)) best = c
      results.push({
        path,
        predictedClass: classes[best] as string,
        confidence: p[best] as number,
        probabilities: Object.fromEntries(classes.map((c, ci) => [c, p[ci] as number]))
      })
    })
    opts.onProgress?.(results.length, absPaths.length)
  }
  return results
}

/** Image files under dir (recursive, extension in any case), sorted; hidden files and folders are skipped. */
export async function listImageFiles(dir: string): Promise<string[]> {
  const out: string[] = []
  const walk = async (d: string): Promise<void> => {
    const entries = await readdir(d, { withFileTypes: true })
    for (const e of entries) {
      if (e.name.startsWith('.')) continue
      const p = join(d, e.name)
      if (e.isDirectory()) await walk(p)
      else if (IMAGE_EXTENSIONS.has(extname(e.name).toLowerCase())) {
        if (e.isFile() || (e.isSymbolicLink() && (await stat(p).catch(() => null))?.isFile())) out.push(p)
      }
    }
  }
  await walk(dir)
  return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
}

export interface PredictFolderResult {
  csvPath: string
  total: number
  predicted: number
  failed: number
  predictions: FilePrediction[]
}

/** CSV header: path, predicted, confidence, p_<class> per class, error. */
export function csvHeader(classes: readonly string[]): string[] {
  return ['path', 'predicted', 'confidence', ...classes.map((c) => `p_${c}`), 'error']
}

/**
 * Predicts every image under dir and writes csvPath (UTF-8 with BOM, CRLF, RFC 4180 quoting):
 * path relative to dir with '/', predicted class, confidence, one probability column per class,
 * and an error column (filled, with empty predictions, for files that could not be decoded).
 * The CSV is written atomically (temp file + rename).
 */
export async function predictFolder(
  loaded: LoadedModel,
  dir: string,
  csvPath: string,
  opts: PredictOptions = {}
): Promise<PredictFolderResult> {
  const root = resolve(dir)
  const st = await stat(root).catch(() => null)
  if (!st?.isDirectory()) throw new Error(`predict: ${root} is not a folder`)
  const out = resolve(csvPath)
  const parent = await stat(dirname(out)).catch(() => null)
  if (!parent?.isDirectory()) throw new Error(`predict: cannot write ${out}: folder ${dirname(out)} does not exist`)
  const files = await listImageFiles(root)
  if (files.length === 0)
    throw new Error(
      `predict: no images in ${root} (looked for ${[...IMAGE_EXTENSIONS].join(' ')} in any case, in subfolders too)`
    )
  const predictions = await predictFiles(loaded, files, opts)
  const { classes } = loaded.meta
  let text = '\ufeff' + csvRow(csvHeader(classes))
  for (const p of predictions) {
    const rel = relative(root, p.path).split(sep).join('/')
    text += isFailed(p)
      ? csvRow([rel, '', '', ...classes.map(() => ''), p.error])
      : csvRow([
          rel,
          p.predictedClass,
          p.confidence.toFixed(6),
          ...classes.map((c) => (p.probabilities[c] as number).toFixed(6)),
          ''
        ])
  }
  await writeFileAtomic(out, text)
  const failed = predictions.filter(isFailed).length
  return { csvPath: out, total: predictions.length, predicted: predictions.length - failed, failed, predictions }
}
