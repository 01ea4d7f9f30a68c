// `npm run bench:defaults`: does `train --recipe auto` (no other option) get what the best of a sweep gets, and
// more than the `tf-tutorial` recipe? On hymenoptera_data (its folder split) and on seeded subsets of
// cats_and_dogs_filtered with 10, 30, 100 and 1000 training images per class (fixed validation/test halves).
// Base: MobileNetV2 0.35 @224 with the shared Teachable Machine weights. A script, not a test.
//
//   npm run bench:defaults [-- --quick] [--rows hymenoptera,10,30,100,1000] [--work DIR] [--out FILE]
//
// Per row: a warm-up `train --epochs 1` computes and caches every image's features and stores the default split;
// then `tf-tutorial` (with `--augment none`: the recipe's own flip and rotation would run the base on every
// batch, which is not what this compares) and `auto` run as CLI processes (wall-clock includes start-up, features
// come from the cache for both), and the sweep trains phase-1 heads in this process on the same cached features and split
// (bench/defaults/sweep.ts). Writes bench/results/defaults-latest.json and prints the table.
// --quick: a small sweep grid (for trying the harness; its "best" is not the real best).
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, tmpdir, totalmem } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { catsDogsSubsets, hymenoptera, type BenchDataset } from './defaults/datasets'
import { runCli, type CliRun } from './defaults/cliRun'
import { sweep, type SweepGrid } from './defaults/sweep'
import { table } from '../src/cli/format'
import type { ResizeMode } from '../src/shared/domain'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const DATA = process.env['TUNELAB_SHARED_DATA'] ?? '/work/shared/data'
const BASE_ID = 'mobilenet_v2_0.35_224'
const WEIGHTS = join(DATA, 'weights', 'tfjs_teachable_machine_mobilenetv2_0.35_dog')
const ROWS = ['hymenoptera', '10', '30', '100', '1000'] as const

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rows: { type: 'string', default: ROWS.join(',') },
    work: { type: 'string' },
    out: { type: 'string', default: join(ROOT, 'bench', 'results', 'defaults-latest.json') }
  }
})
const rows = values.rows.split(',').map((r) => {
  if (!(ROWS as readonly string[]).includes(r)) throw new Error(`--rows: '${r}' is not one of ${ROWS.join(', ')}`)
  return r
})
const GRID: SweepGrid = values.quick
  ? { lrs: [1e-3, 1e-2], epochs: [10, 50], dense: [0, 128], maxSteps: 400 }
  : { lrs: [3e-4, 1e-3, 3e-3, 1e-2], epochs: [5, 10, 20, 50, 100, 200], dense: [0, 128], maxSteps: 600 }

interface Acc {
  val: number | null
  test: number | null
}
interface Row {
  dataset: string
  images: number
  auto: Acc & { seconds: number }
  best: Acc & { config: unknown }
  tfTutorial: Acc & { seconds: number }
}

const log = (s: string): void => void process.stderr.write(s + '\n')
const r3 = (x: number | null): number | null => (x === null ? null : Math.round(x * 1000) / 1000)
const r1 = (x: number): number => Math.round(x * 10) / 10

function cpuModel(): string {
  try {
    const line = execFileSync('lscpu', { encoding: 'utf8' })
      .split('\n')
      .find((l) => l.startsWith('Model name'))
    return line?.split(':')[1]?.trim() ?? cpus()[0]?.model ?? 'unknown'
  } catch {
    return cpus()[0]?.model ?? 'unknown'
  }
}

/** The CLI's train usage line names --recipe once the recipes exist. */
function hasRecipes(): boolean {
  const help = execFileSync(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', 'train', '--help'], {
    cwd: ROOT,
    encoding: 'utf8'
  })
  return help.includes('--recipe')
}

/** The resize mode the auto run chose (its 'auto: resizing …' line), else the default. */
function autoResize(run: CliRun): ResizeMode | undefined {
  for (const l of run.lines) {
    const m = typeof l.message === 'string' ? /^auto: resizing (squash|pad|center-crop) /.exec(l.message) : null
    if (m) return m[1] as ResizeMode
  }
  return undefined
}

async function main(): Promise<void> {
  for (const p of [WEIGHTS, join(DATA, 'hymenoptera_data'), join(DATA, 'cats_and_dogs_filtered')]) {
    if (!existsSync(p)) throw new Error(`bench:defaults needs ${p} (set TUNELAB_SHARED_DATA)`)
  }
  const recipes = hasRecipes()
  if (!recipes) log('NOTE: this build has no --recipe: "auto" and "tf-tutorial" both run today\'s defaults')
  const work = values.work ?? mkdtempSync(join(tmpdir(), 'tunelab-bench-defaults-'))
  mkdirSync(work, { recursive: true })
  const env = { TUNELAB_DATA_DIR: join(work, 'state') }
  process.env['TUNELAB_DATA_DIR'] = env.TUNELAB_DATA_DIR
  const load0 = loadavg().map((x) => r1(x))
  const started = new Date()
  log(`work folder ${work}; load ${load0.join(' ')}`)

  const perClass = rows.filter((r) => r !== 'hymenoptera').map(Number)
  // Smallest subset first (the rows that matter most); the subsets share one feature cache.
  const datasets: BenchDataset[] = [
    ...(rows.includes('hymenoptera') ? [hymenoptera(join(DATA, 'hymenoptera_data'))] : []),
    ...catsDogsSubsets(
      join(DATA, 'cats_and_dogs_filtered'),
      work,
      [...perClass].sort((a, b) => a - b)
    )
  ]
  const base = ['--base', BASE_ID, '--weights', WEIGHTS]
  const recipe = (name: string): string[] => (recipes ? ['--recipe', name] : [])
  const out: Row[] = []
  /** Writes the JSON (after every row, so an interrupted bench keeps what it measured). */
  const write = (): void => {
    // hymenoptera_data first, then the subsets by size.
    out.sort((a, b) => (a.dataset === b.dataset ? a.images - b.images : a.dataset < b.dataset ? 1 : -1))
    const machine = {
      cpu: cpuModel(),
      cores: cpus().length,
      memGiB: r1(totalmem() / 1024 ** 3),
      node: process.version,
      loadavgStart: load0,
      loadavgEnd: loadavg().map((x) => r1(x)),
      date: started.toISOString(),
      base: `${BASE_ID} + ${WEIGHTS}`,
      recipes: recipes ? 'auto and tf-tutorial from --recipe' : 'no --recipe in this build: both are the defaults',
      sweep: GRID,
      note: 'seconds: CLI wall-clock with every feature already cached by a warm-up run; tf-tutorial without its augmentation'
    }
    mkdirSync(dirname(values.out), { recursive: true })
    writeFileSync(values.out, JSON.stringify({ machine, rows: out }, null, 2) + '\n')
  }
  for (const d of datasets) {
    log(`\n== ${d.name} (${d.images} training images) at ${d.root}`)
    const tutorial = [...recipe('tf-tutorial'), '--augment', 'none']
    await runCli(ROOT, ['train', d.root, ...base, ...tutorial, '--epochs', '1'], env, log)
    const tf: CliRun = await runCli(ROOT, ['train', d.root, ...base, ...tutorial], env, log)
    const auto: CliRun = await runCli(ROOT, ['train', d.root, ...base, ...recipe('auto')], env, log)
    // The sweep trains on the features auto trained on (auto may pick pad resizing on a small project).
    const resizeMode = autoResize(auto)
    const best = await sweep(d.root, { baseId: BASE_ID, weightsPath: WEIGHTS, resizeMode }, GRID, log)
    log(
      `    best of sweep (${best.tried} configurations, ${best.seconds.toFixed(0)} s): val ${best.val.toFixed(3)} test ${best.test?.toFixed(3) ?? '-'} ${JSON.stringify(best.config)}`
    )
    out.push({
      dataset: d.name,
      images: d.images,
      auto: { val: r3(auto.val), test: r3(auto.test), seconds: r1(auto.seconds) },
      best: { val: r3(best.val), test: r3(best.test), config: best.config },
      tfTutorial: { val: r3(tf.val), test: r3(tf.test), seconds: r1(tf.seconds) }
    })
    write()
  }
  write()
  const pct = (x: unknown): string => (typeof x === 'number' ? (x * 100).toFixed(1) : '-')
  process.stdout.write(
    table(
      [
        'data set',
        'images',
        'auto val',
        'auto test',
        'auto s',
        'best val',
        'best test',
        'tf-tut val',
        'tf-tut test',
        'tf-tut s',
        'auto - best (val)'
      ],
      out.map((r) => {
        const { auto: a, best: b, tfTutorial: t } = r
        return [
          r.dataset,
          r.images,
          pct(a.val),
          pct(a.test),
          a.seconds,
          pct(b.val),
          pct(b.test),
          pct(t.val),
          pct(t.test),
          t.seconds,
          a.val !== null && b.val !== null ? ((a.val - b.val) * 100).toFixed(1) : '-'
        ]
      })
    ) + `\nwrote ${values.out}\n`
  )
}

main().catch((e: unknown) => {
  log(`bench:defaults: ${(e as Error).stack ?? String(e)}`)
  process.exitCode = 1
})
