// Two projects in one session, in Debian's Chromium against the real serve mode: the folder serve mode was started
// with opens by itself; Results can show any finished run of the project; opening another project leaves nothing
// of the first on Results, Runs and Training. Screenshot: docs/screenshots/results-run-picker.png with
// TUNELAB_SCREENSHOTS=docs/screenshots.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CHROMIUM, HAS_CHROMIUM, openApp, SHOTS, waitForRunStatus, type AppInChromium } from '@test/helpers/e2e'
import { makeProject, tempDir } from '@test/helpers/synthetic'

const TRAIN = ['--base', 'mobilenet_v2_0.35_96', '--random-weights', '--batch', '8', '--epochs', '2']

function cli(args: string[]): void {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', ...args], {
    encoding: 'utf8',
    timeout: 300_000
  })
  expect(r.status, r.stderr).toBe(0)
}

describe.skipIf(!HAS_CHROMIUM)(`two projects in one session (needs ${CHROMIUM})`, () => {
  const tmp = tempDir('tunelab-e2e-switch-')
  const birds = join(tmp.dir, 'birds')
  const fish = join(tmp.dir, 'fish')
  let app: AppInChromium | null = null
  const page = (): AppInChromium['page'] => {
    if (!app) throw new Error('the app opens in beforeAll')
    return app.page
  }

  beforeAll(async () => {
    await makeProject(birds, { classes: ['finch', 'robin'], perClass: 8, size: 48 })
    await makeProject(fish, { classes: ['carp', 'trout'], perClass: 8, size: 48, seed: 2 })
    cli(['train', birds, ...TRAIN, '--lr', '0.001'])
    cli(['train', birds, ...TRAIN, '--lr', '0.003'])
    app = await openApp(tmp.dir, undefined, { width: 1280, height: 900 }, birds)
  }, 600_000)
  afterAll(async () => {
    try {
      await app?.close()
    } finally {
      tmp.cleanup()
    }
  })

  it('opens the folder serve mode was started with, without typing it', async () => {
    await page().waitForSelector('[data-test=class-table]', { timeout: 60_000 })
    expect(await page().inputValue('[data-test=project-path]')).toBe(birds)
    expect(await page().textContent('h1')).toBe('birds')
  })

  it('Results shows the latest finished run and any other picked from its run list', async () => {
    await page().click('[data-test=nav-results]')
    const picker = page().locator('[data-test=results-run]')
    await picker.waitFor({ timeout: 60_000 })
    await expect.poll(() => picker.locator('option').count(), { timeout: 30_000 }).toBe(2)
    expect(await picker.inputValue()).toBe('2')
    expect((await picker.locator('option').allTextContents()).map((t) => t.trim().split(' · ')[0])).toEqual([
      'Run #2',
      'Run #1'
    ])
    expect(await page().textContent('[data-test=results-config]')).toMatch(/lr 0\.003 /)
    // Which validation accuracy it is: the highest an epoch reached, and which epoch.
    expect(await page().textContent('[data-test=highest-val]')).toMatch(/%\s*epoch [12]$/)
    await picker.selectOption('1')
    await expect.poll(() => page().textContent('[data-test=results-config]'), { timeout: 30_000 }).toMatch(/lr 0\.001 /)
    expect(await picker.inputValue()).toBe('1')
    if (SHOTS) await page().screenshot({ path: join(SHOTS, 'results-run-picker.png') })
  })

  it('opening another project leaves nothing of the first on Results, Runs and Training', async () => {
    await page().click('[data-test=nav-runs]')
    await page().waitForSelector('[data-test=runs-table]', { timeout: 30_000 })
    await page().click('[data-test=nav-projects]')
    await page().fill('[data-test=project-path]', fish)
    await page().click('[data-test=open]')
    await expect.poll(() => page().textContent('h1'), { timeout: 60_000 }).toBe('fish')
    await page().waitForSelector('[data-test=class-table]', { timeout: 60_000 })

    await page().click('[data-test=nav-results]')
    await page().waitForSelector('text=No finished run yet', { timeout: 30_000 })
    await page().click('[data-test=nav-runs]')
    await page().waitForSelector('text=No runs yet for this project.', { timeout: 30_000 })
    await page().click('[data-test=nav-training]')
    await page().waitForSelector('text=Start a training to see its learning curves here.', { timeout: 30_000 })
    expect(await page().locator('[data-test=auto-choices]').count()).toBe(0)
    // Before any audit, the Audit screen says so and claims nothing about findings.
    await page().click('[data-test=nav-audit]')
    await page().waitForSelector('text=No audit yet', { timeout: 30_000 })
    expect(await page().locator('[data-test=audit-label]').count()).toBe(0)
    expect(await page().locator('text=No image looks mislabelled').count()).toBe(0)
    expect(app?.pageErrors).toEqual([])
  })

  it('a cancelled run says it was cancelled after how many epochs, its axis ends there, and it offers no results', async () => {
    await page().click('[data-test=nav-training]')
    await page().waitForSelector('[data-test=base]', { timeout: 30_000 })
    await page().selectOption('[data-test=base]', 'mobilenet_v2_0.35_96')
    await page().selectOption('[data-test=weights]', 'random')
    // Long enough to cancel by hand: early stopping would otherwise end a random-weight run of 16 images in seconds.
    await page().fill('[data-test=epochs]', '1000')
    await page().fill('[data-test=patience]', '1000')
    await page().fill('[data-test=batch]', '8')
    await page().fill('[data-test=lr]', '0.001')
    await page().click('[data-test=start]')
    await page().waitForFunction(
      () => Number(document.querySelector('[data-test=curves]')?.getAttribute('data-epochs')) >= 2,
      undefined,
      { timeout: 180_000 }
    )
    // The button a person clicks stays the same element while epochs arrive (it is not re-created per event).
    await page().evaluate(() => ((document.querySelector('[data-test=cancel]') as HTMLElement).dataset['seen'] = '1'))
    await page().waitForFunction(
      () => Number(document.querySelector('[data-test=curves]')?.getAttribute('data-epochs')) >= 4,
      undefined,
      { timeout: 180_000 }
    )
    expect(await page().getAttribute('[data-test=cancel]', 'data-seen')).toBe('1')
    await page().click('[data-test=cancel]')
    await waitForRunStatus(page(), 'cancelled', 120_000)
    const epochs = Number(await page().getAttribute('[data-test=curves]', 'data-epochs'))
    expect(epochs, 'the cancel stopped the run before its 1000 epochs').toBeLessThan(1000)
    expect(await page().textContent('[data-test=last-val-label]')).toBe(`val accuracy · epoch ${epochs}`)
    expect(await page().textContent('[data-test=stage]')).toBe(`Cancelled after ${epochs} epochs`)
    expect(await page().getAttribute('[data-test=batch-progress]', 'aria-valuenow')).toBe(
      String(Math.round((100 * epochs) / 1000))
    )
    expect(await page().getAttribute('[data-test=curves]', 'data-x-max')).toBe(String(epochs))
    expect(await page().locator('[data-test=view-results]').count()).toBe(0)
    await page().locator('[data-test=training-live]').scrollIntoViewIfNeeded()
    if (SHOTS) await page().screenshot({ path: join(SHOTS, 'training-cancelled.png') })
  }, 400_000)

  it('the Training form comes back as the user left it after a reload, per project', async () => {
    await page().fill('[data-test=lr]', '0.0042')
    await page().reload()
    await expect.poll(() => page().textContent('h1'), { timeout: 60_000 }).toBe('birds') // the start-up folder
    await page().fill('[data-test=project-path]', fish)
    await page().click('[data-test=open]')
    await expect.poll(() => page().textContent('h1'), { timeout: 60_000 }).toBe('fish')
    await page().click('[data-test=nav-training]')
    await page().waitForSelector('[data-test=lr]', { timeout: 30_000 })
    expect(await page().inputValue('[data-test=lr]')).toBe('0.0042')
    expect(await page().inputValue('[data-test=epochs]')).toBe('1000')
  })

  it('a folder whose classes hold no image is refused with the reason; the open project stays, nothing is written', async () => {
    const empty = join(tmp.dir, 'not-yet')
    for (const c of ['a', 'b']) mkdirSync(join(empty, c), { recursive: true })
    writeFileSync(join(empty, 'a', 'readme.txt'), 'photos to come')
    await page().click('[data-test=nav-projects]')
    const before = await page().textContent('h1')
    await page().fill('[data-test=project-path]', empty)
    await page().click('[data-test=open]')
    await page().waitForSelector('[data-test=project-error]', { timeout: 60_000 })
    expect(await page().textContent('[data-test=project-error]')).toMatch(
      /^\s*Could not open \S*not-yet: class "a" has no readable images/
    )
    expect(await page().textContent('h1')).toBe(before)
    expect(existsSync(join(empty, '.tunelab'))).toBe(false)
  })
})
