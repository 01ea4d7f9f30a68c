// Plausible cats-vs-dogs answers for screenshots of the screens (the transport double of test/renderer, richer data).
import type { TuneLabApi } from '@shared/contract/api'
import type { GalleryItemView, RunDetail } from '@shared/contract/schemas'
import { createFakeApi, KEY, type FakeApi } from '@test/helpers/fakeApi'
import { storedConfigFor } from '@test/helpers/runConfigs'

const CLASSES = ['cats', 'dogs']

function curve(n: number, fineTuneFrom: number): RunDetail['epochs'] {
  return Array.from({ length: n }, (_, i) => {
    const e = i + 1
    const ft = e >= fineTuneFrom
    const acc = ft ? 0.955 + (e - fineTuneFrom) * 0.004 : 0.62 + 0.33 * (1 - Math.exp(-e / 1.8))
    return {
      phase: ft ? (2 as const) : (1 as const),
      epoch: e,
      loss: ft ? 0.13 - (e - fineTuneFrom) * 0.012 : 0.68 * Math.exp(-e / 2.4) + 0.12,
      accuracy: ft ? acc + 0.01 : acc - 0.03,
      valLoss: ft ? 0.1 - (e - fineTuneFrom) * 0.008 : 0.6 * Math.exp(-e / 2.2) + 0.1,
      valAccuracy: acc,
      lr: ft ? 1e-5 : 1e-4,
      seconds: 14,
      imagesPerSec: 142
    }
  })
}

export const DEMO_EPOCHS = curve(10, 6)

function item(id: number, trueIdx: number, predIdx: number, conf: number): GalleryItemView {
  const t = CLASSES[trueIdx] ?? 'cats'
  const p = CLASSES[predIdx] ?? 'cats'
  const probs = predIdx === 0 ? [conf, 1 - conf] : [1 - conf, conf]
  return {
    imageId: id,
    relPath: `validation/${t}/${t.slice(0, -1)}.${2000 + id}.jpg`,
    split: 'test',
    trueClass: t,
    predictedClass: p,
    probabilities: probs,
    confidence: conf,
    margin: Math.abs(probs[0]! - probs[1]!),
    loss: null,
    correct: t === p,
    present: true
  }
}

export function createDemoApi(): FakeApi {
  const fake = createFakeApi()
  const a: TuneLabApi = fake.api
  a.app.info = async () => ({
    version: '0.1.0',
    transport: 'serve',
    backend: {
      name: 'wasm',
      tfBackend: 'wasm',
      simd: true,
      threads: 1,
      skipped: [{ name: 'tensorflow-gpu', reason: 'not installed' }]
    },
    platform: 'linux',
    node: '20.19',
    electron: null,
    weightsCacheDir: '~/.cache/tunelab',
    canPickFolder: false,
    initialProject: '/data/cats_and_dogs_filtered'
  })
  a.project.recent = async () => ({
    projects: [
      {
        root: '/data/cats_and_dogs_filtered',
        name: 'cats_and_dogs_filtered',
        openedAt: '2025-11-22T05:40:00Z',
        exists: true
      },
      { root: '/data/hotdog', name: 'hotdog', openedAt: '2025-11-20T09:12:00Z', exists: false }
    ]
  })
  a.project.open = async (r) => ({
    projectKey: KEY,
    root: r.path,
    name: r.path.split('/').pop() ?? r.path,
    stateDir: `${r.path}/.tunelab`,
    stateFallback: false,
    stateReadOnly: null,
    lastScan: null,
    recoveredRuns: []
  })
  a.project.scan = async () => ({
    layout: 'presplit',
    folderSplits: ['train', 'validation'],
    classes: [
      { name: 'cats', counts: { train: 1000, validation: 500 }, total: 1500 },
      { name: 'dogs', counts: { train: 1000, validation: 500 }, total: 1500 }
    ],
    images: 3000,
    unreadable: [{ path: 'train/cats/cat.666.jpg', reason: 'truncated JPEG (premature end of data)' }],
    leakage: [
      {
        hash: 'ab12',
        paths: ['train/dogs/dog.12.jpg', 'validation/dogs/dog.2304.jpg'],
        splits: ['train', 'validation']
      }
    ],
    seconds: 4.2,
    scannedAt: '2025-11-22T05:40:00Z'
  })
  a.dataset.previewSplit = async (r) => {
    const f = r.strategy.kind === 'folder' ? r.strategy.testFromVal : 0
    const per = { train: 1000, validation: Math.round(500 * (1 - f)), test: Math.round(500 * f) }
    return {
      classes: CLASSES,
      counts: { cats: { ...per }, dogs: { ...per } },
      totals: { train: 2000, validation: 2 * per.validation, test: 2 * per.test },
      leakage: []
    }
  }
  a.dataset.images = async (r) => ({
    total: 6,
    images: Array.from({ length: 6 }, (_, i) => ({
      imageId: (r.className === 'dogs' ? 100 : 1) + i,
      relPath: `train/${r.className}/${(r.className ?? 'x').slice(0, -1)}.${i}.jpg`,
      className: r.className ?? null,
      split: null,
      folderSplit: 'train' as const,
      width: 400,
      height: 300
    }))
  })
  a.models.list = async () => ({
    models: [
      {
        id: 'mobilenet_v2_1.0_160',
        family: 'mobilenet_v2',
        alpha: 1,
        size: 160,
        layers: 154,
        params: 2257984,
        outputShape: [5, 5, 1280],
        defaultFineTuneAt: 100,
        defaultFineTuneAtLayer: 'block_11_expand',
        weightsFile: null,
        weightsCached: true,
        weightsUrl: null
      },
      {
        id: 'mobilenet_1.0_224',
        family: 'mobilenet_v1',
        alpha: 1,
        size: 224,
        layers: 86,
        params: 3228864,
        outputShape: [7, 7, 1024],
        defaultFineTuneAt: 60,
        defaultFineTuneAtLayer: 'conv_dw_10',
        weightsFile: null,
        weightsCached: false,
        weightsUrl: null
      },
      {
        id: 'resnet50_v2_1.0_224',
        family: 'resnet50_v2',
        alpha: 1,
        size: 224,
        layers: 190,
        params: 23564800,
        outputShape: [7, 7, 2048],
        defaultFineTuneAt: 150,
        defaultFineTuneAtLayer: 'conv5_block1_preact_bn',
        weightsFile: null,
        weightsCached: false,
        weightsUrl: null
      }
    ]
  })
  const detail = (runId: number): RunDetail => ({
    run: {
      runId,
      name: null,
      status: runId === 3 ? 'completed' : runId === 2 ? 'cancelled' : 'interrupted',
      createdAt: '2025-11-22T05:50:00Z',
      startedAt: '2025-11-22T05:50:00Z',
      endedAt: '2025-11-22T06:02:00Z',
      baseId: 'mobilenet_v2_1.0_160',
      backend: 'wasm',
      classes: CLASSES,
      epochs: runId === 3 ? 10 : 4,
      bestValAccuracy: runId === 3 ? 0.979 : 0.93,
      bestEpoch: runId === 3 ? 10 : 4,
      error: runId === 1 ? 'the app closed while the run was going' : null
    },
    config:
      runId === 3
        ? storedConfigFor(
            {
              recipe: 'auto',
              baseId: 'mobilenet_v2_1.0_160',
              weights: 'official',
              epochs: 5,
              lr: 1e-3,
              fineTuneAt: 100,
              fineTuneEpochs: 5
            },
            [
              { setting: 'batch size', value: '32', why: '2000 training images' },
              {
                setting: 'class weights',
                value: 'none',
                why: 'largest class 1000 images, smallest 1000: ratio 1.0 ≤ 3'
              },
              {
                setting: 'kept phase',
                value: 'phase 2 (fine-tuned)',
                why: 'fine-tuning lowered the validation loss below phase 1'
              }
            ]
          )
        : storedConfigFor({
            recipe: 'tf-tutorial',
            baseId: 'mobilenet_v2_1.0_160',
            weights: 'official',
            epochs: 5,
            fineTuneEpochs: 0
          }),
    metrics: null,
    timings: null,
    backendNotes: null,
    epochs: runId === 3 ? DEMO_EPOCHS : curve(4, 99).map((e) => ({ ...e, valAccuracy: (e.valAccuracy ?? 0) - 0.03 })),
    evaluatedSplits: runId === 3 ? ['validation', 'test'] : []
  })
  a.runs.list = async () => ({ runs: [3, 2, 1].map((id) => detail(id).run) })
  a.runs.get = async (r) => detail(r.runId)
  a.results.confusion = async () => ({
    classes: CLASSES,
    matrix: [
      [98, 3],
      [2, 97]
    ],
    total: 200,
    accuracy: 0.975
  })
  a.results.threshold = async () => ({
    points: Array.from({ length: 11 }, (_, i) => ({
      threshold: 0.5 + i * 0.05,
      coverage: 1 - i * 0.012,
      covered: 200 - i * 2,
      accuracy: 0.975 + i * 0.002
    }))
  })
  a.results.gallery = async (r) => {
    const t = CLASSES.indexOf(r.className ?? 'cats')
    const o = 1 - t
    const n = Math.min(r.n, 6)
    if (r.kind === 'most-confident')
      return { items: Array.from({ length: n }, (_, i) => item(10 + i + t * 50, t, t, 0.999 - i * 0.001)) }
    if (r.kind === 'least-confident')
      return { items: Array.from({ length: n }, (_, i) => item(20 + i + t * 50, t, i % 2 ? o : t, 0.51 + i * 0.02)) }
    return { items: Array.from({ length: 3 }, (_, i) => item(30 + i + t * 50, t, o, 0.97 - i * 0.08)) }
  }
  a.results.cell = async (r) => ({
    items: Array.from({ length: 3 }, (_, i) =>
      item(40 + i, CLASSES.indexOf(r.trueClass), CLASSES.indexOf(r.predictedClass), 0.9 - i * 0.1)
    )
  })
  return fake
}
