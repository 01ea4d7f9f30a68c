// Screenshots of every screen during and after a REAL training on the real cats-vs-dogs set, taken in Debian's
// Chromium against the real serve mode (a child process, as a user runs it), plus the API round-trip latency measured
// from a second WebSocket client while that training runs.
//
// Run: npx tsx bench/screens/real.ts [--out docs/screenshots] [--no-build] [--no-second-run]
//   env TUNELAB_SHARED_DATA (or DATA; default /work/shared/data, else ../shared/data), EPOCHS (10), FT_EPOCHS (2)
// Starts clean: project state, user data and the weights cache go to a fresh temp dir (the data set is read-only).
import { spawn, execFileSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import WebSocket from 'ws'
import { chromium, type Page } from 'playwright-core'
import { unwrapBridge } from '@shared/contract'
import { createWsBridge } from '../../src/renderer/src/api/wsClient'
import { formatLatency, startLatencySampler, stageOf } from '../ipc/sampler'

const ROOT = resolve(import.meta.dirname, '../..')
const args = process.argv.slice(2)
const flag = (name: string): boolean => args.includes(name)
const OUT = resolve(
  args[args.indexOf('--out') + 1] && args.includes('--out')
    ? (args[args.indexOf('--out') + 1] ?? '')
    : join(ROOT, 'docs/screenshots')
)
const DATA =
  process.env['TUNELAB_SHARED_DATA'] ??
  process.env['DATA'] ??
  (existsSync('/work/shared/data') ? '/work/shared/data' : resolve(ROOT, '../shared/data'))
const PROJECT = join(DATA, 'cats_and_dogs_filtered')
const WEIGHTS = join(DATA, 'weights/tfjs_teachable_machine_mobilenetv2_0.35_dog')
const BASE = 'mobilenet_v2_0.35_224'
const EPOCHS = Number(process.env['EPOCHS'] ?? 10)
const FT_EPOCHS = Number(process.env['FT_EPOCHS'] ?? 2)
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

function log(msg: string): void {
  process.stdout.write(`[${new Date().toISOString().slice(11, 19)}] ${msg}\n`)
}

/** Starts `npm run serve -- PROJECT` (tsx) with its state in `tmp`; resolves with the URL it prints. */
function startServe(tmp: string): Promise<{ child: ChildProcess; url: string }> {
  const env = {
    ...process.env,
    TUNELAB_USER_DATA: join(tmp, 'user'),
    TUNELAB_DATA_DIR: join(tmp, 'data'),
    TUNELAB_CACHE_DIR: join(tmp, 'cache')
  }
  const child = spawn(
    process.execPath,
    [join(ROOT, 'node_modules/tsx/dist/cli.mjs'), join(ROOT, 'src/server/index.ts'), PROJECT],
    { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'inherit'] }
  )
  return new Promise((res, rej) => {
    let out = ''
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString()
      const m = /TuneLab serving at (\S+)/.exec(out)
      if (m?.[1]) res({ child, url: m[1] })
    })
    child.on('exit', (code) => rej(new Error(`serve exited with ${code} before printing its URL:\n${out}`)))
  })
}

async function imagesLoaded(page: Page): Promise<void> {
  await page.waitForFunction(() => [...document.images].every((i) => i.complete), undefined, { timeout: 60_000 })
}

async function shot(page: Page, name: string): Promise<void> {
  await imagesLoaded(page)
  await page.waitForTimeout(300) // chart animations
  await page.screenshot({ path: join(OUT, name) })
  log(`saved ${name}`)
}

async function stageText(page: Page): Promise<string> {
  return ((await page.textContent('[data-test=stage]')) ?? '').trim()
}

async function waitStage(page: Page, pattern: RegExp, timeout = LONG): Promise<void> {
  await page.waitForFunction(
    (src) => new RegExp(src).test(document.querySelector('[data-test=stage]')?.textContent ?? ''),
    pattern.source,
    { timeout, polling: 200 }
  )
}

function printLatency(samples: Map<string, number[]>): void {
  console.log('\nAPI round-trip latency (runs.list over the serve-mode WebSocket, one at a time, 20 ms apart):')
  for (const [stage, xs] of samples) console.log(`  ${stage.padEnd(36)} ${formatLatency(xs)}`)
  const during = [...samples].filter(([s]) => s.startsWith('phase')).flatMap(([, xs]) => xs)
  console.log(`  ${'all of the training'.padEnd(36)} ${formatLatency(during)}\n`)
}

async function main(): Promise<void> {
  if (!existsSync(PROJECT)) throw new Error(`real data set not found: ${PROJECT} (set DATA)`)
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`)
  mkdirSync(OUT, { recursive: true })
  if (!flag('--no-build')) {
    log('building the renderer (electron-vite build)')
    execFileSync('npx', ['electron-vite', 'build'], { cwd: ROOT, stdio: 'ignore' })
  }
  const tmp = mkdtempSync(join(tmpdir(), 'tunelab-real-screens-'))
  const { child, url } = await startServe(tmp)
  log(`serve: ${url} (state in ${tmp})`)
  const u = new URL(url)
  const { bridge, close } = createWsBridge({
    url: `ws://${u.host}/api?token=${u.searchParams.get('token') ?? ''}`,
    WebSocketImpl: WebSocket as unknown as typeof globalThis.WebSocket
  })
  const api = unwrapBridge(bridge, { kind: 'serve', token: u.searchParams.get('token') ?? '' })
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS })
  const pageErrors: string[] = []
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } })
    page.on('pageerror', (e) => pageErrors.push(e.message))
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(`console: ${m.text()}`)
    })

    // Projects
    await page.goto(url)
    await page.fill('[data-test=project-path]', PROJECT)
    await page.click('[data-test=open]')
    await page.waitForSelector('[data-test=class-table]', { timeout: 120_000 })
    await shot(page, 'projects.png')
    const projectKey = (await api.project.open({ path: PROJECT })).projectKey

    // Dataset: folder split, 20 % of validation as test; TF-tutorial augmentation for the preview only
    await page.click('[data-test=nav-dataset]')
    await page.check('[data-test=kind-folder]')
    await page.fill('[data-test=test-from-val]', '20')
    await page.waitForFunction(
      () => Number(document.querySelector('[data-test=total-test]')?.textContent?.replace(/\D/g, '')) > 0,
      undefined,
      { timeout: 60_000 }
    )
    await page.click('[data-test=preset-tf-tutorial]')
    await page.waitForFunction(
      () => document.querySelectorAll('[data-test=augment-preview] img').length >= 8,
      undefined,
      { timeout: 60_000 }
    )
    await shot(page, 'dataset.png')
    await page.click('[data-test=preset-none]')

    // Idle latency, before any training
    const sampler = startLatencySampler(() => api.runs.list({ projectKey }), 'idle (no training)')
    await new Promise((r) => setTimeout(r, 8000))
    api.training.onProgress((p) => {
      const s = stageOf(p.event)
      if (s) sampler.setStage(s)
    })

    // Training: TM MobileNetV2 0.35 weights from the local folder, phase 1 + phase 2 from layer 100
    await page.click('[data-test=nav-training]')
    await page.waitForSelector('[data-test=base]', { timeout: 60_000 })
    await page.selectOption('[data-test=recipe]', 'tf-tutorial')
    await page.selectOption('[data-test=base]', BASE)
    await page.selectOption('[data-test=weights]', 'file')
    await page.fill('[data-test=weights-path]', WEIGHTS)
    await page.fill('[data-test=epochs]', String(EPOCHS))
    await page.fill('[data-test=batch]', '32')
    await page.fill('[data-test=lr]', '0.0001')
    await page.check('[data-test=fine-tune]')
    await page.fill('[data-test=fine-tune-at]', '100')
    await page.fill('[data-test=fine-tune-epochs]', String(FT_EPOCHS))
    await page.fill('[data-test=fine-tune-lr]', '0.00001')
    const t0 = Date.now()
    sampler.setStage('starting (worker, scan, weights)')
    await page.click('[data-test=start]')
    log('training started')
    // Phase 1 epochs take well under a second each once the features are cached, so the "during" shot
    // (training.png) is taken in phase 2: phase 1's curves, the fine-tuning marker, a batch bar with ETA.
    await waitStage(page, /Extracting .* features [1-9]/)
    await page.locator('[data-test=training-live]').scrollIntoViewIfNeeded()
    await shot(page, 'training-features.png')
    // Phase 2 has a pass of its own over the frozen layers only for rows phase 1's feature pass did not compute
    // (cached features from an earlier run, say); otherwise it starts training at once.
    await waitStage(page, /Preparing fine-tuning: .* [1-9]\d*\/|Phase 2 /)
    if (/Preparing fine-tuning/.test(await stageText(page))) {
      await page.locator('[data-test=training-live]').scrollIntoViewIfNeeded()
      await shot(page, 'training-prepare-finetune.png')
    } else log("no 'Preparing fine-tuning' stage: phase 1's feature pass computed phase 2's input")
    log(`stage: ${await stageText(page)}`)
    await waitStage(page, /Phase 2 .* batch ([5-9]|\d\d)\//)
    await shot(page, 'training.png')
    await page.waitForFunction(
      () =>
        ['completed', 'failed', 'cancelled'].includes(
          document.querySelector('[data-test=run-status]')?.textContent?.trim() ?? ''
        ),
      undefined,
      { timeout: LONG }
    )
    const status = (await page.textContent('[data-test=run-status]'))?.trim()
    log(`run 1 ${status} after ${((Date.now() - t0) / 1000).toFixed(0)} s`)
    await new Promise((r) => setTimeout(r, 3000))
    await sampler.stop()
    await page.locator('[data-test=training-live]').scrollIntoViewIfNeeded()
    await shot(page, 'training-finetune.png')
    if (status !== 'completed')
      throw new Error(`run ended ${status}: ${await page.textContent('[data-test=training-error]').catch(() => '')}`)

    printLatency(sampler.samples())

    // Results
    await page.click('[data-test=view-results]')
    await page.waitForSelector('[data-test=confusion]', { timeout: 120_000 })
    await page.fill('[data-test=threshold]', '0.75')
    await page.dispatchEvent('[data-test=threshold]', 'input')
    await page.evaluate(() => document.querySelector('.content')?.scrollTo(0, 0))
    await shot(page, 'results.png')
    await page.locator('[data-test=threshold]').scrollIntoViewIfNeeded()
    await shot(page, 'results-threshold.png')
    await page.locator('[data-test=gallery]').first().scrollIntoViewIfNeeded()
    await shot(page, 'results-galleries.png')
    // An off-diagonal cell (the mistakes) when there is one, else the first cell
    const wrong = page.locator('[data-test=cm-0-1], [data-test=cm-1-0]')
    await (
      (await wrong.count()) > 0 ? wrong.first() : page.locator('[data-test=confusion] button.cell').first()
    ).click()
    await page.waitForSelector('[data-test=cell-images] [data-test=gallery-item]', { timeout: 60_000 })
    await page.locator('[data-test=cell-images]').scrollIntoViewIfNeeded()
    await page.locator('[data-test=cell-images] [data-test=gallery-item]').first().click()
    await page.waitForSelector('[data-test=modal] img')
    await shot(page, 'results-modal.png')
    await page.keyboard.press('Escape')

    // Runs: a cheap second run (phase 1 only, other rate) to compare against
    if (!flag('--no-second-run')) {
      await page.click('[data-test=nav-training]')
      await page.waitForSelector('[data-test=start]', { timeout: 60_000 })
      // The form keeps run 1's settings (base, weights path); set them anyway so a change there cannot mislead
      await page.selectOption('[data-test=base]', BASE)
      await page.selectOption('[data-test=weights]', 'file')
      await page.fill('[data-test=weights-path]', WEIGHTS)
      await page.uncheck('[data-test=fine-tune]')
      await page.fill('[data-test=epochs]', '5')
      await page.fill('[data-test=lr]', '0.001')
      await page.click('[data-test=start]')
      await page.waitForFunction(
        () =>
          document.querySelector('[data-test=run-status]')?.textContent?.trim() === 'running' ||
          document.querySelector('[data-test=training-error]'),
        undefined,
        { timeout: 120_000 }
      )
      const startError = await page.$('[data-test=training-error]')
      if (startError) throw new Error(`run 2 did not start: ${await startError.textContent()}`)
      await page.waitForFunction(
        () =>
          ['completed', 'failed', 'cancelled'].includes(
            document.querySelector('[data-test=run-status]')?.textContent?.trim() ?? ''
          ),
        undefined,
        { timeout: LONG }
      )
      log(`run 2 ${(await page.textContent('[data-test=run-status]'))?.trim()}`)
    }
    await page.click('[data-test=nav-runs]')
    await page.waitForSelector('[data-test=runs-table]', { timeout: 60_000 })
    const boxes = page.locator('[data-test=runs-table] input[type=checkbox]')
    for (let i = 0; i < Math.min(2, await boxes.count()); i++) await boxes.nth(i).check()
    await page.waitForTimeout(1000)
    await shot(page, 'runs.png')

    if (pageErrors.length) console.log(`\npage errors:\n  ${pageErrors.join('\n  ')}`)
  } finally {
    close()
    await browser.close()
    if (child.pid) process.kill(child.pid, 'SIGTERM')
    await new Promise((r) => setTimeout(r, 1000))
    rmSync(tmp, { recursive: true, force: true })
  }
}

await main()
