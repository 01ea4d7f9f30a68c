// Cold feature extraction (recipe A: MobileNetV2 1.0 @160, BatchNorm folded, batch 32) with and without
// read-ahead: every pass starts from an empty image cache, so each batch is read + decoded from the JPEGs.
// Usage: npx tsx bench/training/readAhead.ts [--images 640] [--rounds 2] [--backend wasm] [--base mobilenet_v2_1.0_160]
// Prints one JSON line per pass and a summary line (images/s off vs on).
import { createHash } from 'node:crypto'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import type { ScannedImage, SplitName } from '@shared/domain'
import { buildBase } from '@core/models'
import { initBackend, type BackendPreference } from '@core/tf/backend'
import { foldBatchNorm } from '@core/tf/foldBatchNorm'
import { ImageCache } from '@core/pipeline/imageCache'
import { extractFeatures } from '@core/training/features'
import { imageSetFor } from '@core/pipeline/imageSets'

const DATA = '/work/shared/data/cats_and_dogs_filtered'
const { values } = parseArgs({
  options: {
    images: { type: 'string', default: '640' },
    rounds: { type: 'string', default: '2' },
    backend: { type: 'string', default: 'wasm' },
    base: { type: 'string', default: 'mobilenet_v2_1.0_160' },
    data: { type: 'string', default: DATA }
  }
})
const dataDir = values.data
if (!existsSync(dataDir)) {
  console.log(`skipped: ${dataDir} not found (the shared cats-and-dogs data set is needed)`)
  process.exit(0)
}
const total = Number(values.images)
const out = (o: object): void => console.log(JSON.stringify(o))
const range = (a: number, b: number): number[] => Array.from({ length: b - a }, (_, k) => a + k)

// Half cats, half dogs from train/, hashed as the scan would (the cache key).
const images: ScannedImage[] = []
for (const cls of ['cats', 'dogs']) {
  const dir = join(dataDir, 'train', cls)
  for (const name of readdirSync(dir)
    .sort()
    .slice(0, Math.ceil(total / 2))) {
    const rel = `train/${cls}/${name}`
    const buf = readFileSync(join(dataDir, rel))
    images.push({
      path: rel,
      className: cls,
      folderSplit: 'train',
      hash: createHash('sha256').update(buf).digest('hex'),
      width: 0,
      height: 0,
      bytes: buf.length
    })
  }
}
const assignment = new Map<string, SplitName>(images.map((im) => [im.path, 'train']))

const backend = await initBackend({ prefer: values.backend as BackendPreference })
const base = buildBase(values.base)
const frozen = {
  spec: base.spec,
  model: foldBatchNorm(base.model),
  preprocess: (x: Parameters<typeof base.preprocess>[0]) => base.preprocess(x)
}
out({ backend: backend.name, base: base.spec.id, images: images.length, batch: 32 })

// Warm-up pass (compiles kernels), not counted.
{
  const cacheDir = mkdtempSync(join(tmpdir(), 'tunelab-ra-'))
  const { set } = imageSetFor(
    dataDir,
    images.slice(0, 64),
    assignment,
    'train',
    ['cats', 'dogs'],
    new ImageCache(cacheDir),
    base.spec.size,
    'squash'
  )
  await extractFeatures(frozen, set, { batchSize: 32 })
  rmSync(cacheDir, { recursive: true, force: true })
}

const results: Record<'off' | 'on', number[]> = { off: [], on: [] }
for (let r = 0; r < Number(values.rounds); r++) {
  for (const mode of ['off', 'on'] as const) {
    const cacheDir = mkdtempSync(join(tmpdir(), 'tunelab-ra-'))
    try {
      const cache = new ImageCache(cacheDir)
      const split = imageSetFor(
        dataDir,
        images,
        assignment,
        'train',
        ['cats', 'dogs'],
        cache,
        base.spec.size,
        'squash',
        { readAhead: mode === 'on' }
      )
      const t0 = performance.now()
      await extractFeatures(frozen, split.set, { batchSize: 32 })
      const s = (performance.now() - t0) / 1000
      const ips = images.length / s
      results[mode].push(ips)
      out({
        round: r + 1,
        readAhead: mode,
        seconds: +s.toFixed(2),
        imagesPerSec: +ips.toFixed(1),
        decodes: cache.stats.decodes,
        readAheadStats: split.readAhead
      })
    } finally {
      rmSync(cacheDir, { recursive: true, force: true })
    }
  }
}
// The two parts alone, for the bound: without overlap a pass costs about decode + compute, with it about max of both.
{
  const cacheDir = mkdtempSync(join(tmpdir(), 'tunelab-ra-'))
  try {
    const cache = new ImageCache(cacheDir)
    const split = imageSetFor(dataDir, images, assignment, 'train', ['cats', 'dogs'], cache, base.spec.size, 'squash', {
      readAhead: false
    })
    let t0 = performance.now()
    for (let s = 0; s < images.length; s += 32) await split.set.load(range(s, Math.min(images.length, s + 32)))
    const decodeS = (performance.now() - t0) / 1000
    t0 = performance.now()
    await extractFeatures(frozen, split.set, { batchSize: 32 }) // image cache now warm: compute + cache reads
    const computeS = (performance.now() - t0) / 1000
    out({
      part: 'alone',
      decodeSeconds: +decodeS.toFixed(2),
      computeSeconds: +computeS.toFixed(2),
      decodeImagesPerSec: +(images.length / decodeS).toFixed(1),
      computeImagesPerSec: +(images.length / computeS).toFixed(1)
    })
  } finally {
    rmSync(cacheDir, { recursive: true, force: true })
  }
}
const best = (xs: number[]): number => Math.max(...xs)
out({
  summary: 'cold features images/s (best of rounds)',
  off: +best(results.off).toFixed(1),
  on: +best(results.on).toFixed(1),
  speedup: +(best(results.on) / best(results.off)).toFixed(2)
})
