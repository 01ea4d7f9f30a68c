/**
 * A leaner gradient for FusedBatchNorm (what tf.batchNorm / tfjs-layers BatchNormalization run), registered
 * globally (gradients are per kernel, not per backend; the math is the same everywhere).
 * tfjs-core's version tiles 1/sqrt(var+eps) to the full activation size and reduces with Sum over the
 * leading axes, which wasm implements with a full transpose. Here: dx is one broadcast multiply, and
 * per-channel sums are a matMul with a row of ones. Other layouts (mean not rank 1) use the original.
 */
import * as tf from '@tensorflow/tfjs'
import { CHANNEL_SUMS, hasKernel, nativeChannelSums } from './nativeTraining'

let registered = false

export function registerFastBatchNormGrad(): void {
  if (registered) return
  const original = tf.getGradient(tf.FusedBatchNorm)
  if (!original) throw new Error('registerFastBatchNormGrad: tfjs-core has no FusedBatchNorm gradient to replace')
  tf.registerGradient({
    kernelName: tf.FusedBatchNorm,
    inputsToSave: ['x', 'mean', 'variance', 'scale'],
    gradFunc: (dy, saved, attrs) => {
      const dyT = Array.isArray(dy) ? dy[0]! : dy
      const [x, mean, variance, scale] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor | undefined]
      const c = x.shape[x.rank - 1]!
      if (mean.rank !== 1 || variance.rank !== 1 || mean.shape[0] !== c || (scale && scale.rank !== 1)) {
        return original.gradFunc(dy, saved, attrs)
      }
      const eps = (attrs as unknown as { varianceEpsilon: number }).varianceEpsilon
      const m = x.size / c
      const colSum = (t: tf.Tensor): tf.Tensor => tf.reshape(tf.matMul(tf.ones([1, m]), tf.reshape(t, [m, c])), [c])
      const r = (): tf.Tensor => tf.rsqrt(tf.add(variance, eps))
      const sr = (): tf.Tensor => (scale ? tf.mul(scale, r()) : r())
      // [sum dy, sum dy*x] per channel. The native kernel makes both in one pass, computed here: the tape runs
      // each closure below in its own tidy, so a tensor one closure made is gone when the next one runs.
      const native = hasKernel(CHANNEL_SUMS) && dyT.dtype === 'float32' ? nativeChannelSums(dyT, x) : null
      const channelSums = (): [tf.Tensor, tf.Tensor] => native ?? [colSum(dyT), colSum(tf.mul(dyT, x))]
      const dyXm = (): tf.Tensor => tf.sub(channelSums()[1], tf.mul(mean, channelSums()[0])) // sum dy*(x-mean)
      return {
        x: () => tf.mul(dyT, sr()),
        mean: () => tf.neg(tf.mul(channelSums()[0], sr())),
        variance: () => tf.mul(tf.mul(dyXm(), tf.pow(r(), 3)), scale ? tf.mul(scale, -0.5) : -0.5),
        scale: () => tf.mul(dyXm(), r()),
        // A copy: the tape may dispose a returned gradient while another closure still reads the shared sums.
        offset: () => (native ? tf.clone(native[0]) : colSum(dyT))
      }
    }
  })
  registered = true
}
