// Fine-tuning from the Training screen in Chromium against the real serve mode: the TF tutorial recipe with
// phase 2 on (augmentation set to none), and the run's log says how each phase computed; then the recipe's own
// augmentation reaching training. Phase 2 trains on the activations at the cut that
// phase 1's feature pass kept (each image goes through the frozen layers once over both phases).
import { describe, expect, it } from 'vitest'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { makeProject } from '@test/helpers/synthetic'
import { CHROMIUM, HAS_CHROMIUM, appForBlock, pickBase, SHOTS, waitForRunStatus } from '@test/helpers/e2e'

describe.skipIf(!HAS_CHROMIUM)(`fine-tuning in Chromium (needs ${CHROMIUM})`, () => {
  const e2e = appForBlock({
    prefix: 'tunelab-finetune-e2e-',
    name: 'shapes',
    viewport: { width: 1280, height: 1300 },
    prepare: (project) =>
      makeProject(project, {
        layout: 'presplit',
        classes: ['red', 'blue'],
        perClass: { train: 12, validation: 6 },
        size: 48
      })
  })

  it('runs phase 2 on the activations phase 1 kept, and the log says so', async () => {
    const { page } = e2e
    // "None" on the Dataset screen is none, even with a recipe that has its own (the TF tutorial flips and rotates).
    await page.click('[data-test=nav-dataset]')
    await page.click('[data-test=preset-none]')
    await page.click('[data-test=nav-training]')
    await pickBase(page)
    await page.selectOption('[data-test=recipe]', 'tf-tutorial')
    await page.fill('[data-test=epochs]', '2')
    if (!(await page.isChecked('[data-test=fine-tune]'))) await page.check('[data-test=fine-tune]')
    await page.fill('[data-test=fine-tune-at]', '100')
    await page.fill('[data-test=fine-tune-epochs]', '2')
    await page.click('[data-test=start]')
    await waitForRunStatus(page, 'completed')
    await page.click('details summary:has-text("Log")')
    const log = (await page.textContent('details ul')) ?? ''
    expect(log).toContain('phase 1 (head, base frozen): 2 epoch(s), cached-features: augmentation off')
    // 24 training + 10 validation images (the recipe moves 20 % of validation to test): all computed in phase 1.
    expect(log).toMatch(
      /phase 2 \(fine-tuning from layer 100\): 2 epoch\(s\), cached-activations: layers 100\.\.\d+ train .*activations at the cut cached once \([\d.]+ MiB, in memory; phase 1's feature pass computed those of 34 images\)/
    )
    if (SHOTS) {
      mkdirSync(SHOTS, { recursive: true })
      await page.locator('details ul').scrollIntoViewIfNeeded()
      await page.screenshot({ path: join(SHOTS, 'fine-tune-log.png'), fullPage: true })
    }
    expect(e2e.app.pageErrors).toEqual([])
  }, 400_000)

  it("trains with the recipe's own augmentation when the Dataset screen leaves it to the recipe", async () => {
    const { page } = e2e
    await page.click('[data-test=nav-dataset]')
    await page.click('[data-test=preset-recipe]')
    await page.click('[data-test=nav-training]')
    await page.selectOption('[data-test=recipe]', 'tf-tutorial')
    await page.fill('[data-test=epochs]', '1')
    if (await page.isChecked('[data-test=fine-tune]')) await page.uncheck('[data-test=fine-tune]')
    expect(await page.textContent('main')).toContain("augmentation the recipe's own")
    await page.click('[data-test=start]')
    await waitForRunStatus(page, 'completed')
    const log = (await page.textContent('details ul')) ?? ''
    expect(log).toContain('phase 1 (head, base frozen): 1 epoch(s), augmented-forward: augmentation on')
    expect(e2e.app.pageErrors).toEqual([])
  }, 400_000)
})
