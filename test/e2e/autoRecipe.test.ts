// The auto recipe in Chromium against the real serve mode, with no setting touched: the Dataset screen's resize
// mode is "Auto", the form shows auto's L2, and after the run the Training screen and the Runs table say what
// auto chose and why (the range test's rate, squash or pad resizing with both validation losses).
import { describe, expect, it } from 'vitest'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { makeProject } from '@test/helpers/synthetic'
import { CHROMIUM, HAS_CHROMIUM, appForBlock, pickBase, SHOTS, waitForRunStatus } from '@test/helpers/e2e'

describe.skipIf(!HAS_CHROMIUM)(`auto recipe in Chromium (needs ${CHROMIUM})`, () => {
  const e2e = appForBlock({
    prefix: 'tunelab-auto-e2e-',
    name: 'shapes',
    viewport: { width: 1280, height: 1200 },
    prepare: (project) =>
      makeProject(project, {
        layout: 'presplit',
        classes: ['red', 'blue'],
        perClass: { train: 10, validation: 5 },
        size: 48
      })
  })

  it('leaves resizing to auto and shows what auto chose after the run', async () => {
    const { page } = e2e
    await page.click('[data-test=nav-dataset]')
    expect(await page.inputValue('[data-test=resize-mode]')).toBe('auto')

    await page.click('[data-test=nav-training]')
    await pickBase(page)
    expect(await page.inputValue('[data-test=recipe]')).toBe('auto')
    expect(Number(await page.inputValue('[data-test=l2]'))).toBe(0.01)
    expect(await page.inputValue('[data-test=lr]')).toBe('')
    await page.click('[data-test=start]')
    await waitForRunStatus(page, 'completed')
    // Once it ended, the figures shown are those of the epoch the model kept, and say so.
    const log = (await page.locator('[data-test=training-live] details').textContent()) ?? ''
    const kept = /restored the weights of epoch (\d+)/.exec(log)?.[1]
    const label = await page.textContent('[data-test=last-val-label]')
    console.log(`auto e2e: kept epoch ${kept ?? 'the last'}; shown: ${label}`)
    if (kept) expect(label).toBe(`val accuracy · epoch ${kept} (kept)`)
    else expect(label).not.toContain('kept')
    expect(log).toMatch(/run completed$/)
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
    expect(e2e.app.pageErrors).toEqual([])
  }, 400_000)
})
