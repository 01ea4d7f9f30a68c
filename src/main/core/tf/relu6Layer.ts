// Keras' ReLU(max_value=6), MobileNetV2's activation, is two elementwise passes in tfjs-layers (relu, then
// clipByValue), and two more in its gradient. One Relu6 op gives the same numbers (min(max(x, 0), 6)) and the same
// gradient (dy where 0 < x <= 6) in one pass each. Models keep their ReLU layers (same class, config and export);
// only the layer's call changes, for every model built after this runs.
import * as tf from '@tensorflow/tfjs'

interface ReluLayerProto {
  call(this: { maxValue?: number }, inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor
  tunelabOneOpRelu6?: true
}

export function useOneOpRelu6(): void {
  // An unbuilt layer holds no weights: nothing to dispose.
  const proto = Object.getPrototypeOf(tf.layers.reLU({ maxValue: 6 })) as ReluLayerProto
  if (proto.tunelabOneOpRelu6) return
  const twoPasses = proto.call
  proto.call = function (inputs, kwargs) {
    const x = Array.isArray(inputs) ? inputs : [inputs]
    if (this.maxValue === 6 && x.length === 1) return tf.relu6(x[0] as tf.Tensor)
    return twoPasses.call(this, inputs, kwargs)
  }
  proto.tunelabOneOpRelu6 = true
}
