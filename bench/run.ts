// `npm run bench`: our engine vs a PyTorch peer on the same machine, same work, one invocation.
// Every measurement runs in its own process (clean peak RSS), one after the other. Prints a table and writes a
// dated file in bench/results; a run of every part (--all) also replaces bench/results/latest.json.
// ratio = how many times faster ours is (peer time / our time).
//
//   npm run bench [-- --quick] [--all | --only forward,finetune,phase1,tutorial,scale] [--scale-images 2000,20000] [--scan-images N] [--no-peer] [--epochs N] [--fine-tune-epochs N] [--reps N] [--rounds N] [--peer-head-init keras|torch] [--tutorial-seeds N]
//
// forward also runs ONNX Runtime (bench/ort.ts) on the same network and weights, after checking its output equals ours.
// tutorial: the whole TF tutorial (--epochs head epochs + --fine-tune-epochs from layer 100), cold, ours vs the peer,
// both without its augmentation (the peer has none; the tf-tutorial recipe flips and rotates unless told --augment none).
// --tutorial-seeds N: then N-1 more training seeds (1, 2, ...) on both sides, on the same split: one run's test
// accuracy on 200 images moves by +-1.5 points with the seed alone, so a single pair cannot say which side is better.
//
// --rounds: forward and fine-tune measurements alternate ours / peer N times (default 2, --quick 1), best of each kept.
//
// --peer-head-init: the peer's head starts as the tutorial's Keras Dense(1) does (glorot-uniform, zero bias;
// the default, as ours) or with PyTorch's Linear default (narrower; converges faster in 10 epochs).
//
// --quick: forward/fine-tune on MobileNetV2 1.0 @160 only with fewer reps, phase 1 with 2 epochs.
// Env: TUNELAB_SHARED_DATA (default /work/shared/data), BENCH_PYTHON (default /usr/bin/python3).
import Database from 'better-sqlite3'
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { cpus, loadavg, tmpdir, totalmem } from 'node:os'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const DATA = process.env['TUNELAB_SHARED_DATA'] ?? '/work/shared/data'
const CATS_DOGS = join(DATA, 'cats_and_dogs_filtered')
const TM_V2 = join(DATA, 'weights', 'tfjs_teachable_machine_mobilenetv2_0.35_dog')
const PYTHON = process.env['BENCH_PYTHON'] ?? '/usr/bin/python3'
const PEER = join(ROOT, 'bench', 'peer', 'peer.py')
const PARTS = ['forward', 'finetune', 'phase1', 'tutorial', 'scale'] as const
// scale takes long (generated 2,000- and 20,000-image projects): only when asked for with --only scale.
const DEFAULT_PARTS = PARTS.filter((p) => p !== 'scale')
type Part = (typeof PARTS)[number]

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    all: { type: 'boolean', default: false },
    only: { type: 'string' },
    'no-peer': { type: 'boolean', default: false },
    epochs: { type: 'string' },
    'fine-tune-epochs': { type: 'string' },
    'scale-images': { type: 'string', default: '2000,20000' },
    'scan-images': { type: 'string', default: '100000' },
    reps: { type: 'string' },
    'peer-head-init': { type: 'string', default: 'keras' },
    rounds: { type: 'string' },
    'tutorial-seeds': { type: 'string', default: '1' },
    out: { type: 'string', default: join(ROOT, 'bench', 'results') }
  }
})
const quick = values.quick === true
if (values.all && values.only !== undefined) throw new Error('--all and --only: give one (--all runs every part)')
const only = new Set<Part>(
  (values.only ?? (values.all ? PARTS : DEFAULT_PARTS).join(',')).split(',').map((p) => {
    if (!(PARTS as readonly string[]).includes(p)) throw new Error(`--only: '${p}' is not one of ${PARTS.join(', ')}`)
    return p as Part
  })
)
const whole = !quick && PARTS.every((p) => only.has(p))
const reps = values.reps ?? (quick ? '2' : '4')
const epochs = values.epochs ?? (quick ? '2' : '10')
const fineTuneEpochs = values['fine-tune-epochs'] ?? (quick ? '2' : '10')
// Throughput measurements alternate ours / peer this many times and keep each side's best: on a shared machine
// one slow moment should not decide a ratio.
const rounds = Math.max(1, Number(values.rounds ?? (quick ? '1' : '2')))
const tutorialSeeds = Number(values['tutorial-seeds'])
if (!Number.isInteger(tutorialSeeds) || tutorialSeeds < 1)
  throw new Error(`--tutorial-seeds: '${String(values['tutorial-seeds'])}' is not a whole number >= 1`)
const MODELS = quick ? ['mobilenet_v2_1.0_160'] : ['mobilenet_v2_1.0_160', 'mobilenet_v2_0.35_224']

type Json = Record<string, unknown>
const log = (s: string): void => void process.stderr.write(s + '\n')
const round = (x: number | null | undefined, d = 2): number | null =>
  x === null || x === undefined || !Number.isFinite(x) ? null : Math.round(x * 10 ** d) / 10 ** d
const ratio = (
  ours: number | null | undefined,
  peer: number | null | undefined,
  higherIsBetter: boolean
): number | null => (ours && peer ? round(higherIsBetter ? ours / peer : peer / ours) : null)
const load1 = (): number => round(loadavg()[0] ?? 0) ?? 0

interface Proc {
  code: number | null
  wall_s: number
  stdout: string
  stderr: string
}

/** Runs a command to completion, echoing stderr lines prefixed (progress), collecting stdout. */
function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}, echo = false): Promise<Proc> {
  return new Promise((res, rej) => {
    const t = performance.now()
    const child = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString()
      if (echo) for (const line of d.toString().split('\n')) if (line.trim()) log(`    ${line.slice(0, 160)}`)
    })
    child.on('error', rej)
    child.on('close', (code) => res({ code, wall_s: (performance.now() - t) / 1000, stdout, stderr }))
  })
}

/** The last JSON line of stdout that has `key`. */
function lastJson(p: Proc, key: string): Json | null {
  const lines = p.stdout.split('\n').filter((l) => l.startsWith('{'))
  for (let i = lines.length - 1; i >= 0; i--) {
    try {
      const o = JSON.parse(lines[i] as string) as Json
      if (key in o) return o
    } catch {
      // not JSON
    }
  }
  return null
}

function failed(what: string, p: Proc): Json {
  const tail = p.stderr.trim().split('\n').slice(-6).join(' | ')
  log(`  ! ${what} failed (exit ${String(p.code)}): ${tail}`)
  return { error: `exit ${String(p.code)}: ${tail.slice(0, 600)}` }
}

const TSX = join(ROOT, 'node_modules', '.bin', 'tsx')
async function ours(args: string[]): Promise<Json> {
  const l = load1()
  const p = await run(TSX, [join(ROOT, 'bench', 'ours.ts'), ...args])
  const o = lastJson(p, 'what')
  return o && p.code === 0 ? { ...o, load1: l } : failed(`ours ${args.join(' ')}`, p)
}
async function onnxRuntime(model: string): Promise<Json> {
  const l = load1()
  const args = [join(ROOT, 'bench', 'ort.ts'), 'forward', '--base', model, '--reps', reps]
  // The 0.35 @224 base with the shared TM weights (real features for the equality check); 1.0 @160 has none here.
  if (model === 'mobilenet_v2_0.35_224' && existsSync(TM_V2)) args.push('--weights', TM_V2)
  const p = await run(TSX, args)
  const o = lastJson(p, 'what')
  return o && p.code === 0 ? { ...o, load1: l } : failed(`onnxruntime ${model}`, p)
}
async function peer(args: string[], echo = false): Promise<Json> {
  const l = load1()
  const p = await run(PYTHON, [PEER, ...args], {}, echo)
  const o = lastJson(p, 'what')
  return o && p.code === 0 ? { ...o, process_wall_s: round(p.wall_s), load1: l } : failed(`peer ${args.join(' ')}`, p)
}
const num = (o: Json | undefined, k: string): number | null => (o && typeof o[k] === 'number' ? (o[k] as number) : null)
/** The faster of two measurements (one that has images/s beats one that failed). */
const faster = (a: Json | null, b: Json): Json => (a === null || (num(b, 'ips') ?? -1) > (num(a, 'ips') ?? -1) ? b : a)
/** Timed images per CPU-second of the measuring process (ips * wall / cpu). */
const perCpu = (o: Json): number | null => {
  const ips = num(o, 'ips')
  const wall = num(o, 'wall_s')
  const cpu = num(o, 'cpu_s')
  return ips && wall && cpu ? round((ips * wall) / cpu) : null
}

function peerAvailable(): { ok: boolean; why: string } {
  if (values['no-peer']) return { ok: false, why: '--no-peer given' }
  if (!existsSync(PYTHON)) return { ok: false, why: `${PYTHON} not found (set BENCH_PYTHON)` }
  const r = spawnSync(PYTHON, ['-c', 'import torch, torchvision, PIL, numpy'], { encoding: 'utf8' })
  if (r.status !== 0)
    return {
      ok: false,
      why: `${PYTHON} cannot import torch/torchvision/PIL/numpy (apt-get install -y python3-torch python3-torchvision): ${r.stderr.trim().split('\n').pop() ?? ''}`
    }
  return { ok: true, why: '' }
}

/** The train/validation/test images of a stored run, as paths relative to the project root, for the peer. */
function exportSplit(dbPath: string, runId: number, root: string, file: string): Record<string, number> {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true })
  try {
    const rows = db
      .prepare(
        `SELECT i.rel_path AS path, i.class_name AS cls, m.split AS split FROM runs r
         JOIN split_members m ON m.split_id = r.split_id JOIN images i ON i.id = m.image_id WHERE r.id = ? ORDER BY i.rel_path`
      )
      .all(runId) as { path: string; cls: string; split: string }[]
    const out: Record<string, [string, string][]> = { train: [], validation: [], test: [] }
    for (const r of rows) out[r.split]?.push([relative(root, resolve(root, r.path)), r.cls])
    writeFileSync(file, JSON.stringify(out))
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.length]))
  } finally {
    db.close()
  }
}

/** Our CLI training run in `stateDir`; `sameSplit` keeps the split an earlier run there stored (no split flags). */
async function ourTrain(stateDir: string, label: string, extra: string[] = [], sameSplit = false): Promise<Json> {
  const peakFile = join(stateDir, `peak-${label}.json`)
  const l = load1()
  const args = [
    '--import',
    'tsx',
    '--import',
    join(ROOT, 'bench', 'lib', 'peak.mjs'),
    join(ROOT, 'src', 'cli', 'index.ts'),
    'train',
    CATS_DOGS,
    '--base',
    'mobilenet_v2_0.35_224',
    '--weights',
    TM_V2,
    // The tutorial's own settings (Adam 1e-4, batch 32, fine-tuning at lr/10), not auto's choices.
    '--recipe',
    'tf-tutorial',
    ...(sameSplit ? [] : ['--use-folder-split', '--test-from-val', '0.2']),
    '--augment',
    'none',
    '--epochs',
    epochs,
    '--backend',
    'wasm',
    '--json',
    ...extra
  ]
  const p = await run(process.execPath, args, { TUNELAB_DATA_DIR: stateDir, BENCH_PEAK_FILE: peakFile })
  const done = p.stdout
    .split('\n')
    .filter((l) => l.includes('"event":"done"'))
    .map((l) => JSON.parse(l) as Json)[0]
  if (p.code !== 0 || !done) return failed(`our train (${label})`, p)
  const metrics = done['metrics'] as Record<string, { accuracy: number }>
  const peak = existsSync(peakFile)
    ? (JSON.parse(readFileSync(peakFile, 'utf8')) as { maxrss_kib: number }).maxrss_kib / 1024
    : null
  return {
    wall_s: round(p.wall_s),
    stages_s: done['seconds'],
    test_acc: round(metrics['test']?.accuracy, 4),
    val_acc: round(metrics['val']?.accuracy, 4),
    runId: done['runId'],
    dbPath: done['dbPath'],
    backend: done['backend'],
    peak_mib: round(peak, 0),
    load1: l
  }
}

/** Test and validation accuracy of both sides over training seeds 42 (the timed pair), 1, ..., N-1: ours warm in
 *  the timed run's project, keeping its split; the peer on the same split file. Timings are not compared here. */
async function tutorialSeedRuns(stateDir: string, ours0: Json, peer0: Json, peerArgs: string[] | null): Promise<Json> {
  if (tutorialSeeds < 2) return {}
  const sides: Record<'ours' | 'peer', Json[]> = { ours: [ours0], peer: peerArgs ? [peer0] : [] }
  const seeds = [42, ...Array.from({ length: tutorialSeeds - 1 }, (_, i) => i + 1)]
  for (const seed of seeds.slice(1)) {
    log(`  training seed ${seed}, same split ...`)
    const ft = ['--fine-tune-at', '100', '--fine-tune-epochs', fineTuneEpochs, '--seed', String(seed)]
    sides.ours.push(await ourTrain(stateDir, `tutorial-seed${seed}`, ft, true))
    if (peerArgs) sides.peer.push(await peer([...peerArgs, '--seed', String(seed)]))
    log(
      `    test accuracy ours ${String(sides.ours.at(-1)?.['test_acc'])}, peer ${String(sides.peer.at(-1)?.['test_acc'] ?? '-')}`
    )
  }
  const of = (runs: Json[], key: string): (number | null)[] => runs.map((r) => round(num(r, key), 4))
  const test = { ours: of(sides.ours, 'test_acc'), peer: of(sides.peer, 'test_acc') }
  // The means compare like with like: only the seeds every side that ran finished (a peer run that failed or was
  // stopped leaves its seed out of both means, and says so in seeds_compared).
  const compared = seeds.filter((_, i) => test.ours[i] != null && (!peerArgs || test.peer[i] != null))
  const mean = (xs: (number | null)[]): number | null => {
    const kept = xs.filter((_, i) => compared.includes(seeds[i] as number)) as number[]
    return kept.length ? round(kept.reduce((a, x) => a + x, 0) / kept.length, 4) : null
  }
  const out: Json = { seeds, seeds_compared: compared }
  for (const side of ['ours', 'peer'] as const) {
    out[`${side}_test_acc_seeds`] = test[side]
    out[`${side}_test_acc_mean`] = mean(test[side])
    out[`${side}_val_acc_seeds`] = of(sides[side], 'val_acc')
  }
  return out
}

/** The peer's phase1 arguments: our weights converted and checked, and the split of our run `cold`. */
async function peerPhase1Args(stateDir: string, cold: Json): Promise<{ args: string[]; conversion: Json }> {
  const wdir = join(stateDir, 'peer-weights')
  const checkImages = ['cats/cat.2000.jpg', 'cats/cat.2001.jpg', 'dogs/dog.2000.jpg', 'dogs/dog.2001.jpg'].map((f) =>
    join(CATS_DOGS, 'validation', f)
  )
  const ex = await ours(['export-weights', '--weights', TM_V2, '--out', wdir, '--images', checkImages.join(',')])
  const conversion = !('error' in ex) ? await peer(['check', '--weights', wdir]) : ex
  log(`  weights for the peer: max |pooled feature diff| ${String(conversion['max_abs_diff'])} on 4 real images`)
  const args = [
    'phase1',
    '--data',
    CATS_DOGS,
    '--epochs',
    epochs,
    '--workers',
    '2',
    '--head-init',
    values['peer-head-init'] as string
  ]
  if (conversion['ok'] === true) args.push('--weights', wdir)
  if (typeof cold['dbPath'] === 'string' && typeof cold['runId'] === 'number') {
    const splitFile = join(stateDir, 'split.json')
    const counts = exportSplit(cold['dbPath'], cold['runId'], CATS_DOGS, splitFile)
    log(`  same split as ours for the peer: ${JSON.stringify(counts)}`)
    args.push('--split', splitFile)
  }
  return { args, conversion }
}

async function main(): Promise<void> {
  const started = new Date()
  const require = createRequire(import.meta.url)
  const tfjsVersion = (require('@tensorflow/tfjs/package.json') as { version: string }).version
  const avail = peerAvailable()
  if (!avail.ok) log(`PyTorch peer skipped: ${avail.why}`)
  const info = avail.ok ? await peer(['info']) : {}
  const machine = {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    mem_gib: round(totalmem() / 1024 ** 3, 1),
    node: process.version,
    tfjs: tfjsVersion,
    torch: (info['torch'] as string | undefined) ?? null,
    torch_threads: (info['threads'] as number | undefined) ?? null,
    loadavg_start: loadavg().map((x) => round(x))
  }
  log(
    `machine: ${machine.cpu}, ${machine.cores} cores, ${machine.mem_gib} GiB, node ${machine.node}, tfjs ${tfjsVersion}, torch ${machine.torch ?? '-'}; load ${machine.loadavg_start.join(' ')}`
  )
  const result: Json = {
    date: started.toISOString(),
    quick,
    rounds,
    machine,
    backend: 'ours: see forward.per_model.*.detail; peer: torch CPU',
    peer: avail.ok ? 'pytorch' : `skipped: ${avail.why}`
  }
  const peaks = { ours: 0, peer: 0 }
  const peakOf = (who: 'ours' | 'peer', o: Json): void =>
    void (peaks[who] = Math.max(peaks[who], num(o, 'peak_mib') ?? 0))

  if (only.has('forward')) {
    const per: Json = {}
    for (const m of MODELS) {
      log(`forward ${m} ...`)
      let single: Json | null = null
      let pool: Json | null = null
      let bestPeer: Json | null = avail.ok ? null : {}
      let bestOrt: Json | null = null
      for (let r = 0; r < rounds; r++) {
        const s1 = await ours(['forward', '--base', m, '--workers', '0', '--reps', reps])
        const s4 = await onnxRuntime(m)
        const s2 = await ours(['forward', '--base', m, '--workers', '2', '--reps', reps])
        const s3 = avail.ok ? await peer(['forward', '--model', m, '--reps', reps]) : {}
        for (const o of [s1, s2]) peakOf('ours', o)
        peakOf('peer', s3)
        single = faster(single, s1)
        pool = faster(pool, s2)
        bestOrt = faster(bestOrt, s4)
        if (avail.ok) bestPeer = faster(bestPeer, s3)
      }
      const p = bestPeer ?? {}
      const o = bestOrt ?? {}
      if (!single || !pool) throw new Error('bench: no forward measurement')
      const best = Math.max(num(single, 'ips') ?? 0, num(pool, 'ips') ?? 0) || null
      per[m] = {
        ours: round(best),
        ours_1proc: round(num(single, 'ips')),
        ours_pool2: round(num(pool, 'ips')),
        peer: round(num(p, 'ips')),
        // Images per CPU-second: less sensitive to other jobs on the machine than wall-clock images/s.
        ours_1proc_per_cpu_s: perCpu(single),
        peer_per_cpu_s: perCpu(p),
        ratio: ratio(best, num(p, 'ips'), true),
        ratio_1proc: ratio(num(single, 'ips'), num(p, 'ips'), true),
        peer_memory_format: p['memory_format'] ?? null,
        ort: round(num(o, 'ips')),
        ort_ratio: ratio(best, num(o, 'ips'), true),
        ort_ratio_1proc: ratio(num(single, 'ips'), num(o, 'ips'), true),
        ort_per_cpu_s: perCpu(o),
        // Single process each, per CPU-second: the figure to read when other jobs load the machine.
        ort_ratio_per_cpu_s: ratio(perCpu(single), perCpu(o), true),
        ort_max_abs_diff: num(o, 'max_abs_diff'),
        ort_rel_diff: num(o, 'rel_diff'),
        ort_weights: o['weights'] ?? null,
        detail: { ours_1proc: single, ours_pool2: pool, peer: p, ort: o }
      }
      const r = per[m] as Json
      log(
        `  ours ${String(r['ours_1proc'])} (1 proc) / ${String(r['ours_pool2'])} (pool of 2) img/s, peer ${String(r['peer'])} img/s, ORT ${String(r['ort'])} img/s (max |diff| ${String(r['ort_max_abs_diff'])}, relative ${String(r['ort_rel_diff'])})`
      )
    }
    const ortRatios = MODELS.map((m) => num(per[m] as Json, 'ort_ratio'))
    const first = per[MODELS[0] as string] as Json
    const ourBackend = ((first['detail'] as Json)['ours_1proc'] as Json)['backend']
    if (typeof ourBackend === 'string')
      result['backend'] = `${ourBackend} vs torch CPU (${String(machine.torch_threads)} threads)`
    result['forward'] = {
      ours: first['ours'],
      peer: first['peer'],
      ratio: first['ratio'],
      model: MODELS[0],
      // ORT: img/s on the first model; ort_ratio = ours / ORT, the smaller of the models' ratios.
      ort: first['ort'],
      ort_ratio: ortRatios.every((x) => x !== null) ? Math.min(...(ortRatios as number[])) : null,
      per_model: per
    }
  }

  if (only.has('finetune')) {
    const per: Json = {}
    for (const m of MODELS) {
      log(`fine-tune step from layer 100, ${m} ...`)
      let bestOurs: Json | null = null
      let bestPeer: Json | null = avail.ok ? null : {}
      for (let r = 0; r < rounds; r++) {
        const o1 = await ours(['finetune', '--base', m, '--at', '100', '--steps', reps])
        const p1 = avail.ok ? await peer(['finetune', '--model', m, '--steps', reps]) : {}
        peakOf('ours', o1)
        peakOf('peer', p1)
        bestOurs = faster(bestOurs, o1)
        if (avail.ok) bestPeer = faster(bestPeer, p1)
      }
      const o = bestOurs ?? {}
      const p = bestPeer ?? {}
      per[m] = {
        ours: round(num(o, 'ips')),
        peer: round(num(p, 'ips')),
        ratio: ratio(num(o, 'ips'), num(p, 'ips'), true),
        ours_per_cpu_s: perCpu(o),
        peer_per_cpu_s: perCpu(p),
        detail: { ours: o, peer: p }
      }
      log(`  ours ${String(round(num(o, 'ips')))} img/s, peer ${String(round(num(p, 'ips')))} img/s`)
    }
    const first = per[MODELS[0] as string] as Json
    result['finetune'] = {
      ours: first['ours'],
      peer: first['peer'],
      ratio: first['ratio'],
      model: MODELS[0],
      per_model: per
    }
  }

  if (only.has('phase1')) {
    if (!existsSync(CATS_DOGS) || !existsSync(TM_V2)) {
      const why = `${CATS_DOGS} or ${TM_V2} not found (set TUNELAB_SHARED_DATA)`
      log(`phase 1 skipped: ${why}`)
      result['phase1'] = { skipped: why }
    } else {
      const stateDir = mkdtempSync(join(tmpdir(), 'tunelab-bench-'))
      try {
        log(
          `recipe A phase 1 (MobileNetV2 0.35 @224 TM weights, ${epochs} epochs), ours cold (state in ${stateDir}) ...`
        )
        const cold = await ourTrain(stateDir, 'cold')
        log(`  ours cold ${String(cold['wall_s'])} s, test acc ${String(cold['test_acc'])}; warm ...`)
        const warm = await ourTrain(stateDir, 'warm')
        log(`  ours warm ${String(warm['wall_s'])} s, test acc ${String(warm['test_acc'])}`)
        peakOf('ours', cold)
        peakOf('ours', warm)
        let p: Json = {}
        let conversion: Json = {}
        if (avail.ok) {
          const prepared = await peerPhase1Args(stateDir, cold)
          conversion = prepared.conversion
          const args = prepared.args
          log(
            `  peer (DataLoader workers 2, every image through the frozen base every epoch, head init ${String(values['peer-head-init'])}) ...`
          )
          p = await peer(args, true)
          peakOf('peer', p)
        }
        const peerS = num(p, 'process_wall_s')
        result['phase1'] = {
          epochs: Number(epochs),
          model: 'mobilenet_v2_0.35_224',
          cold: {
            ours_s: cold['wall_s'] ?? null,
            peer_s: peerS,
            ratio: ratio(num(cold, 'wall_s'), peerS, false),
            ours_test_acc: cold['test_acc'] ?? null,
            peer_test_acc: round(num(p, 'test_acc'), 4),
            ours_val_acc: cold['val_acc'] ?? null,
            peer_val_acc: round(num(p, 'val_acc'), 4),
            peer_weights: p['weights'] ?? null,
            peer_head_init: p['head_init'] ?? null
          },
          warm: {
            ours_s: warm['wall_s'] ?? null,
            ratio: ratio(num(warm, 'wall_s'), peerS, false),
            ours_test_acc: warm['test_acc'] ?? null
          },
          detail: { ours_cold: cold, ours_warm: warm, peer: p, weight_conversion: conversion }
        }
      } finally {
        rmSync(stateDir, { recursive: true, force: true })
      }
    }
  }

  if (only.has('scale')) {
    const file = join(
      values.out as string,
      `scale-${started.toISOString().replace(/[:]/g, '-').replace(/\..*$/, '')}.json`
    )
    log(
      `scale: ${String(values['scale-images'])} images, scan-only ${String(values['scan-images'])} (bench/scale.ts) ...`
    )
    const p = await run(
      TSX,
      [
        join(ROOT, 'bench', 'scale.ts'),
        '--images',
        values['scale-images'] as string,
        '--scan-images',
        values['scan-images'] as string,
        '--out',
        file
      ],
      {},
      true
    )
    result['scale'] =
      p.code === 0 && existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Json) : failed('scale', p)
  }

  if (only.has('tutorial')) {
    if (!existsSync(CATS_DOGS) || !existsSync(TM_V2)) {
      const why = `${CATS_DOGS} or ${TM_V2} not found (set TUNELAB_SHARED_DATA)`
      log(`tutorial skipped: ${why}`)
      result['tutorial'] = { skipped: why }
    } else {
      const stateDir = mkdtempSync(join(tmpdir(), 'tunelab-bench-'))
      try {
        log(
          `the whole TF tutorial (${epochs} head + ${fineTuneEpochs} fine-tuning epochs from layer 100, MobileNetV2 0.35 @224 TM weights), ours cold ...`
        )
        const o = await ourTrain(stateDir, 'tutorial', ['--fine-tune-at', '100', '--fine-tune-epochs', fineTuneEpochs])
        log(`  ours ${String(o['wall_s'])} s, test acc ${String(o['test_acc'])}, peak ${String(o['peak_mib'])} MiB`)
        peakOf('ours', o)
        let p: Json = {}
        let peerArgs: string[] | null = null
        if (avail.ok) {
          const { args } = await peerPhase1Args(stateDir, o)
          peerArgs = [...args, '--fine-tune-epochs', fineTuneEpochs]
          log(
            '  peer (same split, same weights, DataLoader workers 2, every image through the network every epoch) ...'
          )
          p = await peer(peerArgs, true)
          peakOf('peer', p)
        }
        const seeds = await tutorialSeedRuns(stateDir, o, p, peerArgs)
        const peerS = num(p, 'process_wall_s')
        result['tutorial'] = {
          head_epochs: Number(epochs),
          fine_tune_epochs: Number(fineTuneEpochs),
          fine_tune_at: 100,
          model: 'mobilenet_v2_0.35_224',
          ours_s: o['wall_s'] ?? null,
          peer_s: peerS,
          ratio: ratio(num(o, 'wall_s'), peerS, false),
          ours_test_acc: o['test_acc'] ?? null,
          peer_test_acc: round(num(p, 'test_acc'), 4),
          peak_mib: o['peak_mib'] ?? null,
          peer_peak_mib: p['peak_mib'] ?? null,
          ...seeds,
          load1: o['load1'] ?? null,
          peer_load1: p['load1'] ?? null,
          detail: { ours: o, peer: p }
        }
      } finally {
        rmSync(stateDir, { recursive: true, force: true })
      }
    }
  }

  result['peak_mib'] = { ours: peaks.ours || null, peer: peaks.peer || null }
  ;(result['machine'] as Json)['loadavg_end'] = loadavg().map((x) => round(x))
  result['seconds'] = round((Date.now() - started.getTime()) / 1000, 1)
  printTable(result)
  mkdirSync(values.out as string, { recursive: true })
  const text = JSON.stringify(result, null, 2) + '\n'
  const stamp = started.toISOString().replace(/[:]/g, '-').replace(/\..*$/, '')
  const dated = `${stamp}${quick ? '-quick' : ''}${whole ? '' : `-${[...only].join('-')}`}.json`
  writeFileSync(join(values.out as string, dated), text)
  // latest.json is one whole run on one machine: a run of some parts must not replace it with only those.
  if (whole) writeFileSync(join(values.out as string, 'latest.json'), text)
  log(`written ${whole ? `${join(values.out as string, 'latest.json')} and ` : ''}${dated}`)
  if (!whole) log(`latest.json kept: only a run of every part (--all, without --quick) replaces it`)
}

function printTable(r: Json): void {
  const rows: string[][] = [['measure', 'ours', 'peer', 'ours/peer']]
  const s = (x: unknown): string => (x === null || x === undefined ? '-' : String(x))
  const fwd = r['forward'] as Json | undefined
  for (const [m, v] of Object.entries((fwd?.['per_model'] as Record<string, Json> | undefined) ?? {})) {
    rows.push([
      `forward ${m} (img/s, best of 1 proc / pool 2) vs PyTorch`,
      `${s(v['ours'])} (${s(v['ours_1proc'])} / ${s(v['ours_pool2'])})`,
      s(v['peer']),
      `${s(v['ratio'])}x`
    ])
    rows.push([`forward ${m} (img/s) vs ONNX Runtime`, s(v['ours']), s(v['ort']), `${s(v['ort_ratio'])}x`])
  }
  const ft = r['finetune'] as Json | undefined
  for (const [m, v] of Object.entries((ft?.['per_model'] as Record<string, Json> | undefined) ?? {})) {
    rows.push([`fine-tune step from layer 100, ${m} (img/s)`, s(v['ours']), s(v['peer']), `${s(v['ratio'])}x`])
  }
  const p1 = r['phase1'] as Json | undefined
  if (p1 && !('skipped' in p1)) {
    const c = p1['cold'] as Json
    const w = p1['warm'] as Json
    rows.push([
      `recipe A phase 1 cold, ${s(p1['epochs'])} epochs (s)`,
      s(c['ours_s']),
      s(c['peer_s']),
      `${s(c['ratio'])}x`
    ])
    rows.push(['recipe A phase 1 warm (s)', s(w['ours_s']), s(c['peer_s']), `${s(w['ratio'])}x`])
    rows.push(['test accuracy (cold)', s(c['ours_test_acc']), s(c['peer_test_acc']), ''])
  }
  const tu = r['tutorial'] as Json | undefined
  if (tu && !('skipped' in tu)) {
    rows.push([
      `whole TF tutorial cold, ${s(tu['head_epochs'])}+${s(tu['fine_tune_epochs'])} epochs (s) vs PyTorch`,
      s(tu['ours_s']),
      s(tu['peer_s']),
      `${s(tu['ratio'])}x`
    ])
    rows.push([
      'tutorial test accuracy / peak RSS MiB (ours)',
      `${s(tu['ours_test_acc'])} / ${s(tu['peak_mib'])}`,
      s(tu['peer_test_acc']),
      ''
    ])
    if (Array.isArray(tu['seeds']))
      rows.push([
        `tutorial test accuracy, mean over seeds ${((tu['seeds_compared'] ?? tu['seeds']) as number[]).join(', ')}`,
        s(tu['ours_test_acc_mean']),
        s(tu['peer_test_acc_mean']),
        ''
      ])
  }
  const pk = r['peak_mib'] as Json
  rows.push(['peak RSS of one process (MiB)', s(pk['ours']), s(pk['peer']), ''])
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length)))
  const fmt = (row: string[]): string =>
    row.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')
  console.log(fmt(rows[0]!))
  console.log(widths.map((w) => '-'.repeat(w)).join('  '))
  for (const row of rows.slice(1)) console.log(fmt(row))
  const m = r['machine'] as Json
  console.log(
    `load average start ${JSON.stringify(m['loadavg_start'])}, end ${JSON.stringify(m['loadavg_end'])} on ${s(m['cores'])} cores; ${s(r['peer'])}`
  )
}

main().catch((e: unknown) => {
  console.error(e)
  process.exit(1)
})
