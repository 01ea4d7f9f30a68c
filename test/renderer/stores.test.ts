// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { setApi } from '@renderer/stores/apiContext'
import { useProjectStore } from '@renderer/stores/project'
import { PREVIEW_DEBOUNCE_MS, useDatasetStore } from '@renderer/stores/dataset'
import { useTrainingStore } from '@renderer/stores/training'
import { perClassRows, sliderThresholds, useResultsStore } from '@renderer/stores/results'
import { useRunsStore } from '@renderer/stores/runs'
import { useLrFindStore } from '@renderer/stores/lrFind'
import { useAuditStore } from '@renderer/stores/audit'
import { nextTick } from 'vue'
import { defaultTrainingForm } from '@renderer/lib/trainingForm'
import { NO_AUGMENTATION } from '@shared/domain'
import { storedConfigFor } from '@test/helpers/runConfigs'
import { createFakeApi, KEY, type FakeApi } from '@test/helpers/fakeApi'

let fake: FakeApi

beforeEach(() => {
  fake = createFakeApi()
  setApi(fake.api)
  setActivePinia(createPinia())
})
afterEach(() => vi.useRealTimers())

async function openProject(): Promise<void> {
  expect(await useProjectStore().open('/data/pets')).toBe(true)
}

describe('project store', () => {
  it('opens, scans and lists unreadable files', async () => {
    await openProject()
    const p = useProjectStore()
    expect(p.key).toBe(KEY)
    expect(p.classes).toEqual(['cats', 'dogs'])
    expect(p.scan?.unreadable[0]?.path).toBe('cats/broken.jpg')
    expect(fake.calls.map((c) => c.name)).toEqual(['project.open', 'project.scan', 'project.recent'])
  })

  it('keeps the error in the store, naming the folder, and refuses an empty path', async () => {
    const p = useProjectStore()
    expect(await p.open('   ')).toBe(false)
    expect(p.error).toBe('Type the path of a project folder first.')
    fake.failNext('project.open', 'not a directory')
    expect(await p.open('/nope')).toBe(false)
    expect(p.error).toBe('Could not open /nope: not a directory')
    expect(p.project).toBeNull()
  })
})

describe('dataset store', () => {
  it('debounces split previews and keeps only the latest strategy', async () => {
    await openProject()
    vi.useFakeTimers()
    const d = useDatasetStore()
    d.setStrategy({ kind: 'ratios', ratios: [0.8, 0.1, 0.1], seed: 1 })
    d.setStrategy({ kind: 'ratios', ratios: [0.6, 0.2, 0.2], seed: 1 })
    d.setStrategy({ kind: 'ratios', ratios: [0.5, 0.3, 0.2], seed: 1 })
    expect(fake.calls.filter((c) => c.name === 'dataset.previewSplit')).toHaveLength(0)
    await vi.advanceTimersByTimeAsync(PREVIEW_DEBOUNCE_MS + 10)
    const previews = fake.calls.filter((c) => c.name === 'dataset.previewSplit')
    expect(previews).toHaveLength(1)
    expect(previews[0]?.request).toEqual({
      projectKey: KEY,
      strategy: { kind: 'ratios', ratios: [0.5, 0.3, 0.2], seed: 1 }
    })
    expect(d.preview?.totals).toEqual({ train: 10, validation: 6, test: 4 })
  })

  it('shows a preview error in place, and an invalid form cancels the pending preview', async () => {
    await openProject()
    vi.useFakeTimers()
    const d = useDatasetStore()
    fake.failNext('dataset.previewSplit', 'ratios must sum to 1')
    d.setStrategy({ kind: 'ratios', ratios: [0.8, 0.1, 0.1], seed: 1 })
    await vi.advanceTimersByTimeAsync(PREVIEW_DEBOUNCE_MS + 10)
    expect(d.previewError).toBe('ratios must sum to 1')
    d.setStrategy({ kind: 'ratios', ratios: [0.7, 0.2, 0.1], seed: 1 })
    d.setSplitInvalid('Train must be more than 0 %.')
    await vi.advanceTimersByTimeAsync(PREVIEW_DEBOUNCE_MS + 10)
    expect(fake.calls.filter((c) => c.name === 'dataset.previewSplit')).toHaveLength(1)
    expect(d.splitError).toBe('Train must be more than 0 %.')
  })

  it('loads class thumbnails, picks a sample image and renders its augmented samples', async () => {
    await openProject()
    const d = useDatasetStore()
    await d.loadThumbnails()
    expect(Object.keys(d.thumbnails)).toEqual(['cats', 'dogs'])
    expect(d.sampleImage?.imageId).toBe(1)
    expect(d.augment).toBeNull() // the recipe's own until one is chosen: no single augmentation to show
    await d.refreshSamples()
    expect(fake.calls.some((c) => c.name === 'dataset.augmentPreview')).toBe(false)
    expect(d.samples).toEqual([])
    d.augment = { ...NO_AUGMENTATION, horizontalFlip: true }
    await d.refreshSamples()
    const req = fake.calls.filter((c) => c.name === 'dataset.augmentPreview').at(-1)?.request
    expect(req).toMatchObject({ projectKey: KEY, imageId: 1, spec: { horizontalFlip: true }, resizeMode: 'squash' })
    expect(d.samples).toHaveLength(8)
  })
})

describe('training store', () => {
  it('starts a run with the dataset settings and follows its progress events', async () => {
    await openProject()
    const d = useDatasetStore()
    d.setStrategy({ kind: 'ratios', ratios: [0.7, 0.2, 0.1], seed: 3 })
    d.resizeMode = 'pad'
    const t = useTrainingStore()
    const form = {
      ...defaultTrainingForm('mobilenet_v2_0.35_96'),
      epochs: 2,
      fineTune: true,
      fineTuneEpochs: 1,
      weights: 'random' as const
    }
    expect(await t.start(form)).toBe(true)
    const req = fake.calls.find((c) => c.name === 'training.start')?.request as { config: Record<string, unknown> }
    expect(req.config).toMatchObject({
      baseId: 'mobilenet_v2_0.35_96',
      weights: 'random',
      resizeMode: 'pad',
      split: { kind: 'ratios', ratios: [0.7, 0.2, 0.1], seed: 3 },
      epochs: 2,
      fineTuneEpochs: 1
    })
    expect(req.config).not.toHaveProperty('augment') // left to the recipe
    expect(t.status).toBe('running')
    expect(t.plannedEpochs).toBe(3)
    expect(t.lastForm).toEqual(form) // the form starts from it when the Training screen is shown again

    const ev = (event: Parameters<FakeApi['emitProgress']>[0]['event'], runId = 7) =>
      fake.emitProgress({ projectKey: KEY, runId, event })
    const epoch = (n: number, phase: 1 | 2) => ({
      phase,
      epoch: n,
      loss: 1 / n,
      accuracy: 0.5 + n / 10,
      valLoss: 1.1 / n,
      valAccuracy: 0.5,
      lr: 1e-4,
      seconds: 1,
      imagesPerSec: 100
    })
    ev({ type: 'backend', name: 'wasm', notes: ['tfjs-node: not installed'] })
    ev({
      type: 'batch',
      phase: 'head',
      epoch: 1,
      batch: 2,
      batches: 4,
      loss: 0.7,
      accuracy: 0.5,
      imagesPerSec: 120,
      etaSeconds: 9
    })
    ev({ type: 'epoch', epoch: epoch(1, 1) })
    ev({ type: 'epoch', epoch: epoch(1, 1) }, 99) // another run: ignored
    ev({ type: 'epoch', epoch: epoch(2, 1) })
    expect(t.batch?.etaSeconds).toBe(9)
    ev({
      type: 'phase',
      phase: 'fine-tune',
      epochs: 1,
      fineTuneAt: 100,
      detail: 'layers 100..153 train',
      line: 'phase 2 (fine-tuning from layer 100): 1 epoch(s), cached-activations: layers 100..153 train'
    })
    expect(t.batch).toBeNull() // phase 1's last batch does not linger while phase 2 prepares
    expect(t.messages.at(-1)).toBe(
      'phase 2 (fine-tuning from layer 100): 1 epoch(s), cached-activations: layers 100..153 train'
    )
    ev({ type: 'activations', split: 'train', done: 1234, total: 2000 })
    expect(t.activations).toEqual({ split: 'train', done: 1234, total: 2000 })
    ev({
      type: 'batch',
      phase: 'fine-tune',
      epoch: 3,
      batch: 1,
      batches: 4,
      loss: 0.3,
      accuracy: 0.9,
      imagesPerSec: 20,
      etaSeconds: 30
    })
    expect(t.activations).toBeNull()
    ev({ type: 'epoch', epoch: epoch(3, 2) })
    expect(t.backend?.name).toBe('wasm')
    expect(t.epochs.map((e) => e.epoch)).toEqual([1, 2, 3])
    expect(t.fineTuneStart).toBe(3)
    ev({ type: 'done', status: 'completed', error: null })
    expect(t.status).toBe('completed')
    expect(t.running).toBe(false)
    expect(t.batch).toBeNull()
  })

  it('reattaches to a running run after a reload: planned epochs from its config, marker at the first fine-tuning batch', async () => {
    await openProject()
    fake.api.training.active = async () => ({ runs: [{ projectKey: KEY, runId: 7, status: 'running' as const }] })
    const realGet = fake.api.runs.get
    fake.api.runs.get = async (r) => ({
      ...(await realGet(r)),
      config: storedConfigFor({
        recipe: 'tf-tutorial',
        baseId: 'mobilenet_v2_0.35_224',
        weights: { path: '/w/tm' },
        epochs: 10,
        lr: 1e-4,
        fineTuneAt: 100,
        fineTuneEpochs: 2
      })
    })
    const t = useTrainingStore()
    await t.reattach()
    expect(t.runId).toBe(7)
    expect(t.plannedEpochs).toBe(12)
    // the form shows the running run's settings, not the defaults
    expect(t.lastForm).toMatchObject({
      baseId: 'mobilenet_v2_0.35_224',
      weights: 'file',
      weightsPath: '/w/tm',
      epochs: 10,
      fineTune: true,
      fineTuneAt: 100,
      fineTuneEpochs: 2
    })
    expect(t.fineTuneStart).toBeNull()
    fake.emitProgress({
      projectKey: KEY,
      runId: 7,
      event: {
        type: 'batch',
        phase: 'fine-tune',
        epoch: 11,
        batch: 1,
        batches: 63,
        loss: 0.2,
        accuracy: 0.9,
        imagesPerSec: 8,
        etaSeconds: 400
      }
    })
    expect(t.fineTuneStart).toBe(11)
  })

  it('keeps events that arrive before training.start answers', async () => {
    await openProject()
    const t = useTrainingStore()
    const realStart = fake.api.training.start
    fake.api.training.start = async (r) => {
      fake.emitProgress({ projectKey: KEY, runId: 7, event: { type: 'info', message: 'early' } })
      return realStart(r)
    }
    await t.start(defaultTrainingForm('mobilenet_v2_0.35_96'))
    expect(t.messages).toEqual(['early'])
  })

  it('reports a refused start and a failed run', async () => {
    await openProject()
    const t = useTrainingStore()
    fake.failNext('training.start', 'a run is already going')
    expect(await t.start(defaultTrainingForm('x'))).toBe(false)
    expect(t.error).toBe('Could not start training: a run is already going')
    expect(t.running).toBe(false)
    await t.start(defaultTrainingForm('x'))
    fake.emitProgress({ projectKey: KEY, runId: 7, event: { type: 'done', status: 'failed', error: 'out of memory' } })
    expect(t.status).toBe('failed')
    expect(t.error).toBe('out of memory')
  })
})

describe('results and runs stores', () => {
  it('loads the latest completed run, its confusion matrix, galleries and threshold sweep', async () => {
    await openProject()
    const r = useResultsStore()
    await r.load()
    expect(r.runId).toBe(7)
    expect(r.split).toBe('test')
    expect(r.confusion?.accuracy).toBe(0.9)
    expect(r.sweep).toHaveLength(2)
    // The sweep is asked for every value the slider can take (0.50, 0.51, ... 1.00 for two classes).
    const sweepAsked = fake.calls.find((c) => c.name === 'results.threshold')?.request as { thresholds: number[] }
    expect(sweepAsked.thresholds).toHaveLength(51)
    expect([sweepAsked.thresholds[0], sweepAsked.thresholds[37], sweepAsked.thresholds.at(-1)]).toEqual([0.5, 0.87, 1])
    const galleryCalls = fake.calls
      .filter((c) => c.name === 'results.gallery')
      .map((c) => c.request as { kind: string; className: string })
    expect(galleryCalls.map((g) => g.kind).sort()).toEqual(['confidently-wrong', 'least-confident', 'most-confident'])
    expect(galleryCalls.every((g) => g.className === 'cats')).toBe(true)
    await r.openCell(0, 1)
    expect(fake.calls.at(-1)?.request).toMatchObject({ trueClass: 'cats', predictedClass: 'dogs', split: 'test' })
    expect(r.cell?.items[0]?.relPath).toBe('cats/c3.jpg')
  })

  it('says the galleries are loading while a class switch is on its way', async () => {
    await openProject()
    const r = useResultsStore()
    await r.load()
    expect(r.galleriesLoading).toBe(false)
    const switching = r.setClass('dogs')
    expect(r.galleriesLoading).toBe(true)
    await switching
    expect(r.galleriesLoading).toBe(false)
    const galleryCalls = fake.calls
      .filter((c) => c.name === 'results.gallery')
      .map((c) => c.request as { className: string })
    expect(galleryCalls.slice(-3).every((g) => g.className === 'dogs')).toBe(true)
  })

  it('computes precision, recall and F1 from the confusion matrix', () => {
    const rows = perClassRows({
      classes: ['a', 'b'],
      matrix: [
        [4, 1],
        [0, 5]
      ],
      total: 10,
      accuracy: 0.9
    })
    expect(rows[0]).toMatchObject({ name: 'a', precision: 1, recall: 0.8, support: 5 })
    expect(rows[1]?.precision).toBeCloseTo(5 / 6)
    expect(rows[1]?.f1).toBeCloseTo((2 * (5 / 6) * 1) / (5 / 6 + 1))
    expect(
      perClassRows({
        classes: ['a', 'b'],
        matrix: [
          [0, 0],
          [0, 3]
        ],
        total: 3,
        accuracy: 1
      })[0]
    ).toMatchObject({ precision: null, recall: null, f1: null })
  })

  it('predicts a dropped file as base64', async () => {
    await openProject()
    const r = useResultsStore()
    await r.load()
    await r.predictFile(new File([new Uint8Array([1, 2, 3])], 'new.jpg', { type: 'image/jpeg' }))
    expect(fake.calls.at(-1)?.request).toMatchObject({ image: { kind: 'bytes', name: 'new.jpg', base64: 'AQID' } })
    expect(r.prediction?.predictedClass).toBe('dogs')
  })

  it('refuses a file over the stated limit before sending it', async () => {
    await openProject()
    const r = useResultsStore()
    await r.load()
    const before = fake.calls.length
    await r.predictFile(new File([new Uint8Array(31 * 1024 * 1024)], 'huge.jpg', { type: 'image/jpeg' }))
    expect(fake.calls.length).toBe(before)
    expect(r.predictError).toBe('huge.jpg is 31 MB: "Predict an image" takes images up to 30 MB')
  })

  it('lists runs newest first and compares at most two', async () => {
    await openProject()
    const runs = useRunsStore()
    await runs.load()
    expect(runs.runs.map((x) => [x.runId, x.status])).toEqual([
      [7, 'completed'],
      [6, 'cancelled']
    ])
    await runs.toggleCompare(7)
    await runs.toggleCompare(6)
    await runs.toggleCompare(5)
    expect(runs.compare).toEqual([6, 5])
    await runs.toggleCompare(6)
    expect(runs.compare).toEqual([5])
  })
})

describe('switching projects', () => {
  it("forgets the previous project's run, comparison, training and learning-rate finder; keeps each project's form and augmentation", async () => {
    await openProject()
    const results = useResultsStore()
    const runs = useRunsStore()
    const training = useTrainingStore()
    const dataset = useDatasetStore()
    const lrFind = useLrFindStore()
    await results.load()
    await runs.load()
    await runs.toggleCompare(7)
    const form = { ...defaultTrainingForm('mobilenet_v2_0.35_96'), epochs: 3, weights: 'random' as const }
    expect(await training.start(form)).toBe(true)
    training.lastForm = { ...form, epochs: 4 } // edited after the start
    dataset.augment = { ...NO_AUGMENTATION, horizontalFlip: true }
    await lrFind.start(training.buildConfig(form))
    const audit = useAuditStore()
    await audit.load()
    audit.form.folds = 3
    expect([results.runId, runs.compare, training.runId, lrFind.running]).toEqual([7, [7], 7, true])

    expect(await useProjectStore().open('/data/birds')).toBe(true)
    await nextTick()
    expect(results.runId).toBeNull()
    expect(results.detail).toBeNull()
    expect(results.confusion).toBeNull()
    expect(runs.runs).toEqual([])
    expect(runs.compare).toEqual([])
    expect(training.runId).toBeNull()
    expect(training.status).toBeNull()
    expect(training.lastForm).toBeNull()
    expect(dataset.augment).toBeNull()
    expect(lrFind.running).toBe(false)
    expect(audit.view).toBeNull()
    expect(audit.form.folds).toBe(5)
    // The finder of the previous project is cancelled, not left running unseen.
    expect(fake.calls.find((c) => c.name === 'training.cancelFindLr')?.request).toEqual({ projectKey: KEY })

    expect(await useProjectStore().open('/data/pets')).toBe(true)
    await nextTick()
    expect(training.lastForm?.epochs).toBe(4)
    expect(dataset.augment?.horizontalFlip).toBe(true)
  })
})

describe('training form drafts', () => {
  it('survive a reload (a new store over the same storage), and a damaged one is dropped', async () => {
    localStorage.clear()
    await openProject()
    const form = { ...defaultTrainingForm('mobilenet_v2_0.35_96'), epochs: 7, l2: 0.02 }
    useTrainingStore().lastForm = form
    setActivePinia(createPinia()) // what a reload leaves: only the browser's storage
    await openProject()
    expect(useTrainingStore().lastForm).toEqual(form)

    localStorage.setItem(`tunelab.trainingForm.${KEY}`, JSON.stringify({ ...form, epochs: 'many' }))
    setActivePinia(createPinia())
    await openProject()
    expect(useTrainingStore().lastForm).toBeNull()
    expect(localStorage.getItem(`tunelab.trainingForm.${KEY}`)).toBeNull()
  })
})

describe('confidence slider thresholds', () => {
  it('start at chance level for many classes', () => {
    expect(sliderThresholds(5)[0]).toBe(0.2)
    expect(sliderThresholds(3)[0]).toBe(0.33)
    expect(sliderThresholds(2)).toHaveLength(51)
  })
})
