/**
 * tfjs' Adam with each variable's update as one native pass (kernel 'TuneLabAdamUpdate', oneDNN addon, OpenMP)
 * instead of about twelve single-threaded elementwise ops: 1.9 M weights above layer 100 of MobileNetV2 1.0 cost
 * ~32 ms a step that way. Same float32 operations in the same order, same state (moments, accumulated betas,
 * iterations), same class name and weights for checkpoints; without the kernel (other backends, addon not built)
 * it is tfjs' Adam unchanged. One difference: denormal moments (below 1.2e-38) become zero. The second moment of
 * weights with tiny gradients drifts there (590k of 3.7M moment values above layer 100 of MobileNetV2 1.0), and
 * x86 computes with denormals ~50x slower: in a real fine-tuning step the update took 42-61 ms with them, 7 ms
 * without. Next to epsilon (1e-7) they change no weight.
 */
import * as tf from '@tensorflow/tfjs'
import { ADAM_UPDATE, hasKernel, type AdamAttrs } from './nativeTraining'

interface AdamState {
  learningRate: number
  beta1: number
  beta2: number
  epsilon: number
  accBeta1: tf.Variable
  accBeta2: tf.Variable
  accumulatedFirstMoment: Array<{ originalName: string; variable: tf.Variable } | undefined>
  accumulatedSecondMoment: Array<{ originalName: string; variable: tf.Variable } | undefined>
}

type Gradients = Parameters<tf.AdamOptimizer['applyGradients']>[0]

export class FusedAdam extends tf.AdamOptimizer {
  override applyGradients(variableGradients: Gradients): void {
    if (!hasKernel(ADAM_UPDATE)) return super.applyGradients(variableGradients)
    const s = this as unknown as AdamState
    const names = Array.isArray(variableGradients)
      ? variableGradients.map((v) => v.name)
      : Object.keys(variableGradients)
    const f = Math.fround
    const attrs: AdamAttrs = {
      beta1: f(s.beta1),
      oneMinusBeta1: f(1 - s.beta1),
      beta2: f(s.beta2),
      oneMinusBeta2: f(1 - s.beta2),
      c1: f(1 - (s.accBeta1.dataSync()[0] as number)),
      c2: f(1 - (s.accBeta2.dataSync()[0] as number)),
      epsilon: f(s.epsilon),
      negLr: f(-s.learningRate)
    }
    tf.tidy(() => {
      names.forEach((name, i) => {
        const value = tf.engine().registeredVariables[name] as tf.Variable
        // As tfjs' Adam: moments by position in the gradient list, created on first use.
        const m = (s.accumulatedFirstMoment[i] ??= {
          originalName: `${name}/m`,
          variable: tf.tidy(() => tf.zerosLike(value).variable(false))
        }).variable
        const v = (s.accumulatedSecondMoment[i] ??= {
          originalName: `${name}/v`,
          variable: tf.tidy(() => tf.zerosLike(value).variable(false))
        }).variable
        const g = Array.isArray(variableGradients) ? variableGradients[i]?.tensor : variableGradients[name]
        if (!g) return
        const [w2, m2, v2] = tf
          .engine()
          .runKernel(ADAM_UPDATE, { w: value, m, v, g }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[]
        m.assign(m2!)
        v.assign(v2!)
        value.assign(w2!)
      })
      s.accBeta1.assign(tf.mul(s.accBeta1, s.beta1))
      s.accBeta2.assign(tf.mul(s.accBeta2, s.beta2))
    })
    this.incrementIterations()
  }
}
