// Losses from logits: binary cross-entropy (1 logit) or softmax categorical cross-entropy (k logits).
// Sample weights implement class weights with Keras' SUM_OVER_BATCH_SIZE reduction: sum(w * l) / n.
import * as tf from '@tensorflow/tfjs'

/** Per-sample loss [n] for logits [n, u] and integer labels [n]. */
export function perSampleLoss(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => {
    const units = logits.shape[1]
    if (units === 1) {
      const x = logits.reshape([-1]) as tf.Tensor1D
      const z = labels.toFloat()
      // Stable sigmoid cross-entropy: max(x,0) - x*z + log(1 + exp(-|x|)).
      return tf
        .relu(x)
        .sub(x.mul(z))
        .add(tf.log1p(tf.exp(tf.neg(tf.abs(x))))) as tf.Tensor1D
    }
    const logp = tf.logSoftmax(logits)
    const onehot = tf.oneHot(labels.toInt(), units ?? 0).toFloat()
    return tf.neg(tf.sum(logp.mul(onehot), 1)) as tf.Tensor1D
  })
}

/** Mean weighted loss (scalar). `sampleWeights` [n] or null. */
export function batchLoss(logits: tf.Tensor2D, labels: tf.Tensor1D, sampleWeights: tf.Tensor1D | null): tf.Scalar {
  return tf.tidy(() => {
    const l = perSampleLoss(logits, labels)
    return (sampleWeights ? l.mul(sampleWeights).mean() : l.mean()) as tf.Scalar
  })
}

/** Predicted class per sample [n] (int32). */
export function predictedClass(logits: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() =>
    logits.shape[1] === 1
      ? (logits.reshape([-1]).greater(0).toInt() as tf.Tensor1D)
      : (logits.argMax(1).toInt() as tf.Tensor1D)
  )
}

/** Full class probabilities [n, k] from logits (binary: [1-p, p]). */
export function probabilities(logits: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    if (logits.shape[1] === 1) {
      const p = tf.sigmoid(logits)
      return tf.concat([tf.sub(1, p), p], 1) as tf.Tensor2D
    }
    return tf.softmax(logits) as tf.Tensor2D
  })
}

/** Keras/sklearn 'balanced' class weights: n / (k * count_c). Classes with no sample get weight 1. */
export function balancedClassWeights(labels: readonly number[], numClasses: number): number[] {
  const counts = new Array<number>(numClasses).fill(0)
  for (const y of labels) counts[y] = (counts[y] ?? 0) + 1
  return counts.map((c) => (c > 0 ? labels.length / (numClasses * c) : 1))
}
