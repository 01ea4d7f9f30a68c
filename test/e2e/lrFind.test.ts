// The learning-rate finder on the Training screen in Chromium against the real serve mode: it runs in a worker with
// progress, draws the loss-vs-rate curve with the suggestion, "Use this rate" fills the form, and it cancels.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { makeProject, tempDir } from '@test/helpers/synthetic'
import type { RunningServer } from '@server/server'
import { startTestServer } from '@test/helpers/serve'
import { ensureBuilt, RENDERER_DIR } from '@test/helpers/rendererBuild'
import { SHARED_DATA } from '@test/helpers/sharedData'

const CHROMIUM = '/usr/bin/chromium'
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run'
]
/** Where the screenshot goes (TUNELAB_SCREENSHOTS=docs/screenshots to keep it). */
const SHOTS = process.env['TUNELAB_SCREENSHOTS'] ?? null
// Pretrained features give a curve worth looking at; without the shared weights a random base still exercises it all.
const TM_WEIGHTS = join(SHARED_DATA, 'weights', 'tfjs_teachable_machine_mobilenetv2_0.35_dog')
const PRETRAINED = existsSync(TM_WEIGHTS)

describe.skipIf(!existsSync(CHROMIUM))(`learning-rate finder in Chromium (needs ${CHROMIUM})`, () => {
  const tmp = tempDir('tunelab-lrfind-e2e-')
  const project = join(tmp.dir, 'shapes')
  let server: RunningServer
  let browser: Browser
  let page: Page
  const pageErrors: string[] = []

  beforeAll(async () => {
    ensureBuilt()
    await makeProject(project, { classes: ['red', 'blue', 'green'], perClass: 12, size: 48 })
    server = await startTestServer(tmp.dir, RENDERER_DIR)
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS })
    page = await browser.newPage({ viewport: { width: 1280, height: 1100 } })
    page.on('pageerror', (e) => pageErrors.push(e.message))
    await page.goto(server.url)
    await page.fill('[data-test=project-path]', project)
    await page.click('[data-test=open]')
    await page.waitForSelector('[data-test=class-table]', { timeout: 60_000 })
    await page.click('[data-test=nav-training]')
    await page.waitForSelector('[data-test=base]', { timeout: 30_000 })
    if (PRETRAINED) {
      await page.selectOption('[data-test=base]', 'mobilenet_v2_0.35_224')
      await page.selectOption('[data-test=weights]', 'file')
      await page.fill('[data-test=weights-path]', TM_WEIGHTS)
    } else {
      await page.selectOption('[data-test=base]', 'mobilenet_v2_0.35_96')
      await page.selectOption('[data-test=weights]', 'random')
    }
    await page.fill('[data-test=batch]', '8')
  }, 300_000)

  afterAll(async () => {
    await browser?.close()
    await server?.close()
    tmp.cleanup()
  })

  it('runs with progress, plots the curve with the suggestion, and "Use this rate" fills the form', async () => {
    await page.fill('[data-test=lr]', '0.0001')
    await page.click('[data-test=find-lr]')
    await page.waitForSelector('[data-test=lr-find-progress]', { timeout: 30_000 })
    expect(await page.isDisabled('[data-test=find-lr]')).toBe(true)
    await page.waitForSelector('[data-test=lr-find-suggestion]', { timeout: 240_000 })
    const points = Number(await page.getAttribute('[data-test=lr-find-curve]', 'data-points'))
    expect(points).toBeGreaterThan(20)
    const suggested = Number(await page.getAttribute('[data-test=lr-find-curve]', 'data-suggestion'))
    expect(suggested).toBeGreaterThan(1e-7)
    expect(suggested).toBeLessThan(10)
    // The curve is drawn: the canvas is not blank.
    const inked = await page.$eval('[data-test=lr-find-chart]', (c) => {
      const canvas = c as HTMLCanvasElement
      const px =
        canvas.getContext('2d')?.getImageData(0, 0, canvas.width, canvas.height).data ?? new Uint8ClampedArray()
      let n = 0
      for (let i = 3; i < px.length; i += 4) if ((px[i] ?? 0) > 0) n++
      return n
    })
    expect(inked).toBeGreaterThan(1000)
    if (SHOTS) {
      mkdirSync(SHOTS, { recursive: true })
      await page.locator('[data-test=lr-find]').scrollIntoViewIfNeeded()
      await page.screenshot({ path: join(SHOTS, 'training-lr-finder.png'), fullPage: true })
    }
    await page.click('[data-test=lr-find-use]')
    expect(Number(await page.inputValue('[data-test=lr]'))).toBe(Number(suggested.toPrecision(2)))
    expect(await page.isDisabled('[data-test=find-lr]')).toBe(false)
  })

  it('cancels', async () => {
    await page.click('[data-test=find-lr]')
    await page.click('[data-test=lr-find-cancel]')
    await page.waitForSelector('[data-test=lr-find-cancelled]', { timeout: 120_000 })
    expect(await page.$('[data-test=lr-find-suggestion]')).toBeNull()
    expect(await page.isDisabled('[data-test=find-lr]')).toBe(false)
    expect(pageErrors).toEqual([])
  })
})
