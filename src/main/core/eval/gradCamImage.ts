// Grad-CAM of one photo under an exported run model, laid over the photo as the model saw it (PNG).
import * as tf from '@tensorflow/tfjs'
import type { LoadedModel } from '../export/loadExported'
import { pixelsToInput } from '../models/preprocessing'
import { gradCam, gradCamModel, type GradCamModel } from './gradCam'
import { overlayHeatmap } from './heatmapOverlay'

const split = new WeakMap<tf.LayersModel, GradCamModel>()

/** `pixels`: RGB uint8 [S, S, 3] after the export's resize. */
export async function gradCamOverlay(loaded: LoadedModel, pixels: Uint8Array, className: string): Promise<Buffer> {
  const classIndex = loaded.meta.classes.indexOf(className)
  if (classIndex < 0)
    throw new Error(`grad-cam: '${className}' is not one of the model's classes (${loaded.meta.classes.join(', ')})`)
  let cam = split.get(loaded.model)
  if (!cam) {
    cam = gradCamModel(loaded.model)
    split.set(loaded.model, cam)
  }
  const S = loaded.meta.inputSize
  const input = pixelsToInput(pixels, 1, S, loaded.meta.preprocessing) as tf.Tensor4D
  try {
    return await overlayHeatmap(pixels, gradCam(cam, input, classIndex))
  } finally {
    input.dispose()
  }
}
