// Export of a completed run: TF.js (+ web page) and/or ONNX, each checked by a second runtime on the run's
// test images, with tunelab.json and a model card; written to a staging folder and moved into place at the end.
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { existsSync } from 'node:fs'
import type { SplitName } from '@shared/domain'
import type { SplitMetrics } from '../eval/types'
import { decodeResized } from '../pipeline/decode'
import { runModelDir } from '../store/runModelDir'
import type { ProjectState } from '../store/projectState'
import {
  DEFAULT_TOLERANCE,
  ExportCheckError,
  checkOnnx,
  checkTfjs,
  compareProbabilities,
  type CheckFigures,
  type CheckImages
} from './check'
import { fsReason, stageExport } from './destination'
import { writeLayersModel } from './fsModelIO'
import { imagePipeline } from './imagePipeline'
import { loadExportedModel, type LoadedModel } from './loadExported'
import { META_FILE, MODEL_FILE, WEIGHTS_FILE } from './meta'
import { modelCard } from './modelCard'
import { layersModelToOnnx } from './onnx/write'
import { OPSET } from './onnx/proto'
import { predictPixels } from './predict'
import { writeWebPage } from './webPage'

export const EXPORT_FORMATS = ['tfjs', 'onnx'] as const
export type ExportFormat = (typeof EXPORT_FORMATS)[number]
export const ONNX_FILE = 'model.onnx'
export const CARD_FILE = 'README.md'

export type ExportStage =
  | 'load'
  | 'decode'
  | 'reference'
  | 'tfjs'
  | 'tfjs-check'
  | 'page'
  | 'onnx'
  | 'onnx-check'
  | 'card'
  | 'commit'

export interface ExportProgress {
  stage: ExportStage
  detail: string
  done?: number
  total?: number
}

export interface ExportRunOptions {
  out: string
  formats: readonly ExportFormat[]
  /** Replace a previous export in `out`. */
  force?: boolean
  tolerance?: number
  /** At most this many check images (default 1000). */
  maxCheckImages?: number
  onProgress?(p: ExportProgress): void
  signal?: AbortSignal
  now?: Date
}

export interface ExportRunResult {
  dir: string
  files: string[]
  checks: CheckFigures[]
  /** Images of the check split that could not be decoded any more (skipped). */
  skippedImages: number
  /** TuneLab's predictions at export time vs those stored by the run's evaluation (informative, not a gate). */
  storedPredictions: StoredComparison | null
}

function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new DOMException('export cancelled', 'AbortError')
}

/** TuneLab's predict today vs the predictions the run stored when it evaluated (same images). */
export interface StoredComparison {
  images: number
  maxAbsDiff: number
  agreement: number
}

/** The run's test images (else validation, else train), as stored paths, with their stored probabilities. */
function checkImagePaths(
  state: ProjectState,
  runId: number,
  max: number
): { split: SplitName; paths: string[]; stored: number[][] | null } | null {
  for (const split of ['test', 'validation', 'train'] as const) {
    const rows = state.store.getPredictions(runId, { split }).flatMap((r) => {
      const img = state.store.getImage(r.imageId)
      return img ? [{ path: join(state.root, img.relPath), probabilities: r.probabilities }] : []
    })
    if (rows.length > 0) {
      const kept = rows.slice(0, max)
      return { split, paths: kept.map((r) => r.path), stored: kept.map((r) => r.probabilities) }
    }
  }
  const listed = state.store.listImages(state.project.id, { split: 'test' })
  if (listed.length > 0)
    return { split: 'test', paths: listed.slice(0, max).map((i) => join(state.root, i.relPath)), stored: null }
  return null
}

async function buildCheckImages(
  loaded: LoadedModel,
  state: ProjectState,
  runId: number,
  opts: ExportRunOptions
): Promise<{ images: CheckImages; skipped: number; stored: StoredComparison | null }> {
  const picked = checkImagePaths(state, runId, opts.maxCheckImages ?? 1000)
  if (!picked) throw new Error(`export: run #${runId} has no evaluated images to check the export on`)
  const S = loaded.meta.inputSize
  const per = S * S * 3
  const buffers: Uint8Array[] = []
  const storedRows: number[][] = []
  let skipped = 0
  for (let i = 0; i < picked.paths.length; i++) {
    checkAborted(opts.signal)
    try {
      buffers.push(await decodeResized(picked.paths[i]!, S, loaded.meta.resizeMode))
      if (picked.stored) storedRows.push(picked.stored[i]!)
    } catch {
      skipped++
    }
    if (i % 16 === 15 || i === picked.paths.length - 1)
      opts.onProgress?.({
        stage: 'decode',
        detail: `decoding the ${picked.split} images`,
        done: i + 1,
        total: picked.paths.length
      })
  }
  if (buffers.length === 0)
    throw new Error(
      `export: none of the ${picked.paths.length} ${picked.split} images of run #${runId} can be read any more`
    )
  const pixels = new Uint8Array(buffers.length * per)
  buffers.forEach((b, i) => pixels.set(b, i * per))
  opts.onProgress?.({ stage: 'reference', detail: `TuneLab's predictions for ${buffers.length} images` })
  const reference = await predictPixels(loaded, pixels, buffers.length)
  const source = `${picked.split} split${skipped > 0 ? `, ${skipped} unreadable skipped` : ''}`
  const k = loaded.meta.classes.length
  const stored =
    picked.stored && storedRows.every((r) => r.length === k)
      ? { images: storedRows.length, ...compareProbabilities(Float32Array.from(storedRows.flat()), reference, k) }
      : null
  return {
    images: { pixels, count: buffers.length, size: S, source, reference, classes: k },
    skipped,
    stored
  }
}

/** The confidence threshold the run's evaluation used for "unsure" (stored with its analyses). */
function storedThreshold(state: ProjectState, runId: number): number | null {
  for (const s of ['test', 'validation'] as const) {
    const t = asRecord(asRecord(state.store.getAnalysis(runId, `analyses:${s}`)?.payload)['unsure'])['threshold']
    if (typeof t === 'number') return t
  }
  return null
}

function asRecord(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {}
}

/** Exports run `runId` of the open project into opts.out. Nothing appears in opts.out unless every check passed. */
export async function exportRun(state: ProjectState, runId: number, opts: ExportRunOptions): Promise<ExportRunResult> {
  const formats = [...new Set(opts.formats)]
  if (formats.length === 0) throw new Error(`export: no format chosen (formats: ${EXPORT_FORMATS.join(', ')})`)
  const run = state.store.getRun(runId)
  if (!run || run.projectId !== state.project.id) throw new Error(`export: there is no run #${runId} in ${state.root}`)
  const modelDir = runModelDir(state.modelsDir, runId)
  if (run.status !== 'completed' || !existsSync(join(modelDir, META_FILE)))
    throw new Error(`export: run #${runId} has no saved model (status: ${run.status}); only completed runs keep one`)
  const tolerance = opts.tolerance ?? DEFAULT_TOLERANCE
  const staged = await stageExport(opts.out, opts.force === true)
  opts.onProgress?.({ stage: 'load', detail: `loading the model of run #${runId}` })
  const loaded = await loadExportedModel(modelDir)
  try {
    const { images, skipped, stored } = await buildCheckImages(loaded, state, runId, opts)
    const dir = staged.staging
    const files: string[] = []
    const checks: CheckFigures[] = []
    const { meta } = loaded
    const pipeline = imagePipeline(meta.resizeMode, meta.inputSize, meta.preprocessing)
    try {
      if (formats.includes('tfjs')) {
        checkAborted(opts.signal)
        opts.onProgress?.({ stage: 'tfjs', detail: 'writing model.json + weights.bin' })
        await writeLayersModel(loaded.model, dir)
        files.push(MODEL_FILE, WEIGHTS_FILE)
        opts.onProgress?.({
          stage: 'tfjs-check',
          detail: `loading the TF.js files back and running them on ${images.count} images`
        })
        checks.push(await checkTfjs(dir, meta.preprocessing, images, tolerance))
        opts.onProgress?.({ stage: 'page', detail: 'writing the web page' })
        files.push(...(await writeWebPage(dir)))
      }
      if (formats.includes('onnx')) {
        checkAborted(opts.signal)
        opts.onProgress?.({ stage: 'onnx', detail: 'converting to ONNX' })
        const onnx = layersModelToOnnx(loaded.model, {
          preprocessing: meta.preprocessing,
          output: 'probabilities',
          graphName: `tunelab_run_${runId}`,
          docString: `TuneLab run #${runId}: ${meta.classes.join(', ')}`,
          metadata: {
            classes: JSON.stringify(meta.classes),
            inputSize: String(meta.inputSize),
            resizeMode: meta.resizeMode,
            preprocessing: 'inside the model: x * scale + offset on RGB 0..255',
            base: meta.base.id,
            imagePipeline: JSON.stringify(pipeline)
          }
        })
        await writeFile(join(dir, ONNX_FILE), onnx.bytes)
        files.push(ONNX_FILE)
        opts.onProgress?.({
          stage: 'onnx-check',
          detail: `running model.onnx with ONNX Runtime on ${images.count} images`
        })
        checks.push(await checkOnnx(onnx.bytes, images, tolerance))
      }
      const failed = checks.find((c) => !c.passed)
      if (failed) throw new ExportCheckError(failed)
      checkAborted(opts.signal)
      opts.onProgress?.({ stage: 'card', detail: 'writing tunelab.json and README.md' })
      const epochs = state.store.getEpochs(runId)
      const metrics: Partial<Record<'validation' | 'test', SplitMetrics>> = {}
      for (const s of ['validation', 'test'] as const) {
        const a = state.store.getAnalysis(runId, `metrics:${s}`)
        if (a) metrics[s] = a.payload as unknown as SplitMetrics
      }
      const config = asRecord(run.config)
      const threshold =
        typeof config['unsureThreshold'] === 'number' ? config['unsureThreshold'] : storedThreshold(state, runId)
      const allFiles = [...files, META_FILE, CARD_FILE]
      const fullMeta = {
        ...meta,
        created: (opts.now ?? new Date()).toISOString(),
        modelFile: formats.includes('tfjs') ? MODEL_FILE : ONNX_FILE,
        imagePipeline: pipeline,
        onnx: formats.includes('onnx')
          ? {
              file: ONNX_FILE,
              opset: OPSET,
              input: {
                name: 'image',
                dtype: 'float32',
                shape: ['batch', meta.inputSize, meta.inputSize, 3],
                layout: 'NHWC',
                range: '0..255 RGB, preprocessing inside'
              },
              output: { name: 'probabilities', shape: ['batch', meta.classes.length] }
            }
          : null,
        confidenceThreshold: threshold,
        checks,
        storedPredictions: stored,
        files: allFiles
      }
      await writeFile(join(dir, META_FILE), JSON.stringify(fullMeta, null, 2) + '\n')
      const card = modelCard({
        meta: fullMeta,
        pipeline,
        runId,
        runName: run.name,
        weights: { source: run.weightsSource, sha256: run.weightsChecksum },
        config,
        epochs: {
          phase1: epochs.filter((e) => e.phase === 1).length,
          phase2: epochs.filter((e) => e.phase === 2).length
        },
        metrics,
        threshold,
        checks,
        stored,
        files: allFiles,
        hasOnnx: formats.includes('onnx'),
        hasTfjs: formats.includes('tfjs'),
        pageNote: formats.includes('tfjs') ? PAGE_NOTE : ''
      })
      await writeFile(join(dir, CARD_FILE), card)
      opts.onProgress?.({ stage: 'commit', detail: `moving the export into ${staged.dir}` })
      await staged.commit()
      return { dir: staged.dir, files: allFiles, checks, skippedImages: skipped, storedPredictions: stored }
    } catch (err) {
      await staged.discard()
      const code = (err as { code?: unknown }).code
      if (typeof code === 'string' && /^E[A-Z]+$/.test(code))
        throw new Error(`export: cannot write into ${staged.dir}: ${fsReason(err)}; nothing was written`)
      throw err
    }
  } catch (err) {
    await staged.discard()
    throw err
  } finally {
    loaded.model.dispose()
  }
}

/** What the card says about the web page's resize (measured by test/export/webPage.test.ts). */
export const PAGE_NOTE =
  "The web page (`index.html`) decodes the image with the browser and resizes it in JavaScript the way libvips does: shrinking with lanczos3 stretched by the factor (centre sampling, vertical pass first, 8-bit rounding after each pass), enlarging with Catmull-Rom at x * in/out - 0.5. Measured against TuneLab on 8 cats_and_dogs_filtered photos in Chromium (test/e2e/webPage.test.ts): when the photo shrinks on both sides (5 of the 8) the page's pixels are within 2/255 of sharp's and the probabilities within 1.8e-4; when a side has to grow (photos under 224 px; libvips' enlarging by non-whole factors is not reproduced) single pixels differ by up to 107/255 and the probabilities by up to 6.5e-3 (the class never changed). WebGL vs TuneLab's wasm on the same pixels: 6e-8. For TuneLab's exact numbers resize with sharp as above, or feed model.onnx pixels you resized with sharp."
