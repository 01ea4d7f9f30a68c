// The learning-rate finder on the Training screen in Chromium against the real serve mode: it runs in a worker with
// progress, draws the loss-vs-rate curve with the suggestion, "Use this rate" fills the form, and it cancels.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { makeProject, tempDir } from '@test/helpers/synthetic'
import { CHROMIUM, HAS_CHROMIUM, openApp, pickBase, SHOTS, type AppInChromium } from '@test/helpers/e2e'

describe.skipIf(!HAS_CHROMIUM)(`learning-rate finder in Chromium (needs ${CHROMIUM})`, () => {
  const tmp = tempDir('tunelab-lrfind-e2e-')
  const project = join(tmp.dir, 'shapes')
  let app: AppInChromium
  let page: AppInChromium['page']

  beforeAll(async () => {
    await makeProject(project, { classes: ['red', 'blue', 'green'], perClass: 12, size: 48 })
    app = await openApp(tmp.dir, project)
    page = app.page
    await page.click('[data-test=nav-training]')
    await pickBase(page)
    await page.fill('[data-test=batch]', '8')
  }, 300_000)

  afterAll(async () => {
    await app?.close()
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
    expect(app.pageErrors).toEqual([])
  })
})
