// The auto recipe in Chromium against the real serve mode, with no setting touched: the Dataset screen's resize
// mode is "Auto", the form shows auto's L2, and after the run the Training screen and the Runs table say what
// auto chose and why (the range test's rate, squash or pad resizing with both validation losses).
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
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run']
/** Where the screenshot goes (TUNELAB_SCREENSHOTS=docs/screenshots to keep it). */
const SHOTS = process.env['TUNELAB_SCREENSHOTS'] ?? null
// Pretrained features make the screenshot worth looking at; without the shared weights a random base runs it all.
const TM_WEIGHTS = join(SHARED_DATA, 'weights', 'tfjs_teachable_machine_mobilenetv2_0.35_dog')
const PRETRAINED = existsSync(TM_WEIGHTS)

describe.skipIf(!existsSync(CHROMIUM))(`auto recipe in Chromium (needs ${CHROMIUM})`, () => {
  const tmp = tempDir('tunelab-auto-e2e-')
  const project = join(tmp.dir, 'shapes')
  let server: RunningServer
  let browser: Browser
  let page: Page
  const pageErrors: string[] = []

  beforeAll(async () => {
    ensureBuilt()
    await makeProject(project, {
      layout: 'presplit',
      classes: ['red', 'blue'],
      perClass: { train: 10, validation: 5 },
      size: 48
    })
    server = await startTestServer(tmp.dir, RENDERER_DIR)
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS })
    page = await browser.newPage({ viewport: { width: 1280, height: 1200 } })
    page.on('pageerror', (e) => pageErrors.push(e.message))
    await page.goto(server.url)
    await page.fill('[data-test=project-path]', project)
    await page.click('[data-test=open]')
    await page.waitForSelector('[data-test=class-table]', { timeout: 60_000 })
  }, 300_000)

  afterAll(async () => {
    await browser?.close()
    await server?.close()
    tmp.cleanup()
  })

  it('leaves resizing to auto and shows what auto chose after the run', async () => {
    await page.click('[data-test=nav-dataset]')
    expect(await page.inputValue('[data-test=resize-mode]')).toBe('auto')

    await page.click('[data-test=nav-training]')
    await page.waitForSelector('[data-test=base]', { timeout: 30_000 })
    expect(await page.inputValue('[data-test=recipe]')).toBe('auto')
    expect(Number(await page.inputValue('[data-test=l2]'))).toBe(0.01)
    expect(await page.inputValue('[data-test=lr]')).toBe('')
    // Only the base is chosen.
    if (PRETRAINED) {
      await page.selectOption('[data-test=base]', 'mobilenet_v2_0.35_224')
      await page.selectOption('[data-test=weights]', 'file')
      await page.fill('[data-test=weights-path]', TM_WEIGHTS)
    } else {
      await page.selectOption('[data-test=base]', 'mobilenet_v2_0.35_96')
      await page.selectOption('[data-test=weights]', 'random')
    }
    await page.click('[data-test=start]')
    await page.waitForFunction(
      () => document.querySelector('[data-test=run-status]')?.textContent?.trim() === 'completed',
      undefined,
      { timeout: 300_000 }
    )
    await page.waitForSelector('[data-test=auto-choices]', { timeout: 30_000 })
    const choices = await page.textContent('[data-test=auto-choices]')
    expect(choices).toMatch(/learning rate: \d\.\de-\d — range test on the cached features of the 20 training images/)
    expect(choices).toMatch(/resizing: (squash|pad) — lower validation loss .*squash \d\.\d{4}, pad \d\.\d{4}/)
    if (SHOTS) {
      mkdirSync(SHOTS, { recursive: true })
      await page.locator('[data-test=auto-choices]').scrollIntoViewIfNeeded()
      await page.screenshot({ path: join(SHOTS, 'auto-choices.png'), fullPage: true })
    }

    await page.click('[data-test=nav-runs]')
    await page.waitForSelector('[data-test=run-choices]', { timeout: 30_000 })
    expect(await page.textContent('[data-test=run-choices]')).toMatch(/resizing/)
    expect(pageErrors).toEqual([])
  }, 400_000)
})
