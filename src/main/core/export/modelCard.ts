// README.md of an export: what the model is, how it was trained and checked, and how to run it elsewhere.
import type { SplitMetrics } from '../eval/types'
import type { CheckFigures } from './check'
import type { ImagePipeline } from './imagePipeline'
import type { ExportMeta } from './meta'

export interface ModelCardInput {
  meta: ExportMeta
  pipeline: ImagePipeline
  runId: number
  runName: string | null
  weights: { source: string | null; sha256: string | null }
  /** Training settings as stored with the run. */
  config: Record<string, unknown>
  epochs: { phase1: number; phase2: number }
  metrics: Partial<Record<'validation' | 'test', SplitMetrics>>
  threshold: number | null
  checks: CheckFigures[]
  /** TuneLab's predict at export time vs the run's stored evaluation, on the same images. */
  stored: { images: number; maxAbsDiff: number; agreement: number } | null
  files: string[]
  hasOnnx: boolean
  hasTfjs: boolean
  /** The web-page figures measured at export time, if any (page resize vs TuneLab's). */
  pageNote: string
}

const pct = (x: number): string => `${(x * 100).toFixed(1)} %`

function metricsTable(name: string, m: SplitMetrics): string {
  const rows = m.perClass.map(
    (c) => `| ${c.name} | ${c.precision.toFixed(3)} | ${c.recall.toFixed(3)} | ${c.f1.toFixed(3)} | ${c.support} |`
  )
  return [
    `**${name}**: accuracy ${pct(m.accuracy)}, loss ${m.loss.toFixed(4)}, ${m.count} images`,
    '',
    '| class | precision | recall | F1 | images |',
    '|---|---|---|---|---|',
    ...rows
  ].join('\n')
}

function checksTable(checks: CheckFigures[]): string {
  if (checks.length === 0) return 'No check was run.'
  return [
    '| file | checked with | images | max abs diff of probabilities | class agreement | tolerance | result |',
    '|---|---|---|---|---|---|---|',
    ...checks.map(
      (c) =>
        `| ${c.format === 'onnx' ? 'model.onnx' : 'model.json'} | ${c.runtime} | ${c.images} (${c.source}) | ${c.maxAbsDiff.toExponential(2)} | ${pct(c.agreement)} | ${c.tolerance.toExponential(0)} | ${c.passed ? 'passed' : 'FAILED'} |`
    )
  ].join('\n')
}

function setting(config: Record<string, unknown>, key: string): string {
  const v = config[key]
  return v === undefined || v === null ? '—' : typeof v === 'object' ? JSON.stringify(v) : String(v)
}

export function modelCard(c: ModelCardInput): string {
  const { meta, pipeline } = c
  const S = meta.inputSize
  const classes = meta.classes
  const pre = meta.preprocessing
  const out: string[] = []
  out.push(`# ${c.runName ?? `TuneLab run #${c.runId}`}: ${classes.join(' / ')} classifier`, '')
  out.push(
    `Exported by TuneLab on ${meta.created.slice(0, 10)} from run #${c.runId}. Files: ${c.files.map((f) => `\`${f}\``).join(', ')}.`,
    ''
  )
  out.push('## The model', '')
  out.push(`- Classes (output order): ${classes.map((x, i) => `${i}: \`${x}\``).join(', ')}`)
  out.push(`- Input: ${S}x${S} RGB, resize mode \`${meta.resizeMode}\``)
  out.push(
    `- Base: \`${meta.base.id}\`, weights: ${c.weights.source ?? 'random initialisation'}${c.weights.sha256 ? ` (sha256 ${c.weights.sha256})` : ''}`
  )
  out.push(
    `- Head: global average pooling → ${setting(c.config, 'dense') !== '—' && setting(c.config, 'dense') !== '0' ? `Dense ${setting(c.config, 'dense')} ReLU → ` : ''}Dropout ${setting(c.config, 'dropout')} → ${meta.activation === 'sigmoid' ? 'one sigmoid unit (P of the second class)' : `softmax over ${classes.length} classes`}`
  )
  out.push(
    `- Training: ${c.epochs.phase1} epoch(s) with the base frozen${c.epochs.phase2 > 0 ? `, then ${c.epochs.phase2} fine-tuning epoch(s) from layer ${setting(c.config, 'fineTuneAt')}` : ''}; optimizer ${setting(c.config, 'optimizer')}, learning rate ${setting(c.config, 'lr')}, batch ${setting(c.config, 'batchSize')}, augmentation ${setting(c.config, 'augment')}, seed ${setting(c.config, 'seed')}`
  )
  out.push(
    `- Confidence threshold: ${c.threshold === null ? 'none chosen' : `${c.threshold} (below it, show the prediction as "unsure")`}`,
    ''
  )
  out.push('## Test metrics', '')
  for (const s of ['test', 'validation'] as const) {
    const m = c.metrics[s]
    if (m) out.push(metricsTable(s, m), '')
  }
  if (!c.metrics.test && !c.metrics.validation) out.push('The run has no validation or test images.', '')
  out.push('## Checked with a second runtime', '')
  out.push(
    `Every file was run by another runtime on the same decoded images as TuneLab, and compared with TuneLab's own probabilities (the export fails past the tolerance):`,
    ''
  )
  out.push(checksTable(c.checks), '')
  if (c.stored) {
    out.push(
      `TuneLab's own predictions at export time against those the run stored when it was evaluated (same ${c.stored.images} images): max abs diff ${c.stored.maxAbsDiff.toExponential(2)}, class agreement ${pct(c.stored.agreement)}${c.stored.maxAbsDiff > 1e-3 ? ' (larger than expected: were the image files changed since training?)' : ''}.`,
      ''
    )
  }
  out.push('## Preprocessing: do exactly this', '')
  out.push(...pipeline.steps.map((s, i) => `${i + 1}. ${s}`), '')
  out.push(
    `In Node.js this is \`${pipeline.resize.call}\` (${pipeline.resize.library}). Another resize filter (the browser's bilinear, Pillow's) changes the pixels and so the probabilities: typically by 1e-3 to a few 1e-2 on a photo, enough to flip images near the decision boundary.`,
    ''
  )
  if (c.pageNote) out.push(c.pageNote, '')
  if (c.hasOnnx) {
    out.push('## ONNX (`model.onnx`)', '')
    out.push(
      `Opset 13, input \`image\`: float32 [batch, ${S}, ${S}, 3], RGB 0..255 (NHWC, the resized pixels as they are; \`x * ${pre.scale} + ${pre.offset}\` and the transpose to NCHW are inside the model). Output \`probabilities\`: float32 [batch, ${classes.length}], one column per class in the order above${meta.activation === 'sigmoid' ? ' (the sigmoid unit p is given as [1 - p, p])' : ''}. BatchNorms are folded into the convolutions.`,
      ''
    )
    out.push(
      "Python (onnxruntime, Pillow; Pillow's LANCZOS is close to but not the same as libvips' lanczos3):",
      '',
      '```python'
    )
    out.push(
      'import json, numpy as np, onnxruntime as ort',
      'from PIL import Image, ImageOps',
      '',
      "meta = json.load(open('tunelab.json'))",
      "size = meta['inputSize']"
    )
    out.push(
      "img = ImageOps.exif_transpose(Image.open('photo.jpg')).convert('RGB').resize((size, size), Image.LANCZOS)  # squash"
    )
    out.push('x = np.asarray(img, dtype=np.float32)[None]  # [1, size, size, 3], 0..255')
    out.push(
      "p = ort.InferenceSession('model.onnx').run(['probabilities'], {'image': x})[0][0]",
      "print(dict(zip(meta['classes'], p.round(4))))",
      '```',
      ''
    )
    out.push(
      'JavaScript (onnxruntime-web; `pixels` = the resized RGB bytes, e.g. from a canvas without its alpha channel):',
      '',
      '```js'
    )
    out.push(
      "import * as ort from 'onnxruntime-web'",
      "const session = await ort.InferenceSession.create('model.onnx')"
    )
    out.push(
      `const image = new ort.Tensor('float32', Float32Array.from(pixels), [1, ${S}, ${S}, 3])`,
      'const { probabilities } = await session.run({ image })',
      'console.log(probabilities.data)',
      '```',
      ''
    )
  }
  if (c.hasTfjs) {
    out.push('## TF.js (`model.json` + `weights.bin`) and the web page', '')
    out.push(
      `The layers model expects the preprocessed input: \`x * ${pre.scale} + ${pre.offset}\` on [batch, ${S}, ${S}, 3] RGB; it outputs ${meta.activation === 'sigmoid' ? `[batch, 1] = P(\`${classes[1]}\`)` : `[batch, ${classes.length}] softmax probabilities`}.`,
      '',
      '```js'
    )
    out.push("const model = await tf.loadLayersModel('model.json')")
    out.push(
      `const x = tf.tidy(() => tf.tensor4d(pixels, [1, ${S}, ${S}, 3], 'float32').mul(${pre.scale}).add(${pre.offset}))`
    )
    out.push('const p = await model.predict(x).data()', '```', '')
    out.push(
      '`index.html` runs the model in a browser, fully offline (TF.js is `tf.min.js` beside it): serve the folder with any static server, e.g. `python3 -m http.server` in this folder, open http://localhost:8000/, then drop or pick an image or use the webcam. (Opened as a `file://` URL the browser refuses to fetch `model.json`.)',
      ''
    )
  }
  return out.join('\n')
}
