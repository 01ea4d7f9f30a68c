// Scale bench (not a test): generated projects of N real-looking images through the real serve-mode service
// (WebSocket API, training in its worker thread): scan, split, training to the end, evaluation, the Results
// queries (galleries, confusion matrix and cell, threshold sweep) with p50/p99, the API round trip while it
// trains, the SQLite file size, time per image and peak RSS; plus a scan-only run of a bigger generated folder.
//
//   npx tsx bench/scale.ts [--images 2000,20000] [--scan-images 100000] [--recipe auto|tf-tutorial] [--epochs 3] [--fine-tune-epochs 0]
//                          [--base mobilenet_v2_0.35_224] [--out bench/results/scale-latest.json]
//   npm run bench -- --only scale  (the same with the defaults; --scale-images / --scan-images pass through)
//
// Images: the shared cats_and_dogs_filtered training photos, each made into a new JPEG by a seeded crop, flip,
// size change (longer side 160..480 px) and colour treatment; 10 classes = {cat, dog} x 5 colour treatments, so
// the classes are learnable. Each size runs in its own child process (`--one N`), so its peak RSS is its own.
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import sharp from 'sharp'
import { NO_AUGMENTATION } from '@shared/domain'
import type { TuneLabApi } from '@shared/contract'
import { mapLimit } from '@core/util/pool'
import { createRng, type Rng } from '@core/util/rng'
import { startTestServer, wsApi } from '../test/helpers/serve'
import { percentile, stageOf } from './ipc/sampler'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const DATA = process.env['TUNELAB_SHARED_DATA'] ?? '/work/shared/data'
const SOURCES = join(DATA, 'cats_and_dogs_filtered', 'train')
const TM_V2 = join(DATA, 'weights', 'tfjs_teachable_machine_mobilenetv2_0.35_dog')
const TINTS = ['plain', 'warm', 'cold', 'green', 'grey'] as const

const { values } = parseArgs({
  options: {
    images: { type: 'string', default: '2000,20000' },
    'scan-images': { type: 'string', default: '100000' },
    recipe: { type: 'string', default: 'auto' },
    epochs: { type: 'string', default: '3' },
    'fine-tune-epochs': { type: 'string', default: '0' },
    base: { type: 'string', default: 'mobilenet_v2_0.35_224' },
    reps: { type: 'string', default: '40' },
    one: { type: 'string' },
    out: { type: 'string', default: join(ROOT, 'bench', 'results', 'scale-latest.json') }
  }
})

type Json = Record<string, unknown>
const log = (s: string): void => void process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${s}\n`)
const r2 = (x: number): number => Math.round(x * 100) / 100
const load1 = (): number => r2(loadavg()[0] ?? 0)
const peakMib = (): number => Math.round(process.resourceUsage().maxRSS / 1024)

/** One new JPEG from a source photo: seeded crop, flip, size and the class's colour treatment. */
async function variant(src: string, tint: (typeof TINTS)[number], rng: Rng): Promise<Buffer> {
  const meta = await sharp(src).metadata()
  const W = meta.width ?? 0
  const H = meta.height ?? 0
  const f = 0.6 + 0.4 * rng.next()
  const w = Math.max(16, Math.floor(W * f))
  const h = Math.max(16, Math.floor(H * (0.6 + 0.4 * rng.next())))
  let img = sharp(src).extract({
    left: Math.floor((W - w) * rng.next()),
    top: Math.floor((H - h) * rng.next()),
    width: w,
    height: h
  })
  if (rng.next() < 0.5) img = img.flop()
  const side = 160 + Math.floor(320 * rng.next())
  img = img.resize(side, side, { fit: 'inside' })
  if (tint === 'warm') img = img.tint({ r: 255, g: 170, b: 110 })
  else if (tint === 'cold') img = img.tint({ r: 110, g: 170, b: 255 })
  else if (tint === 'green') img = img.tint({ r: 120, g: 255, b: 120 })
  else if (tint === 'grey') img = img.greyscale()
  return img
    .modulate({ brightness: 0.85 + 0.3 * rng.next() })
    .jpeg({ quality: 85 })
    .toBuffer()
}

async function generate(dir: string, n: number): Promise<number> {
  const t = performance.now()
  const pools = ['cats', 'dogs'].map((c) =>
    readdirSync(join(SOURCES, c))
      .filter((f) => f.endsWith('.jpg'))
      .sort()
      .map((f) => join(SOURCES, c, f))
  )
  const classes = pools.flatMap((_, a) =>
    TINTS.map((tint) => ({ animal: a, tint, name: `${a === 0 ? 'cat' : 'dog'}_${tint}` }))
  )
  for (const c of classes) mkdirSync(join(dir, c.name), { recursive: true })
  await mapLimit(
    Array.from({ length: n }, (_, i) => i),
    4,
    async (i) => {
      const c = classes[i % classes.length]!
      const pool = pools[c.animal]!
      const rng = createRng(1000 + i)
      const src = pool[Math.floor(rng.next() * pool.length)]!
      writeFileSync(join(dir, c.name, `${String(i).padStart(6, '0')}.jpg`), await variant(src, c.tint, rng))
    }
  )
  return (performance.now() - t) / 1000
}

function sizeOfDbFiles(dir: string): number {
  let total = 0
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    if (e.isDirectory()) total += sizeOfDbFiles(p)
    else if (/\.(db|sqlite)(-wal)?$/.test(e.name)) total += statSync(p).size
  }
  return total
}

async function timedQueries(reps: number, fn: () => Promise<unknown>): Promise<Json> {
  await fn()
  const xs: number[] = []
  for (let i = 0; i < reps; i++) {
    const t = performance.now()
    await fn()
    xs.push(performance.now() - t)
  }
  return { n: xs.length, p50_ms: r2(percentile(xs, 50)), p99_ms: r2(percentile(xs, 99)), max_ms: r2(Math.max(...xs)) }
}

async function resultsQueries(api: TuneLabApi, projectKey: string, runId: number, reps: number): Promise<Json> {
  const inRun = { projectKey, runId, split: 'test' as const }
  const { classes, matrix } = await api.results.confusion(inRun)
  // The busiest wrong cell (the one a user clicks first), else the first cell.
  let wrong = { trueClass: classes[0] ?? '', predictedClass: classes[0] ?? '', count: -1 }
  matrix.forEach((row, i) =>
    row.forEach((count, j) => {
      if (i !== j && count > wrong.count)
        wrong = { trueClass: classes[i] ?? '', predictedClass: classes[j] ?? '', count }
    })
  )
  const out: Json = {
    gallery_most_confident: await timedQueries(reps, () =>
      api.results.gallery({ ...inRun, kind: 'most-confident', className: null, n: 48 })
    ),
    gallery_confidently_wrong: await timedQueries(reps, () =>
      api.results.gallery({ ...inRun, kind: 'confidently-wrong', className: null, n: 48 })
    ),
    confusion: await timedQueries(reps, () => api.results.confusion(inRun)),
    threshold_sweep: await timedQueries(reps, () => api.results.threshold(inRun))
  }
  if (wrong.trueClass)
    out['confusion_cell'] = await timedQueries(reps, () =>
      api.results.cell({ ...inRun, trueClass: wrong.trueClass, predictedClass: wrong.predictedClass, n: 48 })
    )
  return out
}

/** One project of n images, start to end, in this process. Prints one JSON line. */
async function one(n: number): Promise<void> {
  const tmp = mkdtempSync(join(tmpdir(), `tunelab-scale-${n}-`))
  try {
    const project = join(tmp, 'project')
    log(`generating ${n} images in ${project} ...`)
    const generate_s = await generate(project, n)
    const rssAfterGenerate = peakMib()
    const server = await startTestServer(join(tmp, 'state'))
    const { api, close } = wsApi(server)
    try {
      const t0 = performance.now()
      const opened = await api.project.open({ path: project })
      const pk = opened.projectKey
      let t = performance.now()
      await api.project.scan({ projectKey: pk })
      const scan_s = (performance.now() - t) / 1000
      t = performance.now()
      await api.dataset.saveSplit({ projectKey: pk, strategy: { kind: 'ratios', ratios: [0.7, 0.15, 0.15], seed: 1 } })
      const split_s = (performance.now() - t) / 1000
      log(`  scan ${r2(scan_s)} s, split ${r2(split_s)} s; training ...`)

      let done = false
      let failed: string | null = null
      const stages: Record<string, number> = {}
      let stage = 'start'
      let stageT = performance.now()
      api.training.onProgress((e) => {
        const ev = e.event
        const s = stageOf(e.event)
        if (s && s !== stage) {
          stages[stage] = r2((stages[stage] ?? 0) + (performance.now() - stageT) / 1000)
          stage = s
          stageT = performance.now()
        }
        if (ev.type === 'done') {
          if (ev.status !== 'completed') failed = `${ev.status}: ${ev.error ?? ''}`
          done = true
        }
      })
      const weights =
        existsSync(TM_V2) && values.base === 'mobilenet_v2_0.35_224' ? { path: TM_V2 } : ('random' as const)
      t = performance.now()
      const ftEpochs = Number(values['fine-tune-epochs'])
      const { runId } = await api.training.start({
        projectKey: pk,
        config: {
          // `auto` with nothing else set: what a user who opens the folder and presses Train gets. (--recipe
          // tf-tutorial with --epochs / --fine-tune-epochs gives a fixed amount of work instead.)
          recipe: values.recipe as 'auto' | 'tf-tutorial',
          baseId: values.base as string,
          weights,
          seed: 1,
          backend: 'wasm',
          ...(values.recipe === 'auto'
            ? {}
            : {
                resizeMode: 'squash' as const,
                augment: NO_AUGMENTATION,
                epochs: Number(values.epochs),
                lr: 1e-3,
                ...(ftEpochs > 0 ? { fineTuneAt: 100, fineTuneEpochs: ftEpochs } : {})
              })
        }
      })
      // The UI's view while it trains: one small request at a time, 20 ms apart.
      const rtt: number[] = []
      while (!done) {
        const q = performance.now()
        await api.runs.list({ projectKey: pk })
        rtt.push(performance.now() - q)
        await new Promise((r) => setTimeout(r, 20))
      }
      stages[stage] = r2((stages[stage] ?? 0) + (performance.now() - stageT) / 1000)
      const train_s = (performance.now() - t) / 1000
      if (failed) throw new Error(`training failed: ${String(failed)}`)
      const detail = await api.runs.get({ projectKey: pk, runId })
      log(`  training + evaluation ${r2(train_s)} s; Results queries ...`)
      const queries = await resultsQueries(api, pk, runId, Number(values.reps))
      const total_s = (performance.now() - t0) / 1000
      const metrics = (detail as unknown as { metrics?: Record<string, { accuracy?: number } | null> }).metrics ?? {}
      console.log(
        JSON.stringify({
          what: 'scale',
          images: n,
          classes: 10,
          generate_s: r2(generate_s),
          scan_s: r2(scan_s),
          split_s: r2(split_s),
          train_and_eval_s: r2(train_s),
          total_s: r2(total_s),
          per_image_ms: r2((total_s * 1000) / n),
          scan_per_image_ms: r2((scan_s * 1000) / n),
          train_per_image_ms: r2((train_s * 1000) / n),
          stages_s: stages,
          test_acc: metrics['test']?.accuracy ?? null,
          api_rtt_while_training: {
            n: rtt.length,
            p50_ms: r2(percentile(rtt, 50)),
            p99_ms: r2(percentile(rtt, 99)),
            max_ms: r2(Math.max(...rtt))
          },
          results_queries: queries,
          sqlite_bytes: sizeOfDbFiles(tmp),
          peak_mib: peakMib(),
          rss_after_generate_mib: rssAfterGenerate,
          recipe: values.recipe,
          resolved: detail.config?.resolved ?? null,
          choices: detail.config?.choices ?? [],
          base: values.base,
          weights: weights === 'random' ? 'random' : 'TM',
          load1: load1()
        })
      )
    } finally {
      close()
      await server.close()
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true })
  }
}

function child(args: string[]): Promise<{ code: number | null; stdout: string }> {
  return new Promise((res, rej) => {
    const p = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] })
    let stdout = ''
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    p.on('error', rej)
    p.on('close', (code) => res({ code, stdout }))
  })
}

const lastJson = (s: string): Json | null => {
  const line = s
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .pop()
  return line ? (JSON.parse(line) as Json) : null
}

async function main(): Promise<void> {
  if (values.one) return one(Number(values.one))
  if (!existsSync(SOURCES))
    throw new Error(`${SOURCES} not found (set TUNELAB_SHARED_DATA): the scale bench makes its images from it`)
  const result: Json = { date: new Date().toISOString(), loadavg_start: loadavg().map(r2), runs: [] as Json[] }
  for (const n of (values.images as string).split(',').filter(Boolean).map(Number)) {
    const self = fileURLToPath(import.meta.url)
    const passOn = [
      '--recipe',
      values.recipe as string,
      '--epochs',
      values.epochs as string,
      '--fine-tune-epochs',
      values['fine-tune-epochs'] as string,
      '--base',
      values.base as string,
      '--reps',
      values.reps as string
    ]
    const l = load1()
    const p = await child([self, '--one', String(n), ...passOn])
    const o = lastJson(p.stdout)
    ;(result['runs'] as Json[]).push(
      o && p.code === 0 ? { ...o, load1_start: l } : { images: n, error: `exit ${String(p.code)}` }
    )
    log(`${n} images: ${JSON.stringify(o)}`)
  }
  const runs = (result['runs'] as Json[]).filter((r) => typeof r['per_image_ms'] === 'number')
  if (runs.length >= 2) {
    const [a, b] = [runs[0]!, runs[runs.length - 1]!]
    result['per_image_growth'] = r2((b['per_image_ms'] as number) / (a['per_image_ms'] as number))
  }
  const scanN = Number(values['scan-images'])
  if (scanN > 0) {
    log(`scan-only: ${scanN} generated images (bench/scan.ts) ...`)
    const p = await child([join(ROOT, 'bench', 'scan.ts'), String(scanN), '--classes', '10'])
    result['scan_only'] = { images: scanN, output: p.stdout.trim().split('\n').slice(-8), code: p.code, load1: load1() }
  }
  result['loadavg_end'] = loadavg().map(r2)
  mkdirSync(dirname(values.out as string), { recursive: true })
  writeFileSync(values.out as string, JSON.stringify(result, null, 2) + '\n')
  console.log(JSON.stringify(result))
  log(`written ${values.out as string}`)
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e)
    process.exit(1)
  }
)
