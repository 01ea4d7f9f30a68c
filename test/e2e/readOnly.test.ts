// A read-only project in Chromium against the real serve mode: the banner says so and why, and the history
// (its runs) is listed. TUNELAB_SCREENSHOTS=docs/screenshots keeps docs/screenshots/readonly-banner.png.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chmodSync, existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { chromium, type Browser } from 'playwright-core'
import { openProjectState } from '@core/store/projectState'
import { scanProject } from '@core/project/scan'
import type { RunningServer } from '@server/server'
import { makeProject, tempDir } from '../helpers/synthetic'
import { startTestServer } from '@test/helpers/serve'
import { ensureBuilt, RENDERER_DIR } from '@test/helpers/rendererBuild'
import { SHOTS } from '@test/helpers/e2e'

const CHROMIUM = '/usr/bin/chromium'
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run']

describe.skipIf(!existsSync(CHROMIUM))('read-only project in the app (Chromium)', () => {
  const tmp = tempDir('tunelab-readonly-ui-')
  const project = join(tmp.dir, 'pets')
  let server: RunningServer
  let browser: Browser

  beforeAll(async () => {
    ensureBuilt()
    await makeProject(project, { classes: ['cat', 'dog'], perClass: 4, size: 32 })
    const state = openProjectState(project)
    state.store.saveScan(state.store.upsertProject(project, 'flat'), await scanProject(project))
    // Two runs of history, with epochs (as a real run stores them).
    const config = { baseId: 'mobilenet_v2_0.35_96', epochs: 3, lr: 0.0001, batchSize: 8, optimizer: 'adam' }
    for (const [status, epochs] of [
      ['completed', 3],
      ['cancelled', 2]
    ] as const) {
      const id = state.store.createRun({
        projectId: state.project.id,
        config,
        classes: ['cat', 'dog'],
        baseId: config.baseId
      }).id
      for (let e = 1; e <= epochs; e++)
        state.store.appendEpoch(id, {
          phase: 1,
          epoch: e,
          loss: 0.7 / e,
          accuracy: 0.6 + 0.1 * e,
          valLoss: 0.8 / e,
          valAccuracy: 0.55 + 0.1 * e
        })
      state.store.finishRun(id, status, {})
    }
    state.store.close()
    chmodSync(project, 0o555)
    server = await startTestServer(tmp.dir, RENDERER_DIR)
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS })
  }, 300_000)

  afterAll(async () => {
    await browser?.close()
    await server?.close()
    chmodSync(project, 0o755)
    tmp.cleanup()
  })

  it('shows the read-only banner with the reason and the runs', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 720 } })
    await page.goto(server.url)
    await page.fill('[data-test=project-path]', project)
    await page.click('[data-test=open]')
    await page.waitForSelector('[data-test=readonly-banner]', { timeout: 30_000 })
    expect(await page.textContent('[data-test=readonly-banner]')).toMatch(
      /Read-only project\.[\s\S]*pets is read-only \(mode 555\)/
    )
    await page.click('[data-test=nav-runs]')
    await page.waitForFunction(
      () => /completed[\s\S]*|cancelled/.test(document.querySelector('.content')?.textContent ?? ''),
      undefined,
      { timeout: 30_000 }
    )
    const text = (await page.textContent('.content')) ?? ''
    expect(text).toMatch(/completed/)
    expect(text).toMatch(/cancelled/)
    if (SHOTS) {
      mkdirSync(SHOTS, { recursive: true })
      await page.screenshot({ path: join(SHOTS, 'readonly-banner.png') })
    }
  })
})
