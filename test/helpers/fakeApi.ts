// A test double of the TRANSPORT (not of the core): a TuneLabApi whose answers the tests set, recording every call.
import type { TuneLabApi } from '@shared/contract/api'
import type { EventOf } from '@shared/contract/channels'
import type { ModelInfo, ProjectInfo, RunDetail, ScanView, SplitPreview } from '@shared/contract/schemas'
import type { SplitStrategy } from '@shared/domain'
import { storedConfigFor } from '@test/helpers/runConfigs'

export const KEY = '0123456789abcdef'
export const OTHER_KEY = 'fedcba9876543210'

export interface FakeApi {
  api: TuneLabApi
  calls: { name: string; request: unknown }[]
  emitProgress(p: EventOf<'training.progress'>): void
  /** Makes the next call of `name` fail with this message. */
  failNext(name: string, message: string): void
}

const scan: ScanView = {
  layout: 'flat',
  folderSplits: [],
  classes: [
    { name: 'cats', counts: { all: 10 }, total: 10 },
    { name: 'dogs', counts: { all: 10 }, total: 10 }
  ],
  images: 20,
  unreadable: [{ path: 'cats/broken.jpg', reason: 'truncated JPEG' }],
  leakage: [],
  seconds: 0.1,
  scannedAt: '2025-01-01T00:00:00Z'
}

/** Counts the real splitter would give for 10 + 10 images (largest remainder per class). */
export function fakeSplitPreview(s: SplitStrategy): SplitPreview {
  const [a, b] = s.kind === 'ratios' ? s.ratios : [0.8, 0.2]
  const per = { train: Math.round(10 * a), validation: Math.round(10 * b), test: 0 }
  per.test = 10 - per.train - per.validation
  return {
    classes: ['cats', 'dogs'],
    counts: { cats: { ...per }, dogs: { ...per } },
    totals: { train: 2 * per.train, validation: 2 * per.validation, test: 2 * per.test },
    leakage: []
  }
}

const noLabels = { overrides: [], counts: { relabelled: 0, excluded: 0 }, undoable: null, lastApply: null }

const model: ModelInfo = {
  id: 'mobilenet_v2_0.35_96',
  family: 'mobilenet_v2',
  alpha: 0.35,
  size: 96,
  layers: 154,
  params: 410208,
  outputShape: [3, 3, 1280],
  defaultFineTuneAt: 100,
  defaultFineTuneAtLayer: 'block_11_expand',
  weightsFile: null,
  weightsCached: true,
  weightsUrl: null
}

export function createFakeApi(): FakeApi {
  const calls: FakeApi['calls'] = []
  const failures = new Map<string, string>()
  const progress = new Set<(p: EventOf<'training.progress'>) => void>()

  function call<T>(name: string, request: unknown, answer: () => T): Promise<T> {
    calls.push({ name, request })
    const msg = failures.get(name)
    if (msg !== undefined) {
      failures.delete(name)
      return Promise.reject(new Error(msg))
    }
    return Promise.resolve(answer())
  }

  const project: ProjectInfo = {
    projectKey: KEY,
    root: '/data/pets',
    name: 'pets',
    stateDir: '/data/pets/.tunelab',
    stateFallback: false,
    stateReadOnly: null,
    lastScan: null,
    recoveredRuns: []
  }
  const detail: RunDetail = {
    run: {
      runId: 7,
      name: null,
      status: 'completed',
      createdAt: '',
      startedAt: '',
      endedAt: '',
      baseId: model.id,
      backend: 'wasm',
      classes: ['cats', 'dogs'],
      epochs: 2,
      bestValAccuracy: 0.9,
      bestEpoch: 2,
      error: null
    },
    config: storedConfigFor({ recipe: 'tf-tutorial', baseId: model.id, weights: 'official', epochs: 2 }),
    metrics: null,
    timings: null,
    backendNotes: null,
    epochs: [],
    evaluatedSplits: ['validation', 'test']
  }

  const api: TuneLabApi = {
    transport: 'serve',
    imageUrl: (k, id, size = 'thumb') => `/image/${k}/${id}?size=${size}`,
    app: {
      info: () =>
        call('app.info', {}, () => ({
          version: '0.1.0',
          transport: 'serve' as const,
          backend: null,
          platform: 'linux',
          node: '20',
          electron: null,
          weightsCacheDir: '/c',
          canPickFolder: false,
          initialProject: null
        })),
      pickFolder: () => call('app.pickFolder', {}, () => ({ path: null })),
      startupCheck: () =>
        call('app.startupCheck', {}, () => ({
          ok: true,
          runtime: { kind: 'node' as const, abi: '115', platform: 'linux', arch: 'x64' },
          checks: [
            {
              module: 'better-sqlite3' as const,
              role: 'SQLite',
              status: 'ok' as const,
              required: true,
              detail: 'SQLite 3.50',
              fix: null
            }
          ],
          backend: { expected: 'wasm + oneDNN convolutions', skipped: [] }
        }))
    },
    project: {
      // Another folder is another project (its own key), as the backend keys projects by path.
      open: (r) =>
        call('project.open', r, () => ({
          ...project,
          root: r.path,
          projectKey: r.path === project.root ? KEY : OTHER_KEY
        })),
      recent: () => call('project.recent', {}, () => ({ projects: [] })),
      scan: (r) => call('project.scan', r, () => scan)
    },
    dataset: {
      images: (r) =>
        call('dataset.images', r, () => ({
          total: 1,
          images: [
            {
              imageId: r.className === 'cats' ? 1 : 2,
              relPath: `${r.className ?? 'x'}/a.jpg`,
              className: r.className ?? null,
              split: null,
              folderSplit: null,
              width: 32,
              height: 32
            }
          ]
        })),
      previewSplit: (r) => call('dataset.previewSplit', r, () => fakeSplitPreview(r.strategy)),
      saveSplit: (r) =>
        call('dataset.saveSplit', r, () => ({
          ...fakeSplitPreview(r.strategy),
          splitId: 1,
          strategy: r.strategy,
          createdAt: ''
        })),
      getSplit: (r) => call('dataset.getSplit', r, () => null),
      augmentPreview: (r) =>
        call('dataset.augmentPreview', r, () => ({
          images: Array.from({ length: r.n }, (_, i) => `data:image/png;base64,${i}`)
        }))
    },
    models: {
      list: () => call('models.list', {}, () => ({ models: [model] })),
      download: (r) => call('models.download', r, () => ({ id: r.id, path: '/c/x.h5', sha256: 'x', fromCache: true })),
      onDownloadProgress: () => () => {}
    },
    training: {
      start: (r) => call('training.start', r, () => ({ runId: 7 })),
      cancel: (r) => call('training.cancel', r, () => ({ cancelled: true })),
      active: () => call('training.active', {}, () => ({ runs: [] })),
      onProgress: (fn) => {
        progress.add(fn)
        return () => progress.delete(fn)
      },
      findLr: (r) => call('training.findLr', r, () => ({ started: true as const })),
      cancelFindLr: (r) => call('training.cancelFindLr', r, () => ({ cancelled: true })),
      onFindLrProgress: () => () => {}
    },
    runs: {
      list: (r) =>
        call('runs.list', r, () => ({ runs: [{ ...detail.run, runId: 6, status: 'cancelled' as const }, detail.run] })),
      get: (r) => call('runs.get', r, () => ({ ...detail, run: { ...detail.run, runId: r.runId } })),
      diff: (r) =>
        call('runs.diff', r, () => ({
          runA: r.runA,
          runB: r.runB,
          splits: ['test' as const],
          common: 0,
          sameLabel: 0,
          accuracyA: null,
          accuracyB: null,
          wrongToRight: [],
          rightToWrong: [],
          relabelled: [],
          onlyA: [],
          onlyB: [],
          perClass: [],
          mcnemar: { b: 0, c: 0, pValue: 1 }
        }))
    },
    labels: {
      set: (r) =>
        call('labels.set', r, () => ({
          overrides: r.imageIds.map((imageId) => ({
            imageId,
            relPath: `cats/${imageId}.jpg`,
            contentHash: `h${imageId}`,
            originalClass: 'cats',
            newClass: r.action.kind === 'relabel' ? r.action.to : null,
            excluded: r.action.kind === 'exclude',
            note: r.note ?? null,
            createdAt: '',
            actionId: 1,
            applied: false
          })),
          counts: {
            relabelled: r.action.kind === 'relabel' ? r.imageIds.length : 0,
            excluded: r.action.kind === 'exclude' ? r.imageIds.length : 0
          },
          undoable: { actionId: 1, kind: r.action.kind, images: r.imageIds.length },
          lastApply: null,
          actionId: 1
        })),
      undo: (r) => call('labels.undo', r, () => ({ ...noLabels, undoneActionId: null })),
      clear: (r) => call('labels.clear', r, () => noLabels),
      list: (r) => call('labels.list', r, () => noLabels),
      applyPlan: (r) => call('labels.applyPlan', r, () => ({ moves: [], skipped: [] })),
      apply: (r) => call('labels.apply', r, () => ({ moved: 0, journal: '', moves: [] })),
      applyUndo: (r) => call('labels.applyUndo', r, () => ({ moved: 0, journal: '', moves: [] }))
    },
    results: {
      gallery: (r) => call('results.gallery', r, () => ({ items: [] })),
      confusion: (r) =>
        call('results.confusion', r, () => ({
          classes: ['cats', 'dogs'],
          matrix: [
            [4, 1],
            [0, 5]
          ],
          total: 10,
          accuracy: 0.9
        })),
      cell: (r) =>
        call('results.cell', r, () => ({
          items: [
            {
              imageId: 3,
              relPath: 'cats/c3.jpg',
              split: r.split,
              trueClass: r.trueClass,
              predictedClass: r.predictedClass,
              probabilities: [0.2, 0.8],
              confidence: 0.8,
              margin: 0.6,
              loss: 1.6,
              correct: false,
              present: true
            }
          ]
        })),
      threshold: (r) =>
        call('results.threshold', r, () => ({
          points: [
            { threshold: 0.5, coverage: 1, covered: 10, accuracy: 0.9 },
            { threshold: 0.75, coverage: 0.6, covered: 6, accuracy: 1 }
          ]
        }))
    },
    predict: {
      image: (r) =>
        call('predict.image', r, () => ({
          classes: ['cats', 'dogs'],
          probabilities: [0.3, 0.7],
          predictedClass: 'dogs',
          confidence: 0.7
        })),
      gradCam: (r) =>
        call('predict.gradCam', r, () => ({
          classes: ['cats', 'dogs'],
          className: r.className,
          overlay: 'data:image/png;base64,AA=='
        }))
    },
    export: {
      run: (r) =>
        call('export.run', r, () => ({
          dir: r.out,
          files: ['model.onnx', 'tunelab.json', 'README.md'],
          checks: [],
          skippedImages: 0,
          storedPredictions: null
        })),
      cancel: (r) => call('export.cancel', r, () => ({ cancelled: true })),
      onProgress: () => () => {}
    },
    audit: {
      start: (r) => call('audit.start', r, () => ({ started: true as const })),
      cancel: (r) => call('audit.cancel', r, () => ({ cancelled: true })),
      get: (r) =>
        call('audit.get', r, () => ({
          audit: null,
          running: false,
          labelIssues: [],
          nearDuplicates: [],
          outliers: []
        })),
      dismiss: (r) => call('audit.dismiss', r, () => ({ dismissed: true as const })),
      onProgress: () => () => {}
    }
  }

  return {
    api,
    calls,
    emitProgress: (p) => progress.forEach((fn) => fn(p)),
    failNext: (name, message) => failures.set(name, message)
  }
}
