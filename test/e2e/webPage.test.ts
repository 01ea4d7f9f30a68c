// The export's web page in Chromium, served by a plain static server: it loads the model offline (TF.js bundled
// beside it), classifies picked images and the (fake) webcam, and its probabilities match TuneLab's predict.
import { createReadStream, existsSync, mkdirSync, statSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { extname, join, normalize } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { NO_AUGMENTATION } from '@shared/domain'
import {
  exportModel,
  loadExportedModel,
  predictFiles,
  predictPixels,
  type LoadedModel,
  type PredictedFile
} from '@core/export'
import { writeWebPage } from '@core/export/webPage'
import { loadBase } from '@core/models'
import { trainRun } from '@core/training/trainer'
import { CATS, DOGS, TM_V2 } from '@test/helpers/photos'
import { tempDir } from '../helpers/synthetic'
import { decodeFiles, trainFixture, useWasmBackend } from '@test/helpers/exportFixtures'

const CHROMIUM = '/usr/bin/chromium'
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--disable-background-networking',
  '--no-first-run'
]
const HAVE_DATA = existsSync(TM_V2) && existsSync(CATS) && existsSync(DOGS)
const TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.json': 'application/json',
  '.bin': 'application/octet-stream'
}

/** A plain static file server over dir (what a user would run: python3 -m http.server). Counts off-folder requests. */
function serveFolder(dir: string): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^\/+/, '')
    const file = join(dir, path === '' ? 'index.html' : path)
    if (!file.startsWith(dir) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end()
      return
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' })
    createReadStream(file).pipe(res)
  })
  return new Promise((done) =>
    server.listen(0, '127.0.0.1', () =>
      done({ server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}/` })
    )
  )
}

async function pageProbabilities(page: Page, file: string): Promise<Record<string, number>> {
  await page.evaluate(() => (document.body.dataset.state = 'busy'))
  await page.setInputFiles('[data-test=file-input]', file)
  await page.waitForSelector('body[data-state=ready]', { timeout: 60_000 })
  const rows = await page.$$eval('[data-test=probability]', (els) =>
    els.map((e) => [(e as HTMLElement).dataset.class ?? '', Number((e as HTMLElement).dataset.value)] as const)
  )
  return Object.fromEntries(rows)
}

async function openPage(browser: Browser, url: string, offline: string[]): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 900, height: 760 } })
  // Offline: any request that is not to the static server fails the test.
  page.on('request', (r) => {
    if (!r.url().startsWith(url) && !r.url().startsWith('blob:') && !r.url().startsWith('data:')) offline.push(r.url())
  })
  await page.goto(url)
  await page.waitForSelector('body[data-state=loaded]', { timeout: 60_000 })
  return page
}

describe.skipIf(!existsSync(CHROMIUM))(`the export's web page in Chromium (needs ${CHROMIUM})`, () => {
  const tmp = tempDir('tunelab-webpage-')
  let browser: Browser

  beforeAll(async () => {
    await useWasmBackend()
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS })
  }, 120_000)
  afterAll(async () => {
    await browser?.close()
    tmp.cleanup()
  })

  it('classifies picked images and the webcam with a small model, offline', async () => {
    const fx = await trainFixture(join(tmp.dir, 'synthetic'), ['red', 'green', 'blue'], 'squash', 5)
    const dir = join(tmp.dir, 'export-synthetic')
    await exportModel(
      {
        model: fx.result.model,
        classes: ['red', 'green', 'blue'],
        base: fx.base.spec,
        resizeMode: 'squash',
        preprocessing: fx.base.spec.preprocessing,
        outputUnits: fx.result.outputUnits
      },
      dir
    )
    await writeWebPage(dir)
    const { server, url } = await serveFolder(dir)
    const offline: string[] = []
    try {
      const page = await openPage(browser, url, offline)
      expect(await page.textContent('h1')).toBe('red / green / blue')
      const png = fx.absPaths.find((p) => p.endsWith('.png'))!
      const probs = await pageProbabilities(page, png)
      expect(Object.keys(probs)).toEqual(['red', 'green', 'blue'])
      expect(Object.values(probs).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4)
      await page.click('[data-test=start-camera]')
      await page.waitForFunction(
        () => document.querySelector('[data-test=source]')?.textContent === 'webcam',
        undefined,
        { timeout: 60_000 }
      )
      expect(await page.$$('[data-test=probability]')).toHaveLength(3)
      expect(await page.isVisible('[data-test=error]')).toBe(false)
      expect(offline).toEqual([])
      await page.close()
    } finally {
      server.close()
      fx.result.dispose()
    }
  }, 300_000)

  it.skipIf(!HAVE_DATA)(
    "gives TuneLab's probabilities on real photos (Teachable Machine MobileNetV2 0.35, trained head)",
    async () => {
      const base = await loadBase('mobilenet_v2_0.35_224', { path: TM_V2 })
      const photos = (dir: string, from: number, n: number, prefix: string): string[] =>
        Array.from({ length: n }, (_, i) => join(dir, `${prefix}.${from + i}.jpg`))
      const train = [...photos(CATS, 2400, 24, 'cat'), ...photos(DOGS, 2400, 24, 'dog')]
      const result = await trainRun(
        {
          classes: ['cats', 'dogs'],
          epochs: 15,
          batchSize: 16,
          lr: 0.01,
          optimizer: 'adam',
          dropout: 0.2,
          seed: 1,
          augment: NO_AUGMENTATION
        },
        {
          base,
          train: {
            keys: train,
            labels: train.map((_, i) => (i < 24 ? 0 : 1)),
            load: (idx) =>
              decodeFiles(
                idx.map((i) => train[i] as string),
                224,
                'squash'
              )
          }
        }
      )
      const dir = join(tmp.dir, 'export-real')
      mkdirSync(dir, { recursive: true })
      await exportModel(
        {
          model: result.model,
          classes: ['cats', 'dogs'],
          base: base.spec,
          resizeMode: 'squash',
          preprocessing: base.spec.preprocessing,
          outputUnits: result.outputUnits
        },
        join(dir, 'x')
      )
      const exportDir = join(dir, 'x')
      await writeWebPage(exportDir)
      let loaded: LoadedModel | null = null
      const { server, url } = await serveFolder(exportDir)
      try {
        loaded = await loadExportedModel(exportDir)
        const test = [...photos(CATS, 2000, 4, 'cat'), ...photos(DOGS, 2000, 4, 'dog')]
        const app = (await predictFiles(loaded, test)) as PredictedFile[]
        const offline: string[] = []
        const page = await openPage(browser, url, offline)
        let worst = 0
        let worstResize = 0
        let worstRuntime = 0
        let worstPixel = 0
        let pixelSum = 0
        for (const [i, file] of test.entries()) {
          const p = await pageProbabilities(page, file)
          const d = Math.abs(p['dogs']! - app[i]!.probabilities['dogs']!)
          worst = Math.max(worst, d)
          // Split the difference: the page's resize (TuneLab on the page's pixels vs on sharp's) and its runtime (WebGL vs wasm on the same pixels).
          const pagePixels = Uint8Array.from(
            await page.evaluate(() =>
              Array.from((window as unknown as { tunelabLastPixels: Uint8ClampedArray }).tunelabLastPixels)
            )
          )
          const sharpPixels = await decodeFiles([file], 224, 'squash')
          let pixelMax = 0
          for (let k = 0; k < pagePixels.length; k++) {
            const e = Math.abs(pagePixels[k]! - sharpPixels[k]!)
            pixelMax = Math.max(pixelMax, e)
            pixelSum += e
          }
          worstPixel = Math.max(worstPixel, pixelMax)
          const onPagePixels = (await predictPixels(loaded, pagePixels, 1))[1]!
          worstResize = Math.max(worstResize, Math.abs(onPagePixels - app[i]!.probabilities['dogs']!))
          worstRuntime = Math.max(worstRuntime, Math.abs(onPagePixels - p['dogs']!))
          console.log(
            `${file.split('/').pop()}: page p(dogs) ${p['dogs']!.toFixed(5)}, TuneLab ${app[i]!.probabilities['dogs']!.toFixed(5)}, |diff| ${d.toExponential(2)}; TuneLab on the page's pixels ${onPagePixels.toFixed(5)}; max pixel diff ${pixelMax}`
          )
          expect(p['dogs']! > 0.5).toBe(app[i]!.probabilities['dogs']! > 0.5)
        }
        console.log(
          `web page vs TuneLab on ${test.length} photos: max |dp| ${worst.toExponential(3)} (resize alone ${worstResize.toExponential(3)}, WebGL vs wasm alone ${worstRuntime.toExponential(3)}); pixels: max |diff| ${worstPixel}, mean ${(pixelSum / (test.length * 224 * 224 * 3)).toFixed(4)}`
        )
        expect(worst).toBeLessThan(0.02)
        await page.screenshot({ path: 'docs/screenshots/export-web-page.png' })
        expect(offline).toEqual([])
        await page.close()
      } finally {
        server.close()
        loaded?.model.dispose()
        result.dispose()
        base.model.dispose()
      }
    },
    600_000
  )
})
