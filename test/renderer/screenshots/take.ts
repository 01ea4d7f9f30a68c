// Screenshots of every screen at 1280x800: the real renderer (vite dev server) in Debian's Chromium, its serve-mode
// WebSocket answered by the demo transport double. Run: npx tsx test/renderer/screenshots/take.ts [outDir]
import { existsSync, mkdirSync } from 'node:fs'
import { resolve } from 'node:path'
import { createServer } from 'vite'
import vue from '@vitejs/plugin-vue'
import sharp from 'sharp'
import { chromium } from 'playwright-core'
import type { ChannelName } from '@shared/contract/channels'
import { syntheticRgb } from '../../helpers/synthetic'
import { createRng } from '../../../src/main/core/util/rng'
import { KEY } from '@test/helpers/fakeApi'
import { createDemoApi, DEMO_EPOCHS } from './demoApi'

const ROOT = resolve(import.meta.dirname, '../../..')
const OUT = resolve(process.argv[2] ?? `${ROOT}/docs/screenshots`)
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

async function png(id: number, size: number, angle = 0): Promise<Buffer> {
  const rgb = syntheticRgb(size, id >= 100 || (id >= 50 && id < 100) ? 1 : 0, createRng(id))
  let img = sharp(Buffer.from(rgb), { raw: { width: size, height: size, channels: 3 } })
  if (angle) img = img.rotate(angle, { background: '#777' }).resize(size, size)
  return img.png().toBuffer()
}

async function main(): Promise<void> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`)
  mkdirSync(OUT, { recursive: true })
  const hasIndex = existsSync(`${ROOT}/src/shared/contract/index.ts`)
  const server = await createServer({
    configFile: false,
    root: `${ROOT}/src/renderer`,
    logLevel: 'warn',
    plugins: [vue()],
    resolve: {
      alias: [
        ...(hasIndex
          ? []
          : [{ find: /^@shared\/contract$/, replacement: resolve(import.meta.dirname, 'contractShim.ts') }]),
        { find: '@shared', replacement: `${ROOT}/src/shared` }
      ]
    },
    server: { host: '127.0.0.1', port: 0, hmr: false }
  })
  await server.listen()
  const addr = server.httpServer?.address()
  const port = typeof addr === 'object' && addr ? addr.port : 0
  const demo = createDemoApi()
  const api = demo.api as unknown as Record<string, Record<string, (r: unknown) => Promise<unknown>>>
  api.dataset!.augmentPreview = async (r) => {
    const req = r as { n: number; imageId: number }
    const images = await Promise.all(
      Array.from(
        { length: req.n },
        async (_, i) => `data:image/png;base64,${(await png(req.imageId, 96, ((i * 37) % 50) - 25)).toString('base64')}`
      )
    )
    return { images }
  }

  const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS })
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } })
  page.on('pageerror', (e) => console.error('page error:', e.message))
  let send: ((msg: unknown) => void) | null = null
  await page.routeWebSocket(/\/api/, (ws) => {
    send = (m) => ws.send(JSON.stringify(m))
    ws.onMessage(async (text) => {
      const msg = JSON.parse(String(text)) as { id: number; channel: ChannelName; request: unknown }
      const [d, m] = msg.channel.split('.') as [string, string]
      try {
        const result = await api[d]![m]!(msg.request)
        ws.send(JSON.stringify({ type: 'response', id: msg.id, envelope: { ok: true, result } }))
      } catch (e) {
        ws.send(
          JSON.stringify({
            type: 'response',
            id: msg.id,
            envelope: { ok: false, error: { code: 'internal', message: (e as Error).message } }
          })
        )
      }
    })
  })
  await page.route('**/image/**', async (route) => {
    const id = Number(/\/image\/[0-9a-f]+\/(\d+)/.exec(route.request().url())?.[1] ?? 1)
    await route.fulfill({
      contentType: 'image/png',
      body: await png(id, /size=full/.test(route.request().url()) ? 320 : 128)
    })
  })
  const shot = async (name: string): Promise<void> => {
    await page.waitForTimeout(400)
    await page.screenshot({ path: `${OUT}/${name}.png` })
    console.log(`${OUT}/${name}.png`)
  }
  const event = (e: unknown): void =>
    send?.({ type: 'event', event: 'training.progress', payload: { projectKey: KEY, runId: 3, event: e } })

  await page.goto(`http://127.0.0.1:${port}/?token=demo`)
  await page.getByTestId?.('project-path')
  await page.fill('[data-test=project-path]', '/data/cats_and_dogs_filtered')
  await page.click('[data-test=open]')
  await page.waitForSelector('[data-test=class-table]')
  await shot('projects')

  await page.click('[data-test=nav-dataset]')
  await page.fill('[data-test=test-from-val]', '20')
  await page.waitForSelector('[data-test=recipe-augment]')
  await page.waitForTimeout(400)
  await page.locator('.augment-form').screenshot({ path: `${OUT}/augment-recipe-own.png` })
  console.log(`${OUT}/augment-recipe-own.png`)
  await page.click('[data-test=preset-tf-tutorial]')
  await page.waitForSelector('[data-test=augment-preview] img')
  await shot('dataset')

  await page.click('[data-test=nav-training]')
  await page.waitForSelector('[data-test=start]')
  await shot('training-form')
  await page.selectOption('[data-test=fine-tune-mode]', { label: 'on, with these settings' })
  await page.fill('[data-test=epochs]', '5')
  await page.fill('[data-test=fine-tune-epochs]', '5')
  demo.api.training.start = async () => ({ runId: 3 })
  await page.click('[data-test=start]')
  await page.waitForSelector('[data-test=run-status]')
  event({ type: 'backend', name: 'wasm', notes: ['tensorflow-gpu: not installed'] })
  event({
    type: 'phase',
    phase: 'head',
    epochs: 5,
    fineTuneAt: null,
    detail: 'cached features',
    line: 'phase 1 (head, base frozen): 5 epoch(s), cached-features: cached features'
  })
  for (const e of DEMO_EPOCHS.slice(0, 7)) {
    if (e.epoch === 6)
      event({
        type: 'phase',
        phase: 'fine-tune',
        epochs: 5,
        fineTuneAt: 100,
        detail: 'from layer 100',
        line: 'phase 2 (fine-tuning from layer 100): 5 epoch(s), cached-activations: from layer 100'
      })
    event({ type: 'epoch', epoch: e })
  }
  event({
    type: 'batch',
    phase: 'fine-tune',
    epoch: 8,
    batch: 37,
    batches: 63,
    loss: 0.09,
    accuracy: 0.97,
    imagesPerSec: 141,
    etaSeconds: 47
  })
  await page.evaluate(() => document.querySelector('[data-test=training-live]')?.scrollIntoView())
  await shot('training')

  for (const e of DEMO_EPOCHS.slice(7)) event({ type: 'epoch', epoch: e })
  event({ type: 'done', status: 'completed', error: null })
  await page.waitForSelector('[data-test=view-results]')
  await page.click('[data-test=view-results]')
  await page.waitForSelector('[data-test=confusion]')
  await shot('results')
  await page.click('[data-test=cm-0-1]')
  await page.waitForSelector('[data-test=cell-images]')
  await page.evaluate(() => document.querySelector('[data-test=gallery-confidently-wrong]')?.scrollIntoView())
  await shot('results-galleries')
  await page.click('[data-test=gallery-confidently-wrong] [data-test=gallery-item]')
  await page.waitForSelector('[data-test=modal]')
  await shot('results-modal')
  await page.keyboard.press('Escape')

  await page.click('[data-test=nav-runs]')
  await page.waitForSelector('[data-test=runs-table]')
  await page.check('[aria-label="Compare run 3"]')
  await page.check('[aria-label="Compare run 2"]')
  await shot('runs')

  await browser.close()
  await server.close()
}

main().catch((e: unknown) => {
  console.error(e)
  process.exit(1)
})
