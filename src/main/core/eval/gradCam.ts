// Grad-CAM (Selvaraju et al. 2017) for TuneLab's classifiers: the gradients of a class score with respect to the
// base's last convolutional feature map (the input of the head's global average pooling), averaged over space,
// weight that map's channels; the ReLU of the weighted sum, upsampled to the image, shows where the model looks.
// Works for a phase-1 model and a fine-tuned one alike: both are base -> head_gap -> head layers.
import * as tf from '@tensorflow/tfjs'

export interface GradCamModel {
  /** Preprocessed image [n, S, S, 3] -> the last feature map [n, h, w, C]. */
  features: tf.LayersModel
  /** Feature map -> logits (binary: one logit for the second class). */
  logits(featureMap: tf.Tensor4D): tf.Tensor2D
  outputUnits: number
}

const HEAD_GAP = 'head_gap'
const HEAD_LAYERS = ['head_dense', 'head_logits']

/** Splits a TuneLab classifier (as trained or as loaded from its export) at its feature map. */
export function gradCamModel(classifier: tf.LayersModel): GradCamModel {
  const gap = classifier.layers.find((l) => l.name === HEAD_GAP)
  if (!gap) throw new Error(`grad-cam: the model has no '${HEAD_GAP}' layer (not a TuneLab classifier)`)
  const featureMap = gap.input
  if (Array.isArray(featureMap)) throw new Error(`grad-cam: '${HEAD_GAP}' has ${featureMap.length} inputs, expected 1`)
  const head = HEAD_LAYERS.map((name) => classifier.layers.find((l) => l.name === name) ?? null)
  const logitsLayer = head[1]
  if (!logitsLayer) throw new Error(`grad-cam: the model has no 'head_logits' layer`)
  const features = tf.model({ inputs: classifier.inputs, outputs: featureMap })
  const outputUnits = (logitsLayer.outputShape as number[])[1] ?? 1
  return {
    features,
    outputUnits,
    logits: (fm) => {
      let h: tf.Tensor = tf.mean(fm, [1, 2])
      if (head[0]) h = head[0].apply(h) as tf.Tensor
      return logitsLayer.apply(h) as tf.Tensor2D
    }
  }
}

export interface Heatmap {
  /** Row-major [height, width], scaled to [0, 1] (all zero when no region speaks for the class). */
  data: Float32Array
  width: number
  height: number
}

/** The class score: its logit, or for a one-unit binary head +logit (class 1) / -logit (class 0). */
function classScore(logits: tf.Tensor2D, classIndex: number, units: number): tf.Scalar {
  if (units === 1) return (classIndex === 1 ? tf.sum(logits) : tf.neg(tf.sum(logits))) as tf.Scalar
  return tf.sum(logits.slice([0, classIndex], [1, 1])) as tf.Scalar
}

/** Grad-CAM of one preprocessed image [1, S, S, 3] for `classIndex`, upsampled to `outSize` (default: S). */
export function gradCam(model: GradCamModel, input: tf.Tensor4D, classIndex: number, outSize?: number): Heatmap {
  const classes = model.outputUnits === 1 ? 2 : model.outputUnits
  if (!Number.isInteger(classIndex) || classIndex < 0 || classIndex >= classes)
    throw new Error(`grad-cam: class index ${classIndex} is not one of the model's ${classes} classes`)
  if (input.shape[0] !== 1) throw new Error(`grad-cam: expected one image, got a batch of ${input.shape[0]}`)
  const size = outSize ?? input.shape[1]
  const map = tf.tidy(() => {
    const fm = model.features.predict(input) as tf.Tensor4D
    const grads = tf.grad((a: tf.Tensor) => classScore(model.logits(a as tf.Tensor4D), classIndex, model.outputUnits))(
      fm
    )
    const weights = tf.mean(grads, [1, 2], true) // [1, 1, 1, C]
    const cam = tf.relu(tf.sum(tf.mul(fm, weights), 3, true)) // [1, h, w, 1]
    const up = tf.image.resizeBilinear(cam as tf.Tensor4D, [size, size], true)
    const max = tf.max(up)
    return tf.div(up, tf.maximum(max, 1e-12)).reshape([size, size])
  })
  const data = map.dataSync() as Float32Array
  map.dispose()
  return { data: Float32Array.from(data), width: size, height: size }
}

/** Share of the heatmap's mass in the left half of the image (columns < width / 2). */
export function leftHalfMass(h: Heatmap): number {
  let left = 0
  let total = 0
  for (let y = 0; y < h.height; y++) {
    for (let x = 0; x < h.width; x++) {
      const v = h.data[y * h.width + x] as number
      total += v
      if (x < h.width / 2) left += v
    }
  }
  return total > 0 ? left / total : 0.5
}
