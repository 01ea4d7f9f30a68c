// Training-engine speed on real data: MobileNetV2 0.35 (Teachable Machine ImageNet weights), cats vs dogs.
// Usage: npx tsx bench/training/train.ts [--size 160] [--per-class 100] [--backend wasm]
// Prints one JSON line per measurement.
import * as tf from '@tensorflow/tfjs'
import { parseArgs } from 'node:util'
import { NO_AUGMENTATION } from '@shared/domain'
import { buildBase, loadBase } from '@core/models'
import { initBackend, type BackendPreference } from '@core/tf/backend'
import { trainRun } from '@core/training/trainer'
import type { AugmentBatch, TrainEvent } from '@core/training/types'
import { evaluateSet } from '@core/eval/evaluate'
import { catsDogs, TM_V2 } from '@test/helpers/trainingRealData'

const { values } = parseArgs({
  options: {
    base: { type: 'string' },
    size: { type: 'string', default: '160' },
    'per-class': { type: 'string', default: '100' },
    backend: { type: 'string', default: 'wasm' },
    'ft-epochs': { type: 'string', default: '2' }
  }
})
const size = Number(values.size)
const perClass = Number(values['per-class'])
const out = (o: object): void => console.log(JSON.stringify(o))

const flip: AugmentBatch = (pixels, count, s, _spec, { rng }) => {
  const row = s * 3
  for (let i = 0; i < count; i++) {
    if (rng.next() < 0.5) continue
    for (let y = 0; y < s; y++) {
      const o = i * s * row + y * row
      for (let x = 0; x < s / 2; x++)
        for (let c = 0; c < 3; c++) {
          const a = o + x * 3 + c
          const b = o + (s - 1 - x) * 3 + c
          const t = pixels[a] as number
          pixels[a] = pixels[b] as number
          pixels[b] = t
        }
    }
  }
  return pixels
}

const backend = await initBackend({ prefer: values.backend as BackendPreference })
out({ backend: backend.name, simd: backend.simd, size, perClass })
let t = performance.now()
const train = await catsDogs('train', perClass, size)
const validation = await catsDogs('validation', Math.max(10, perClass / 2), size)
out({ step: 'decode', images: train.keys.length + validation.keys.length, seconds: (performance.now() - t) / 1000 })
// --base <id> builds that base with random weights (speed/memory only; accuracy is meaningless then).
const base = values.base ? buildBase(values.base) : await loadBase(`mobilenet_v2_0.35_${size}`, { path: TM_V2 })
out({ base: base.spec.id, weights: base.weightsSource.kind })
const classes = ['cats', 'dogs']
const common = { classes, batchSize: 32, lr: 1e-3, optimizer: 'adam' as const, dropout: 0.2, seed: 1 }
const onEvent = (e: TrainEvent): void => {
  if (e.type === 'epoch')
    out({
      phase: e.phase,
      epoch: e.epoch,
      seconds: +e.seconds.toFixed(3),
      imagesPerSec: Math.round(e.imagesPerSec),
      loss: +e.loss.toFixed(4),
      valAccuracy: e.valAccuracy
    })
  if (e.type === 'phase-start') out({ phaseStart: e.phase, path: e.path, detail: e.detail })
}

t = performance.now()
const r1 = await trainRun({ ...common, epochs: 5, augment: NO_AUGMENTATION }, { base, train, validation, onEvent })
out({ run: 'phase1-cached', seconds: (performance.now() - t) / 1000, numTensors: tf.memory().numTensors })
const ev = await evaluateSet(r1.predict, validation, classes)
out({ eval: 'validation', accuracy: ev.metrics.accuracy, loss: ev.metrics.loss, unsure75: ev.analyses.unsure.count })
r1.dispose()

t = performance.now()
const r2 = await trainRun(
  { ...common, epochs: 2, augment: { ...NO_AUGMENTATION, horizontalFlip: true } },
  { base, train, validation, augmentBatch: flip, onEvent }
)
out({ run: 'phase1-augmented', seconds: (performance.now() - t) / 1000 })
r2.dispose()

t = performance.now()
const r3 = await trainRun(
  { ...common, epochs: 2, fineTuneEpochs: Number(values['ft-epochs']), augment: NO_AUGMENTATION },
  { base, train, validation, onEvent }
)
out({
  run: 'phase1+2-cached',
  seconds: (performance.now() - t) / 1000,
  final: r3.epochs.at(-1),
  tfMemoryMiB: Math.round(tf.memory().numBytes / 2 ** 20)
})
r3.dispose()
