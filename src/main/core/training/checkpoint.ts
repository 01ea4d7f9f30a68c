// In-memory best-weights checkpoint (tfjs-layers' EarlyStopping cannot restore best weights).
import * as tf from '@tensorflow/tfjs'

export class WeightCheckpoint {
  private saved: tf.Tensor[] | null = null
  epoch: number | null = null

  constructor(private readonly vars: readonly tf.Variable[]) {}

  save(epoch: number): void {
    this.clear()
    this.saved = this.vars.map((v) => tf.keep(v.clone()))
    this.epoch = epoch
  }

  /** Writes the saved values back into the variables. Returns false when nothing was saved. */
  restore(): boolean {
    if (!this.saved) return false
    this.saved.forEach((t, i) => (this.vars[i] as tf.Variable).assign(t))
    return true
  }

  clear(): void {
    if (this.saved) tf.dispose(this.saved)
    this.saved = null
    this.epoch = null
  }
}
