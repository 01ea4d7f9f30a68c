// The user journey in Debian's Chromium against the real serve mode, the real core and a small generated project:
// open the project, set the split, set augmentation and see the preview, train a tiny random-weight base, watch the
// chart grow and the run finish, open a gallery image and a confusion-matrix cell, move the threshold.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { makeProject, tempDir } from '../helpers/synthetic'
import { CHROMIUM, HAS_CHROMIUM, openApp, type AppInChromium } from '@test/helpers/e2e'

const BASE = 'mobilenet_v2_0.35_96'

describe.skipIf(!HAS_CHROMIUM)(`user journey in Chromium (needs ${CHROMIUM}: apt-get install -y chromium)`, () => {
  const tmp = tempDir('tunelab-journey-')
  const project = join(tmp.dir, 'pets')
  let app: AppInChromium
  let page: Page

  beforeAll(async () => {
    await makeProject(project, { classes: ['cat', 'dog'], perClass: 10, size: 48 })
    // No project yet: opening it is the journey's first step.
    app = await openApp(tmp.dir, undefined, { width: 1280, height: 800 })
    page = app.page
  }, 300_000)

  afterAll(async () => {
    await app?.close()
    tmp.cleanup()
  })

  it('opens the project and lists its classes', async () => {
    await page.fill('[data-test=project-path]', project)
    await page.click('[data-test=open]')
    await page.waitForSelector('[data-test=class-table]', { timeout: 60_000 })
    expect(await page.textContent('[data-test=class-table]')).toMatch(/cat[\s\S]*10[\s\S]*dog[\s\S]*10/)
    expect(await page.textContent('[data-test=layout]')).toContain('Flat')
  })

  it('previews the split counts before anything runs', async () => {
    await page.click('[data-test=nav-dataset]')
    await page.fill('[data-test=train]', '60')
    await page.fill('[data-test=validation]', '20')
    await page.fill('[data-test=test]', '20')
    await page.waitForFunction(
      () => document.querySelector('[data-test=total-train]')?.textContent?.trim() === '12',
      undefined,
      { timeout: 20_000 }
    )
    expect(await page.textContent('[data-test=total-validation]')).toContain('4')
    expect(await page.textContent('[data-test=total-test]')).toContain('4')
    await page.fill('[data-test=train]', '90')
    expect(await page.textContent('[data-test=split-error]')).toContain('add up to 100')
    await page.fill('[data-test=train]', '60')
  })

  it('sets augmentation and shows the augmented samples', async () => {
    await page.click('[data-test=preset-tf-tutorial]')
    await page.waitForFunction(
      () => document.querySelectorAll('[data-test=augment-preview] img').length === 8,
      undefined,
      { timeout: 30_000 }
    )
    const src = await page.getAttribute('[data-test=augment-preview] img', 'src')
    expect(src).toMatch(/^data:image\/png;base64,/)
  })

  it('trains a tiny random-weight base, the chart grows and the run finishes', async () => {
    await page.click('[data-test=nav-training]')
    await page.waitForSelector('[data-test=base]', { timeout: 30_000 })
    await page.selectOption('[data-test=base]', BASE)
    await page.selectOption('[data-test=weights]', 'random')
    await page.fill('[data-test=epochs]', '2')
    await page.fill('[data-test=batch]', '8')
    await page.fill('[data-test=lr]', '0.001')
    await page.click('[data-test=start]')
    await page.waitForFunction(
      () => Number(document.querySelector('[data-test=curves]')?.getAttribute('data-epochs')) >= 1,
      undefined,
      { timeout: 180_000 }
    )
    await page.waitForFunction(
      () => document.querySelector('[data-test=run-status]')?.textContent?.trim() === 'completed',
      undefined,
      { timeout: 180_000 }
    )
    expect(await page.getAttribute('[data-test=curves]', 'data-epochs')).toBe('2')
  })

  it('shows results: gallery image, confusion-matrix cell, threshold', async () => {
    await page.click('[data-test=view-results]')
    await page.waitForSelector('[data-test=confusion]', { timeout: 60_000 })
    const cell = page.locator('[data-test=confusion] button.cell').first()
    await cell.click()
    await page.waitForSelector('[data-test=cell-images] [data-test=gallery-item]')
    await page.locator('[data-test=gallery-least-confident] [data-test=gallery-item]').first().click()
    await page.waitForSelector('[data-test=modal] img')
    const ok = await page.$eval(
      '[data-test=modal] img',
      (img) =>
        new Promise<boolean>((res) => {
          const i = img as HTMLImageElement
          if (i.complete) res(i.naturalWidth > 0)
          else i.onload = () => res(i.naturalWidth > 0)
        })
    )
    expect(ok).toBe(true)
    await page.keyboard.press('Escape')
    expect(await page.$('[data-test=modal]')).toBeNull()
    const before = await page.textContent('[data-test=coverage]')
    await page.fill('[data-test=threshold]', '0.99')
    await page.waitForTimeout(200)
    const after = await page.textContent('[data-test=coverage]')
    expect(before).toMatch(/%/)
    expect(after).toMatch(/%/)
    expect(app.pageErrors).toEqual([])
  })
})
