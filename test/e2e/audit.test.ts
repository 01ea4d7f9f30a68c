// The label audit in Debian's Chromium against the real serve mode and core: a project of real cat and dog photos
// with two cats filed as dogs; open the Audit screen, run the audit (worker, progress), accept one suggestion and
// see it stored as a label override. Screenshots go to docs/screenshots with TUNELAB_SCREENSHOTS=docs/screenshots.
import { describe, expect, it } from 'vitest'
import { spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { CHROMIUM, HAS_CHROMIUM, appForBlock, SHOTS, TM_WEIGHTS as TM_V2 } from '@test/helpers/e2e'
import { SHARED_DATA } from '@test/helpers/sharedData'
import { projectKeyOf } from '@main/services/projects'
import { dispatch } from '@main/handlers'

const CATS_DOGS = join(SHARED_DATA, 'cats_and_dogs_filtered', 'validation')
const MISFILED = ['cat.2000.jpg', 'cat.2001.jpg']

describe.skipIf(!HAS_CHROMIUM || !existsSync(CATS_DOGS) || !existsSync(TM_V2))(
  `label audit in Chromium (needs ${CHROMIUM} and /work/shared/data)`,
  () => {
    const e2e = appForBlock({
      prefix: 'tunelab-e2e-audit-',
      name: 'pets',
      viewport: { width: 1280, height: 900 },
      prepare: async (project) => {
        for (const c of ['cats', 'dogs']) mkdirSync(join(project, c), { recursive: true })
        for (const c of ['cats', 'dogs']) {
          const files = readdirSync(join(CATS_DOGS, c)).sort().slice(0, 24)
          // Two cats filed under dogs: the audit should suggest moving them back.
          for (const f of files)
            copyFileSync(join(CATS_DOGS, c, f), join(project, MISFILED.includes(f) ? 'dogs' : c, f))
        }
        // Every image in train or validation, so each takes part in the folds (a test split is not audited).
        const split = spawnSync(
          process.execPath,
          ['--import', 'tsx', 'src/cli/index.ts', 'split', project, '--ratios', '0.8,0.2,0'],
          { encoding: 'utf8' }
        )
        expect(split.status, split.stderr).toBe(0)
      }
    })
    let found: string | null = null

    it('runs the audit from the Audit screen with progress and lists the misfiled cats as label issues', async () => {
      await e2e.page.click('[data-test=nav-audit]')
      await e2e.page.fill('[data-test=audit-base]', 'mobilenet_v2_0.35_224')
      await e2e.page.selectOption('[data-test=audit-weights]', 'file')
      await e2e.page.fill('[data-test=audit-weights-path]', TM_V2)
      await e2e.page.click('[data-test=audit-start]')
      await e2e.page.waitForSelector('[data-test=audit-progress]', { timeout: 30_000 })
      await e2e.page.waitForSelector('[data-test=audit-summary]', { timeout: 600_000 })
      await e2e.page.waitForSelector('[data-test=finding-label]', { timeout: 30_000 })
      const text = await e2e.page.textContent('[data-test=audit-label]')
      // 48 photos, 5 folds: at least one of the two misfiled cats must be caught (both usually are).
      found = MISFILED.find((f) => text?.includes(f)) ?? null
      expect(found).not.toBeNull()
      if (SHOTS) await e2e.page.screenshot({ path: join(SHOTS, 'audit.png'), fullPage: true })
    }, 900_000)

    it('accepts one suggestion: the image is relabelled (stored override) and leaves the list', async () => {
      const card = e2e.page.locator('[data-test=finding-label]', { hasText: found as string })
      expect(await card.locator('[data-test=accept]').textContent()).toContain('Move to cats')
      await card.locator('[data-test=accept]').click()
      await e2e.page.waitForFunction(
        (name) =>
          ![...document.querySelectorAll('[data-test=finding-label]')].some((e) => e.textContent?.includes(name)),
        found as string,
        { timeout: 30_000 }
      )
      const env = await dispatch('labels.list', { projectKey: projectKeyOf(e2e.project) }, e2e.app.server.ctx)
      const labels = env.ok
        ? (env.result as { overrides: { relPath: string; newClass: string | null; excluded: boolean }[] }).overrides
        : []
      expect(labels).toContainEqual(
        expect.objectContaining({ relPath: `dogs/${found}`, newClass: 'cats', excluded: false })
      )
      expect(e2e.app.pageErrors).toEqual([])
    }, 120_000)
  }
)
