// Measurement (not a test): how long it takes to fix 30 flipped training labels from the galleries, driving the
// UI in Chromium as a person would, and the accuracy before and after.
//
// On a copy of cats_and_dogs_filtered, 30 training images (15 + 15, seeded) are moved into the other class's
// folder. Then, in the browser against the real serve mode: open the folder, choose the folder split, train
// (mobilenet_v2_0.35_224 with the Teachable Machine weights, the training images predicted too), open the
// train split's confusion-matrix cells and step through their images in the review modal: the script plays a
// person who can tell a cat from a dog (it knows which files were flipped) — a number key relabels a flipped
// image, → skips one that is labelled right. Then the least-confident galleries, then retrain.
//
// Run: npx tsx bench/labels/fixData.ts [--no-build] [--screenshots docs/screenshots]
//   env DATA (default /work/shared/data), EPOCHS (5), SEED (12), FLIPS (30)
// Prints the numbers and writes bench/results/fixData-<time>.json.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import Database from 'better-sqlite3'
import { chromium, type Page } from 'playwright-core'
import { createRng } from '../../src/main/core/util/rng'

const ROOT = resolve(import.meta.dirname, '../..')
const args = process.argv.slice(2)
const SHOTS = args.includes('--screenshots')
  ? resolve(args[args.indexOf('--screenshots') + 1] ?? 'docs/screenshots')
  : null
const DATA =
  process.env['DATA'] ?? (existsSync('/work/shared/data') ? '/work/shared/data' : resolve(ROOT, '../shared/data'))
const SOURCE = join(DATA, 'cats_and_dogs_filtered')
const WEIGHTS = join(DATA, 'weights/tfjs_teachable_machine_mobilenetv2_0.35_dog')
const BASE = 'mobilenet_v2_0.35_224'
const EPOCHS = Number(process.env['EPOCHS'] ?? 5)
const SEED = Number(process.env['SEED'] ?? 12)
const FLIPS = Number(process.env['FLIPS'] ?? 30)
const CHROMIUM = '/usr/bin/chromium'
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run'
]
const LONG = 60 * 60_000
const CLASSES = ['cats', 'dogs'] as const

function log(msg: string): void {
  process.stdout.write(`[${new Date().toISOString().slice(11, 19)}] ${msg}\n`)
}

/** Moves FLIPS/2 training images of each class into the other class's folder; returns their new relative paths. */
function flipLabels(root: string): Map<string, string> {
  const rng = createRng(SEED)
  const flipped = new Map<string, string>() // new relative path -> true class
  for (const [i, cls] of CLASSES.entries()) {
    const other = CLASSES[1 - i] ?? 'dogs'
    const files = readdirSync(join(root, 'train', cls)).sort()
    for (let k = 0; k < FLIPS / 2; k++) {
      const [name] = files.splice(Math.floor(rng.next() * files.length), 1)
      if (!name) throw new Error('not enough files to flip')
      renameSync(join(root, 'train', cls, name), join(root, 'train', other, name))
      flipped.set(`train/${other}/${name}`, cls)
    }
  }
  return flipped
}

function startServe(tmp: string, project: string): Promise<{ child: ChildProcess; url: string }> {
  const env = {
    ...process.env,
    TUNELAB_USER_DATA: join(tmp, 'user'),
    TUNELAB_DATA_DIR: join(tmp, 'data'),
    TUNELAB_CACHE_DIR: join(tmp, 'cache')
  }
  const child = spawn(
    process.execPath,
    [join(ROOT, 'node_modules/tsx/dist/cli.mjs'), join(ROOT, 'src/server/index.ts'), project],
    { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'inherit'] }
  )
  return new Promise((res, rej) => {
    let out = ''
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString()
      const m = /TuneLab serving at (\S+)/.exec(out)
      if (m?.[1]) res({ child, url: m[1] })
    })
    child.on('exit', (code) => rej(new Error(`serve exited with ${code}:\n${out}`)))
  })
}

async function shot(page: Page, name: string): Promise<void> {
  if (!SHOTS) return
  await page.waitForFunction(() => [...document.images].every((i) => i.complete), undefined, { timeout: 60_000 })
  await page.screenshot({ path: join(SHOTS, name) })
  log(`saved ${name}`)
}

async function train(page: Page): Promise<number> {
  const t0 = performance.now()
  await page.click('[data-test=nav-training]')
  await page.waitForSelector('[data-test=start]', { timeout: 60_000 })
  await page.click('[data-test=start]')
  await page.waitForFunction(
    () => ['completed', 'failed'].includes(document.querySelector('[data-test=run-status]')?.textContent?.trim() ?? ''),
    undefined,
    { timeout: LONG, polling: 500 }
  )
  const status = (await page.textContent('[data-test=run-status]'))?.trim()
  if (status !== 'completed')
    throw new Error(`training ${status}: ${(await page.textContent('[data-test=training-error]')) ?? ''}`)
  return (performance.now() - t0) / 1000
}

/**
 * Steps through the open modal's gallery: a flipped image gets its true class (number key, the modal moves on),
 * any other is skipped (→). Returns how many it fixed.
 */
/** Images looked at in the review modal (a person's time is mostly this). */
let viewed = 0

async function reviewOpenGallery(page: Page, flipped: Map<string, string>, fixed: Set<string>): Promise<number> {
  let n = 0
  for (;;) {
    viewed++
    const details = (await page.textContent('[data-test=modal] .details')) ?? ''
    const path = ((await page.locator('[data-test=modal] .details li').first().textContent()) ?? '').trim()
    const pos = details.match(/(\d+) of (\d+)/)
    const last = !pos || pos[1] === pos[2]
    const truth = flipped.get(path)
    if (truth && !fixed.has(path)) {
      await page.keyboard.press(String(CLASSES.indexOf(truth as (typeof CLASSES)[number]) + 1))
      fixed.add(path)
      n++
      if (last) {
        await page.waitForSelector('[data-test=modal-mark]')
        break
      }
    } else {
      if (last) break
      await page.keyboard.press('ArrowRight')
    }
    await page.waitForFunction(
      (p) => !document.querySelector('[data-test=modal] .details')?.textContent?.startsWith(p),
      path
    )
  }
  await page.keyboard.press('Escape')
  return n
}

/** tunelab.db files under a folder (the state folder falls back there when the project cannot be written). */
function findDb(dir: string): string[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((d) => d.isFile() && d.name === 'tunelab.db')
    .map((d) => join(d.parentPath, d.name))
}

async function main(): Promise<void> {
  if (!existsSync(SOURCE)) throw new Error(`real data set not found: ${SOURCE} (set DATA)`)
  if (!args.includes('--no-build')) {
    log('building the renderer')
    execFileSync('npx', ['electron-vite', 'build'], { cwd: ROOT, stdio: 'ignore' })
  }
  if (SHOTS) mkdirSync(SHOTS, { recursive: true })
  const tmp = mkdtempSync(join(tmpdir(), 'tunelab-fixdata-bench-'))
  const project = join(tmp, 'cats_and_dogs_flipped')
  execFileSync('cp', ['-r', SOURCE, project])
  execFileSync('chmod', ['-R', 'u+w', project]) // the shared copy is read-only; a user's own folder is not
  const flipped = flipLabels(project)
  log(`copied to ${project}; flipped ${flipped.size} training labels (seed ${SEED})`)

  const { child, url } = await startServe(tmp, project)
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS })
  const pageErrors: string[] = []
  const seconds: Record<string, number> = {}
  const fixed = new Set<string>()
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
    page.on('pageerror', (e) => pageErrors.push(e.message))
    const start = performance.now()
    let mark = start
    const lap = (name: string): void => {
      const now = performance.now()
      seconds[name] = (now - mark) / 1000
      mark = now
    }

    await page.goto(url)
    await page.fill('[data-test=project-path]', project)
    await page.click('[data-test=open]')
    await page.waitForSelector('[data-test=class-table]', { timeout: LONG })
    await page.click('[data-test=nav-dataset]')
    await page.check('[data-test=kind-folder]')
    await page.fill('[data-test=test-from-val]', '0')
    await page.waitForFunction(
      () => Number(document.querySelector('[data-test=total-validation]')?.textContent?.replace(/\D/g, '')) > 0,
      undefined,
      { timeout: 120_000 }
    )
    await page.click('[data-test=nav-training]')
    await page.waitForSelector('[data-test=base]', { timeout: 60_000 })
    await page.selectOption('[data-test=base]', BASE)
    await page.selectOption('[data-test=weights]', 'file')
    await page.fill('[data-test=weights-path]', WEIGHTS)
    await page.fill('[data-test=epochs]', String(EPOCHS))
    await page.fill('[data-test=lr]', '0.001')
    await page.check('[data-test=evaluate-train]')
    lap('open')
    seconds['train1'] = await train(page)
    mark = performance.now()

    // Fix from the galleries: the train split's two off-diagonal confusion cells, then the least-confident galleries.
    await page.click('[data-test=view-results]')
    await page.waitForSelector('[data-test=confusion]', { timeout: 120_000 })
    await page.click('[data-test=split-train]')
    await page.waitForFunction(() => !document.querySelector('.gallery.stale'))
    const fromCells: number[] = []
    for (const [t, p] of [
      [0, 1],
      [1, 0]
    ] as const) {
      const cell = page.locator(`[data-test=cm-${t}-${p}]`)
      if ((await cell.count()) === 0) continue
      await cell.click()
      await page.waitForSelector('[data-test=cell-images] [data-test=gallery-item]', { timeout: 30_000 })
      await page.locator('[data-test=cell-images] [data-test=gallery-item]').first().click()
      await page.waitForSelector('[data-test=modal] [data-test=label-actions]')
      if (t === 0) await shot(page, 'fix-modal.png')
      fromCells.push(await reviewOpenGallery(page, flipped, fixed))
      if (t === 0) await shot(page, 'fix-gallery.png')
    }
    let fromLeast = 0
    for (const cls of CLASSES) {
      if (fixed.size >= flipped.size) break
      await page.click(`[data-test=class-${cls}]`)
      await page.waitForFunction(() => !document.querySelector('.gallery.stale'))
      const items = page.locator('[data-test=gallery-least-confident] [data-test=gallery-item]')
      if ((await items.count()) === 0) continue
      await items.first().click()
      await page.waitForSelector('[data-test=modal] [data-test=label-actions]')
      fromLeast += await reviewOpenGallery(page, flipped, fixed)
    }
    lap('fix')
    log(
      `fixed ${fixed.size} of ${flipped.size} (cells ${fromCells.join(' + ')}, least confident ${fromLeast}) in ${seconds['fix']?.toFixed(1)} s`
    )

    seconds['train2'] = await train(page)
    mark = performance.now()
    await page.click('[data-test=nav-runs]')
    await page.waitForSelector('[data-test=runs-table]')
    const boxes = page.locator('[data-test^=compare-]')
    await boxes.nth(0).check()
    await boxes.nth(1).check()
    await page.waitForSelector('[data-test=diff-per-class]', { timeout: 120_000 })
    await page.selectOption('[data-test=diff-split]', 'validation')
    await page.waitForSelector('[data-test=diff-per-class]', { timeout: 120_000 })
    await page.locator('[data-test=run-diff]').scrollIntoViewIfNeeded()
    await shot(page, 'run-diff.png')
    const pValue = (await page.textContent('[data-test=diff-pvalue]'))?.trim() ?? ''
    lap('diff')
    seconds['total'] = (performance.now() - start) / 1000

    // The numbers, from the project database.
    const dbPath =
      [join(project, '.tunelab', 'tunelab.db'), ...findDb(join(tmp, 'data'))].find((p) => existsSync(p)) ?? ''
    const db = new Database(dbPath, { readonly: true, fileMustExist: true })
    const runs = db.prepare('SELECT id, metrics FROM runs ORDER BY id').all() as { id: number; metrics: string }[]
    const acc = runs.map((r) => JSON.parse(r.metrics) as Record<string, { accuracy: number; count: number }>)
    const used = db.prepare('SELECT count(*) AS n FROM run_label_overrides WHERE run_id = ?').get(runs[1]?.id ?? 0) as {
      n: number
    }
    db.close()
    const result = {
      when: new Date().toISOString(),
      machine: execFileSync('sh', ['-c', "lscpu | grep 'Model name' | sed 's/.*: *//'"]).toString().trim(),
      load: execFileSync('cat', ['/proc/loadavg']).toString().trim(),
      base: BASE,
      weights: WEIGHTS,
      epochs: EPOCHS,
      flips: flipped.size,
      seed: SEED,
      fixed: fixed.size,
      fixedFromCells: fromCells,
      fixedFromLeastConfident: fromLeast,
      imagesViewedInModal: viewed,
      overridesRecordedByRun2: used.n,
      seconds: Object.fromEntries(Object.entries(seconds).map(([k, v]) => [k, Math.round(v * 10) / 10])),
      accuracyBefore: { train: acc[0]?.['train']?.accuracy, validation: acc[0]?.['validation']?.accuracy },
      accuracyAfter: { train: acc[1]?.['train']?.accuracy, validation: acc[1]?.['validation']?.accuracy },
      validationDiffP: pValue,
      pageErrors
    }
    console.log(JSON.stringify(result, null, 2))
    mkdirSync(join(ROOT, 'bench/results'), { recursive: true })
    const out = join(ROOT, 'bench/results', `fixData-${result.when.replace(/[:.]/g, '-').slice(0, 19)}.json`)
    writeFileSync(out, JSON.stringify(result, null, 2) + '\n')
    log(`wrote ${out}`)
  } finally {
    await browser.close()
    child.kill('SIGTERM')
    rmSync(tmp, { recursive: true, force: true })
  }
}

main().catch((e: unknown) => {
  console.error(e)
  process.exitCode = 1
})
