// One optimisation step over explicit variable groups (one optimizer per group, e.g. a 10x head rate).
import * as tf from '@tensorflow/tfjs'
import { batchLoss, predictedClass } from './loss'

export interface VarGroup {
  optimizer: tf.Optimizer
  vars: tf.Variable[]
}

export interface StepResult {
  loss: number
  correct: number
}

/**
 * `forward` builds logits from variables on the tape; labels int32 [n]; weights [n] or null; `penalty` (the head's
 * L2 term) is added to the loss it minimises and reports. Disposes nothing it did not create.
 */
export async function trainStep(
  groups: readonly VarGroup[],
  forward: () => tf.Tensor2D,
  labels: tf.Tensor1D,
  weights: tf.Tensor1D | null,
  penalty?: () => tf.Scalar | null
): Promise<StepResult> {
  let correct: tf.Tensor | null = null
  const all = groups.flatMap((g) => g.vars)
  const { value, grads } = tf.variableGrads(() => {
    const logits = forward()
    correct = tf.keep(tf.tidy(() => predictedClass(logits).equal(labels.toInt()).sum()))
    const loss = batchLoss(logits, labels, weights)
    const extra = penalty?.()
    return extra ? tf.add(loss, extra) : loss
  }, all)
  for (const g of groups) {
    const mine: tf.NamedTensorMap = {}
    for (const v of g.vars) {
      const grad = grads[v.name]
      if (grad) mine[v.name] = grad
    }
    g.optimizer.applyGradients(mine)
  }
  const loss = (await value.data())[0] ?? NaN
  const c = correct as tf.Tensor | null
  const nCorrect = c ? ((await c.data())[0] ?? 0) : 0
  tf.dispose([value, ...Object.values(grads)])
  if (c) c.dispose()
  return { loss, correct: nCorrect }
}
