import * as tf from '@tensorflow/tfjs'
import { existsSync } from 'node:fs'
import { beforeAll, describe, expect, it } from 'vitest'
import { NO_AUGMENTATION } from '@shared/domain'
import { loadBase, type BaseNetwork } from '@core/models'
import { initBackend } from '@core/tf/backend'
import { evaluateSet } from '@core/eval/evaluate'
import { trainRun } from '@core/training/trainer'
import type { ImageSet, TrainEvent } from '@core/training/types'
import { catsDogs, CATS_DOGS, TM_V2 } from '@test/helpers/trainingRealData'

const S = 160
const have = existsSync(CATS_DOGS) && existsSync(TM_V2)

describe.skipIf(!have)(
  'real data: MobileNetV2 0.35 ImageNet (Teachable Machine weights) on cats vs dogs, wasm (needs /work/shared/data)',
  () => {
    let base: BaseNetwork
    let train: ImageSet
    let validation: ImageSet
    beforeAll(async () => {
      await initBackend({ prefer: 'wasm' })
      base = await loadBase(`mobilenet_v2_0.35_${S}`, { path: TM_V2 })
      train = await catsDogs('train', 40, S)
      validation = await catsDogs('validation', 20, S)
    })

    it('phase 1 on cached features reaches > 80 % validation accuracy; evaluation agrees with the loop', async () => {
      const classes = ['cats', 'dogs']
      const r = await trainRun(
        {
          classes,
          epochs: 10,
          batchSize: 16,
          lr: 2e-3,
          optimizer: 'adam',
          dropout: 0.2,
          seed: 1,
          augment: NO_AUGMENTATION
        },
        { base, train, validation }
      )
      const last = r.epochs.at(-1)
      expect(last?.valAccuracy).toBeGreaterThan(0.8)
      const ev = await evaluateSet(r.predict, validation, classes)
      expect(ev.metrics.accuracy).toBeCloseTo(last?.valAccuracy ?? -1, 6)
      expect(ev.metrics.loss).toBeCloseTo(last?.valLoss ?? -1, 3)
      r.dispose()
    })

    it('phase 2 from layer 100 trains only layers >= 100 and keeps BN moving statistics (wasm gradient kernels)', async () => {
      const at = base.spec.defaultFineTuneAt
      expect(at).toBe(100)
      const probe = (i: number): Float32Array =>
        Float32Array.from((base.model.layers[i]?.weights[0]?.read() ?? tf.zeros([1])).dataSync())
      const movingStats = (): Float32Array[] =>
        base.model.layers.flatMap((l) =>
          l.weights
            .filter((w) => /moving_(mean|variance)/.test(w.name))
            .map((w) => Float32Array.from(w.read().dataSync()))
        )
      const weighted = base.model.layers.map((l, i) => (l.weights.length > 0 ? i : -1)).filter((i) => i >= 0)
      const lastBelow = Math.max(...weighted.filter((i) => i < at))
      const firstAbove = Math.min(...weighted.filter((i) => i >= at))
      const below = probe(lastBelow)
      const above = probe(firstAbove)
      const stats = movingStats()
      const events: TrainEvent[] = []
      const small = { ...train, keys: train.keys.slice(0, 16), labels: train.labels.slice(0, 16) }
      const r = await trainRun(
        {
          classes: ['cats', 'dogs'],
          epochs: 1,
          batchSize: 8,
          lr: 1e-3,
          optimizer: 'adam',
          dropout: 0.2,
          seed: 2,
          fineTuneEpochs: 1,
          augment: NO_AUGMENTATION
        },
        { base, train: { ...small, load: (idx) => train.load(idx) }, onEvent: (e) => events.push(e) }
      )
      expect(r.epochs.map((e) => e.epoch)).toEqual([1, 2])
      expect(events.find((e) => e.type === 'phase-start' && e.phase === 'fine-tune')).toMatchObject({
        fineTuneAt: 100,
        path: 'cached-activations'
      })
      expect(probe(lastBelow)).toEqual(below)
      expect(probe(firstAbove)).not.toEqual(above)
      movingStats().forEach((s, i) => expect(s).toEqual(stats[i]))
      r.dispose()
    })
  }
)
