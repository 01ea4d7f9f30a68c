// Prints how long the store takes for the sizes TuneLab meets (cats_and_dogs_filtered: 3000 images).
// Run: npx tsx bench/store/store.ts [--images 3000] [--epochs 20]
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ScanResult, SplitName } from '../../src/shared/domain'
import { ProjectStore } from '../../src/main/core/store/projectStore'

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? Number(process.argv[i + 1]) : fallback
}

function time<T>(label: string, fn: () => T, unit?: { count: number; name: string }): T {
  const t = performance.now()
  const out = fn()
  const ms = performance.now() - t
  const per = unit ? `  (${((ms * 1000) / unit.count).toFixed(1)} us/${unit.name})` : ''
  console.log(`${label.padEnd(44)} ${ms.toFixed(1).padStart(8)} ms${per}`)
  return out
}

const N = arg('images', 3000)
const EPOCHS = arg('epochs', 20)
const dir = mkdtempSync(join(tmpdir(), 'tunelab-bench-store-'))
try {
  const root = join(dir, 'pets')
  const classes = ['cat', 'dog']
  const scan: ScanResult = {
    root,
    layout: 'flat',
    folderSplits: [],
    classes: classes.map((name) => ({ name, counts: { all: N / 2 }, total: N / 2 })),
    images: Array.from({ length: N }, (_, i) => {
      const c = classes[i % 2]!
      return {
        path: `${c}/${c}.${i}.jpg`,
        className: c,
        folderSplit: null,
        hash: `${i}`.padStart(64, '0'),
        width: 500,
        height: 375,
        bytes: 22000
      }
    }),
    unreadable: [],
    leakage: [],
    seconds: 0
  }
  console.log(`store benchmark: ${N} images, ${EPOCHS} epochs`)
  const store = time('open + migrate (new file)', () => ProjectStore.open(join(dir, 'tunelab.db')))
  const project = store.getProject(store.upsertProject(root))!
  time('saveScan (first)', () => store.saveScan(project.id, scan), { count: N, name: 'image' })
  time('saveScan (rescan, unchanged)', () => store.saveScan(project.id, scan), { count: N, name: 'image' })
  const splits: SplitName[] = ['train', 'train', 'train', 'validation', 'test']
  const assignment = new Map(scan.images.map((img, i) => [img.path, splits[i % 5]!]))
  time(
    'saveSplit',
    () => store.saveSplit(project.id, { kind: 'ratios', ratios: [0.6, 0.2, 0.2], seed: 1 }, assignment),
    { count: N, name: 'image' }
  )
  time('getSplit', () => store.getSplit(project.id))
  time('listImages (train)', () => store.listImages(project.id, { split: 'train' }))
  const run = store.createRun({ projectId: project.id, config: { bench: true }, classes })
  time(
    `appendEpoch x ${EPOCHS}`,
    () => {
      for (let e = 1; e <= EPOCHS; e++)
        store.appendEpoch(run.id, { phase: e <= EPOCHS / 2 ? 1 : 2, epoch: e, loss: 1 / e, valAccuracy: 0.5 + e / 100 })
    },
    { count: EPOCHS, name: 'epoch' }
  )
  const images = store.listImages(project.id)
  const rows = images.map((img, i) => {
    const p = ((i * 7919) % 1000) / 1000
    return {
      imageId: img.id,
      split: img.split!,
      trueClass: img.className!,
      predictedClass: p >= 0.5 ? 'cat' : 'dog',
      probabilities: [p, 1 - p]
    }
  })
  time('savePredictions (all images)', () => store.savePredictions(run.id, rows), { count: N, name: 'row' })
  const reps = 200
  for (const [label, q] of [
    ['mostConfident(test, cat, 16)', () => store.mostConfident(run.id, 'test', 'cat', 16)],
    ['leastConfident(test, cat, 16)', () => store.leastConfident(run.id, 'test', 'cat', 16)],
    ['confidentlyWrong(test, cat, 16)', () => store.confidentlyWrong(run.id, 'test', 'cat', 16)],
    ['confusionMatrix(test)', () => store.confusionMatrix(run.id, 'test')],
    ['confusionCellImages(test, cat, dog)', () => store.confusionCellImages(run.id, 'test', 'cat', 'dog')]
  ] as const) {
    time(
      `${label} x ${reps}`,
      () => {
        for (let i = 0; i < reps; i++) q()
      },
      { count: reps, name: 'query' }
    )
  }
  time('listRuns', () => store.listRuns(project.id))
  store.close()
  time('reopen (migrated, recovery scan)', () => ProjectStore.open(join(dir, 'tunelab.db')).close())
} finally {
  rmSync(dir, { recursive: true, force: true })
}
