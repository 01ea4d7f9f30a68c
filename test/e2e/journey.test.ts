// The user journey in Debian's Chromium against the real serve mode, the real core and a small generated project:
// open the project, set the split, set augmentation and see the preview, train a tiny random-weight base, watch the
// chart grow and the run finish, open a gallery image and a confusion-matrix cell, move the threshold.
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { makeProject } from '../helpers/synthetic'
import { CHROMIUM, HAS_CHROMIUM, appForBlock, waitForRunStatus } from '@test/helpers/e2e'

/** TUNELAB_SCREENSHOTS=<dir> writes the bad-seed split form there. */
const SHOTS = process.env['TUNELAB_SCREENSHOTS'] ?? null

const BASE = 'mobilenet_v2_0.35_96'

describe.skipIf(!HAS_CHROMIUM)(`user journey in Chromium (needs ${CHROMIUM}: apt-get install -y chromium)`, () => {
  const e2e = appForBlock({
    prefix: 'tunelab-journey-',
    name: 'pets',
    viewport: { width: 1280, height: 800 },
    // No project open yet: opening it is the journey's first step.
    open: false,
    prepare: (project) => makeProject(project, { classes: ['cat', 'dog'], perClass: 10, size: 48 })
  })

  it('opens the project and lists its classes', async () => {
    await e2e.page.fill('[data-test=project-path]', e2e.project)
    await e2e.page.click('[data-test=open]')
    await e2e.page.waitForSelector('[data-test=class-table]', { timeout: 60_000 })
    expect(await e2e.page.textContent('[data-test=class-table]')).toMatch(/cat[\s\S]*10[\s\S]*dog[\s\S]*10/)
    expect(await e2e.page.textContent('[data-test=layout]')).toContain('Flat')
  })

  it('previews the split counts before anything runs', async () => {
    await e2e.page.click('[data-test=nav-dataset]')
    await e2e.page.fill('[data-test=train]', '60')
    await e2e.page.fill('[data-test=validation]', '20')
    await e2e.page.fill('[data-test=test]', '20')
    await e2e.page.waitForFunction(
      () => document.querySelector('[data-test=total-train]')?.textContent?.trim() === '12',
      undefined,
      { timeout: 20_000 }
    )
    expect(await e2e.page.textContent('[data-test=total-validation]')).toContain('4')
    expect(await e2e.page.textContent('[data-test=total-test]')).toContain('4')
    await e2e.page.fill('[data-test=train]', '90')
    expect(await e2e.page.textContent('[data-test=split-error]')).toContain('add up to 100')
    await e2e.page.fill('[data-test=train]', '60')
    // A bad seed marks the seed field, not the percentages.
    await e2e.page.fill('[data-test=seed]', '-1')
    expect(await e2e.page.textContent('[data-test=split-error]')).toContain('Seed must be a whole number')
    expect(await e2e.page.getAttribute('[data-test=seed]', 'aria-invalid')).toBe('true')
    expect(await e2e.page.getAttribute('[data-test=train]', 'aria-invalid')).toBe('false')
    // The table keeps the last valid counts, dimmed, and says so.
    expect(await e2e.page.getAttribute('[data-test=split-counts] table', 'class')).toContain('stale')
    expect(await e2e.page.textContent('[data-test=counts-stale]')).toContain('last valid split')
    if (SHOTS) await e2e.page.screenshot({ path: join(SHOTS, 'split-bad-seed.png') })
    // The Training screen does not start from an invalid split, and says why.
    await e2e.page.click('[data-test=nav-training]')
    await e2e.page.waitForSelector('[data-test=start-blocked]', { timeout: 30_000 })
    expect(await e2e.page.textContent('[data-test=start-blocked]')).toContain('Seed must be a whole number')
    expect(await e2e.page.isDisabled('[data-test=start]')).toBe(true)
    expect(await e2e.page.textContent('[data-test=training-split]')).toContain('invalid (see Dataset)')
    // Back on the Dataset screen the form is as it was left, the invalid seed included.
    await e2e.page.click('[data-test=nav-dataset]')
    expect(await e2e.page.inputValue('[data-test=seed]')).toBe('-1')
    expect(await e2e.page.textContent('[data-test=split-error]')).toContain('Seed must be a whole number')
    await e2e.page.fill('[data-test=seed]', '42')
    await e2e.page.waitForSelector('[data-test=counts-stale]', { state: 'detached' })
    // A valid split with empty validation and test sets is allowed, with what it costs said.
    await e2e.page.fill('[data-test=train]', '100')
    await e2e.page.fill('[data-test=validation]', '0')
    await e2e.page.fill('[data-test=test]', '0')
    await e2e.page.waitForFunction(
      () => document.querySelectorAll('[data-test=split-warning]').length === 2,
      undefined,
      {
        timeout: 20_000
      }
    )
    const warnings = await e2e.page.locator('[data-test=split-warning]').allTextContents()
    expect(warnings[0]).toContain('No validation images')
    expect(warnings[1]).toContain('No test images')
    if (SHOTS) await e2e.page.screenshot({ path: join(SHOTS, 'split-empty-sets.png') })
    await e2e.page.fill('[data-test=train]', '60')
    await e2e.page.fill('[data-test=validation]', '20')
    await e2e.page.fill('[data-test=test]', '20')
    await e2e.page.waitForSelector('[data-test=split-warning]', { state: 'detached', timeout: 20_000 })
  })

  it('sets augmentation and shows the augmented samples', async () => {
    // Left to the recipe at first: each recipe's own is listed, and there is no one augmentation to preview.
    expect(await e2e.page.textContent('[data-test=recipe-augment]')).toContain('TensorFlow tutorial: horizontal flip')
    await e2e.page.waitForSelector('[data-test=samples-recipe]')
    await e2e.page.click('[data-test=preset-tf-tutorial]')
    await e2e.page.waitForFunction(
      () => document.querySelectorAll('[data-test=augment-preview] img').length === 8,
      undefined,
      { timeout: 30_000 }
    )
    const src = await e2e.page.getAttribute('[data-test=augment-preview] img', 'src')
    expect(src).toMatch(/^data:image\/png;base64,/)
  })

  it('trains a tiny random-weight base, the chart grows and the run finishes', async () => {
    await e2e.page.click('[data-test=nav-training]')
    await e2e.page.waitForSelector('[data-test=base]', { timeout: 30_000 })
    await e2e.page.selectOption('[data-test=base]', BASE)
    await e2e.page.selectOption('[data-test=weights]', 'random')
    await e2e.page.fill('[data-test=epochs]', '2')
    await e2e.page.fill('[data-test=batch]', '8')
    await e2e.page.fill('[data-test=lr]', '0.001')
    await e2e.page.click('[data-test=start]')
    await e2e.page.waitForFunction(
      () => Number(document.querySelector('[data-test=curves]')?.getAttribute('data-epochs')) >= 1,
      undefined,
      { timeout: 180_000 }
    )
    await waitForRunStatus(e2e.page, 'completed', 180_000)
    expect(await e2e.page.getAttribute('[data-test=curves]', 'data-epochs')).toBe('2')
  })

  it('shows results: gallery image, confusion-matrix cell, threshold', async () => {
    await e2e.page.click('[data-test=view-results]')
    await e2e.page.waitForSelector('[data-test=confusion]', { timeout: 60_000 })
    const cell = e2e.page.locator('[data-test=confusion] button.cell').first()
    await cell.click()
    await e2e.page.waitForSelector('[data-test=cell-images] [data-test=gallery-item]')
    await e2e.page.locator('[data-test=gallery-least-confident] [data-test=gallery-item]').first().click()
    await e2e.page.waitForSelector('[data-test=modal] img')
    const ok = await e2e.page.$eval(
      '[data-test=modal] img',
      (img) =>
        new Promise<boolean>((res) => {
          const i = img as HTMLImageElement
          if (i.complete) res(i.naturalWidth > 0)
          else i.onload = () => res(i.naturalWidth > 0)
        })
    )
    expect(ok).toBe(true)
    await e2e.page.keyboard.press('Escape')
    expect(await e2e.page.$('[data-test=modal]')).toBeNull()
    // Wrong predictions all below the threshold are said to be unsure ones, not confident ones.
    const wrongProbs = (await e2e.page.locator('[data-test=gallery-confidently-wrong] .prob').allTextContents()).map(
      (t) => parseFloat(t) / 100
    )
    const threshold = Number(await e2e.page.inputValue('[data-test=threshold]'))
    const unsure = wrongProbs.length > 0 && Math.max(...wrongProbs) < threshold
    console.log(
      `journey: ${wrongProbs.length} wrong in the gallery, top ${Math.max(0, ...wrongProbs)}, unsure note ${unsure}`
    )
    expect(await e2e.page.locator('[data-test=wrong-unsure]').count()).toBe(unsure ? 1 : 0)
    const before = await e2e.page.textContent('[data-test=coverage]')
    await e2e.page.fill('[data-test=threshold]', '0.99')
    await e2e.page.waitForTimeout(200)
    const after = await e2e.page.textContent('[data-test=coverage]')
    expect(before).toMatch(/%/)
    expect(after).toMatch(/%/)
    expect(e2e.app.pageErrors).toEqual([])
  })
})
