// Results -> Export… in Chromium against the real serve mode: a run trained by the core beforehand is exported as
// TF.js + web page + ONNX; the dialog shows progress and the second-runtime check, and the files are there.
// A second export to the same folder is refused until "Replace" is ticked.
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { exportableProject } from '@test/helpers/exportFixtures'
import { CHROMIUM, HAS_CHROMIUM, appForBlock, SHOTS } from '@test/helpers/e2e'

describe.skipIf(!HAS_CHROMIUM)(`Export dialog in Chromium (needs ${CHROMIUM})`, () => {
  const e2e = appForBlock({
    prefix: 'tunelab-export-dialog-',
    name: 'pets',
    viewport: { width: 1280, height: 860 },
    prepare: async (project) => {
      await exportableProject(project, { classes: ['cat', 'dog'], size: 48, resizeMode: 'squash', seed: 2 })
    }
  })

  it('exports the run with progress and shows both checks', async () => {
    await e2e.page.click('[data-test=nav-results]')
    await e2e.page.click('[data-test=export-open]', { timeout: 60_000 })
    await e2e.page.waitForSelector('[data-test=export-dialog]')
    const out = join(e2e.dir, 'exported')
    await e2e.page.fill('[data-test=export-out]', out)
    await e2e.page.selectOption('[data-test=export-format]', 'all')
    await e2e.page.click('[data-test=export-start]')
    await e2e.page.waitForSelector('[data-test=export-progress]', { timeout: 30_000 })
    await e2e.page.waitForSelector('[data-test=export-result]', { timeout: 240_000 })
    for (const f of ['tfjs', 'onnx'])
      expect(await e2e.page.textContent(`[data-test=export-check-${f}]`)).toContain('passed')
    expect(await e2e.page.textContent('[data-test=export-check-onnx]')).toContain('onnxruntime-node')
    if (SHOTS) await e2e.page.screenshot({ path: join(SHOTS, 'export-dialog.png') })
    expect(readdirSync(out).sort()).toEqual([
      'README.md',
      'index.html',
      'model.json',
      'model.onnx',
      'page.js',
      'tf.min.js',
      'tunelab.json',
      'weights.bin'
    ])
  }, 300_000)

  it('refuses to overwrite the export until Replace is ticked', async () => {
    await e2e.page.click('[data-test=export-start]')
    await e2e.page.waitForSelector('[data-test=export-error]', { timeout: 60_000 })
    expect(await e2e.page.textContent('[data-test=export-error]')).toMatch(/already holds an export/)
    await e2e.page.check('[data-test=export-force]')
    await e2e.page.selectOption('[data-test=export-format]', 'onnx')
    await e2e.page.click('[data-test=export-start]')
    await e2e.page.waitForSelector('[data-test=export-check-onnx]', { timeout: 240_000 })
    expect(readdirSync(join(e2e.dir, 'exported')).sort()).toEqual(['README.md', 'model.onnx', 'tunelab.json'])
    await e2e.page.click('[data-test=export-close]')
    expect(await e2e.page.$('[data-test=export-dialog]')).toBeNull()
    expect(e2e.app.pageErrors).toEqual([])
  }, 300_000)
})
