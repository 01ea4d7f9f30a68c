// Optimizers with Keras defaults.
import * as tf from '@tensorflow/tfjs'
import type { OptimizerName } from './types'
import { FusedAdam } from '../tf/fusedAdam'

export function createOptimizer(name: OptimizerName, lr: number, momentum = 0): tf.Optimizer {
  if (!(lr > 0) || !Number.isFinite(lr)) throw new Error(`lr: must be a positive number, got ${lr}`)
  if (!(momentum >= 0 && momentum < 1)) throw new Error(`momentum: must be in [0, 1), got ${momentum}`)
  switch (name) {
    case 'adam':
      return new FusedAdam(lr, 0.9, 0.999, 1e-7)
    case 'rmsprop':
      return tf.train.rmsprop(lr, 0.9, momentum, 1e-7, false)
    case 'sgd':
      return momentum > 0 ? tf.train.momentum(lr, momentum, false) : tf.train.sgd(lr)
    default: {
      const bad: never = name
      throw new Error(`optimizer: unknown '${String(bad)}' (expected adam, rmsprop or sgd)`)
    }
  }
}

/** Changes an optimizer's rate for its next steps, keeping its state (tf.js optimizers read the rate at every step). */
export function setLearningRate(optimizer: tf.Optimizer, lr: number): void {
  if (!(lr > 0) || !Number.isFinite(lr)) throw new Error(`lr: must be a positive number, got ${lr}`)
  // SGD and momentum cache -lr in a scalar that only their setLearningRate refreshes; Adam and RMSprop read the field.
  const sgd = optimizer as unknown as { setLearningRate?: (lr: number) => void }
  if (typeof sgd.setLearningRate === 'function') return sgd.setLearningRate(lr)
  const o = optimizer as unknown as { learningRate?: unknown }
  if (typeof o.learningRate !== 'number')
    throw new Error(`optimizer ${optimizer.getClassName()}: has no learning rate to set`)
  o.learningRate = lr
}
