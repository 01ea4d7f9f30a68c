// Engine + evaluation results written through the real ProjectStore (SQLite file in a temp dir).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { NO_AUGMENTATION, type ScanResult } from '@shared/domain'
import { ProjectStore } from '@core/store'
import { evaluateSet } from '@core/eval/evaluate'
import { analysesPayload, toNewEpoch, toNewPredictions } from '@core/eval/storeRows'
import { trainRun } from '@core/training/trainer'
import { colourImages, memorySet, tinyBase, useCpu } from '@test/helpers/trainingFixtures'

const S = 32
const tmp = mkdtempSync(join(tmpdir(), 'tunelab-evalstore-'))
beforeAll(useCpu)
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

describe('store conversions', () => {
  it('epochs, predictions and analyses land in SQLite and the store agrees with our confusion matrix', async () => {
    const classes = ['red', 'blue', 'green']
    const train = memorySet(colourImages(3, 4, S, 501), S)
    const validation = memorySet(colourImages(3, 3, S, 502), S)
    const all = [
      ...train.keys.map((k, i) => ({ k, c: train.labels[i] as number, s: 'train' })),
      ...validation.keys.map((k, i) => ({ k, c: validation.labels[i] as number, s: 'validation' }))
    ]
    const scan: ScanResult = {
      root: tmp,
      layout: 'flat',
      folderSplits: [],
      classes: classes.map((name, c) => ({
        name,
        counts: { all: all.filter((x) => x.c === c).length },
        total: all.filter((x) => x.c === c).length
      })),
      images: all.map((x, i) => ({
        path: `${classes[x.c]}/${x.s}-${i}.png`,
        className: classes[x.c] as string,
        folderSplit: null,
        hash: x.k,
        width: S,
        height: S,
        bytes: 100
      })),
      unreadable: [],
      leakage: [],
      seconds: 0
    }
    const store = ProjectStore.open(join(tmp, 'tunelab.db'))
    try {
      const projectId = store.upsertProject(tmp, 'flat')
      store.saveScan(projectId, scan)
      const idByHash = new Map(store.listImages(projectId).map((img) => [img.contentHash, img.id]))
      const run = store.createRun({ projectId, config: { note: 'test' }, classes })
      store.markRunStarted(run.id)
      const r = await trainRun(
        {
          classes,
          epochs: 3,
          batchSize: 4,
          lr: 0.05,
          optimizer: 'adam',
          dropout: 0.1,
          seed: 8,
          augment: NO_AUGMENTATION
        },
        { base: tinyBase(S), train, validation, onEpochEnd: (e) => void store.appendEpoch(run.id, toNewEpoch(e)) }
      )
      const ev = await evaluateSet(r.predict, validation, classes)
      const idOf = (key: string): number => idByHash.get(key) ?? -1
      expect(store.savePredictions(run.id, toNewPredictions(ev.rows, 'validation', classes, idOf))).toBe(9)
      store.saveAnalysis(run.id, 'validation', analysesPayload(ev.analyses, 'validation', idOf))
      store.finishRun(run.id, 'completed')

      expect(store.getEpochs(run.id).map((e) => [e.phase, e.epoch, e.valAccuracy])).toEqual(
        r.epochs.map((e) => [1, e.epoch, e.valAccuracy])
      )
      const cells = store.confusionMatrix(run.id, 'validation')
      expect(cells.reduce((a, c) => a + c.count, 0)).toBe(9)
      for (const cell of cells) {
        const t = classes.indexOf(cell.trueClass)
        const p = classes.indexOf(cell.predictedClass)
        expect(cell.count).toBe(ev.metrics.confusion[t]?.[p])
      }
      const saved = store.getAnalysis(run.id, 'validation')
      expect(saved?.payload).toMatchObject({
        split: 'validation',
        unsure: { threshold: 0.75, count: ev.analyses.unsure.count }
      })
      r.dispose()
    } finally {
      store.close()
    }
  })
})
