// A TF.js layers model as an ONNX ModelProto: float RGB 0..255 NHWC in, preprocessing baked in, NCHW inside.
import type * as tf from '@tensorflow/tfjs'
import { mkdir } from 'node:fs/promises'
import { dirname } from 'node:path'
import type { PreprocessingSpec } from '../../models/preprocessing'
import { writeFileAtomic } from '../fsModelIO'
import { GraphBuilder, tensorInfo } from './graph'
import { convertLayers, type ConvertReport } from './layers'
import { DataType, IR_VERSION, OPSET, encodeModel } from './proto'

/** Name of the graph input: float32 [batch, S, S, 3], RGB 0..255, channels last. */
export const ONNX_INPUT = 'image'
/** Name of the classifier output: float32 [batch, classes], class probabilities. */
export const ONNX_PROBABILITIES = 'probabilities'
/** Name of a bare base's output: float32 [batch, H, W, C], the feature map, channels last like TF.js. */
export const ONNX_FEATURES = 'features'

export interface OnnxConvertOptions {
  preprocessing: PreprocessingSpec
  /**
   * 'probabilities': the model ends in softmax, or in a one-unit sigmoid that is widened to [1 - p, p] so every
   * classifier gives one column per class. 'features': a base without head; its NHWC feature map is the output.
   */
  output: 'probabilities' | 'features'
  graphName?: string
  /** Key/value metadata stored in the ModelProto (classes, preprocessing, ...). */
  metadata?: Record<string, string>
  docString?: string
}

export interface OnnxResult {
  bytes: Uint8Array
  report: ConvertReport
  inputShape: [string, number, number, number]
  outputShape: Array<string | number>
}

function producerVersion(): string {
  return process.env['npm_package_version'] ?? '0.1.0'
}

/** Converts `model` (input [null,S,S,3] preprocessed, as TuneLab trains it) to ONNX bytes with the preprocessing in front. */
export function layersModelToOnnx(model: tf.LayersModel, opts: OnnxConvertOptions): OnnxResult {
  const inShape = model.inputs[0]?.shape ?? []
  const [, S1, S2, C] = inShape
  if (inShape.length !== 4 || typeof S1 !== 'number' || typeof S2 !== 'number' || C !== 3)
    throw new Error(`onnx export: model input must be [null,S,S,3], is ${JSON.stringify(inShape)}`)
  const g = new GraphBuilder()
  g.name(ONNX_INPUT)
  const p = opts.preprocessing
  // Same float32 steps as TuneLab: x * scale, then + offset (each rounded to float32).
  const scaled = g.node('Mul', [ONNX_INPUT, g.floats('preprocess_scale', [], [p.scale])], 'preprocess_mul')
  const shifted = g.node('Add', [scaled, g.floats('preprocess_offset', [], [p.offset])], 'preprocess_add')
  const nchw = g.node('Transpose', [shifted], 'to_nchw', { perm: [0, 3, 1, 2] })
  const { output, rank, report } = convertLayers(model, g, nchw)
  const outSym = model.outputs[0]!
  let outputShape: Array<string | number>
  let finalName: string
  if (opts.output === 'features') {
    if (rank !== 4) throw new Error(`onnx export: a base must output a feature map, this model outputs rank ${rank}`)
    finalName = g.node('Transpose', [output], ONNX_FEATURES, { perm: [0, 2, 3, 1] })
    outputShape = ['batch', ...(outSym.shape.slice(1) as number[])]
  } else {
    const units = outSym.shape[1]
    if (rank !== 2 || typeof units !== 'number')
      throw new Error(
        `onnx export: a classifier must output [batch, units], this model outputs ${JSON.stringify(outSym.shape)}`
      )
    if (units === 1) {
      const one = g.floats('one', [], [1])
      const complement = g.node('Sub', [one, output], 'probability_class0')
      finalName = g.node('Concat', [complement, output], ONNX_PROBABILITIES, { axis: 1 })
      outputShape = ['batch', 2]
    } else {
      finalName = g.node('Identity', [output], ONNX_PROBABILITIES)
      outputShape = ['batch', units]
    }
  }
  const inputShape: [string, number, number, number] = ['batch', S1, S2, 3]
  const bytes = encodeModel({
    irVersion: IR_VERSION,
    opsetImport: [{ domain: '', version: OPSET }],
    producerName: 'TuneLab',
    producerVersion: producerVersion(),
    ...(opts.docString ? { docString: opts.docString } : {}),
    graph: {
      name: opts.graphName ?? model.name,
      node: g.nodes,
      initializer: g.initializers,
      input: [tensorInfo(ONNX_INPUT, DataType.FLOAT, inputShape)],
      output: [tensorInfo(finalName, DataType.FLOAT, outputShape)]
    },
    metadataProps: Object.entries(opts.metadata ?? {}).map(([key, value]) => ({ key, value }))
  })
  return { bytes, report, inputShape, outputShape }
}

/**
 * Writes the ONNX file of a bare base (no head): input `image` float32 [batch,S,S,3] RGB 0..255 with the base's
 * preprocessing baked in, output `features` [batch,H,W,C] (channels last, the same tensor TuneLab's base gives).
 * For benchmarks that run ONNX Runtime on the same network as ours.
 */
export async function writeBaseOnnx(
  base: tf.LayersModel,
  preprocessing: PreprocessingSpec,
  path: string
): Promise<OnnxResult> {
  const r = layersModelToOnnx(base, {
    preprocessing,
    output: 'features',
    metadata: { preprocessing: JSON.stringify(preprocessing) }
  })
  await mkdir(dirname(path), { recursive: true })
  await writeFileAtomic(path, r.bytes)
  return r
}
