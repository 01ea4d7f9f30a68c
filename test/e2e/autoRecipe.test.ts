// The auto recipe in Chromium against the real serve mode, with no setting touched: the Dataset screen's resize
// mode is "Auto", the form shows auto's L2, and after the run the Training screen and the Runs table say what
// auto chose and why (the range test's rate, squash or pad resizing with both validation losses).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { makeProject, tempDir } from '@test/helpers/synthetic'
import { CHROMIUM, HAS_CHROMIUM, openApp, pickBase, SHOTS, type AppInChromium } from '@test/helpers/e2e'

describe.skipIf(!HAS_CHROMIUM)(`auto recipe in Chromium (needs ${CHROMIUM})`, () => {
  const tmp = tempDir('tunelab-auto-e2e-')
  const project = join(tmp.dir, 'shapes')
  let app: AppInChromium

  beforeAll(async () => {
    await makeProject(project, {
      layout: 'presplit',
      classes: ['red', 'blue'],
      perClass: { train: 10, validation: 5 },
      size: 48
    })
    app = await openApp(tmp.dir, project, { width: 1280, height: 1200 })
  }, 300_000)

  afterAll(async () => {
    await app?.close()
    tmp.cleanup()
  })

  it('leaves resizing to auto and shows what auto chose after the run', async () => {
    const { page } = app
    await page.click('[data-test=nav-dataset]')
    expect(await page.inputValue('[data-test=resize-mode]')).toBe('auto')

    await page.click('[data-test=nav-training]')
    await pickBase(page)
    expect(await page.inputValue('[data-test=recipe]')).toBe('auto')
    expect(Number(await page.inputValue('[data-test=l2]'))).toBe(0.01)
    expect(await page.inputValue('[data-test=lr]')).toBe('')
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
    expect(app.pageErrors).toEqual([])
  }, 400_000)
})
