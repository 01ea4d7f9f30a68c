// What the Electron window shows when the start-up check fails, rendered by the real renderer build in Debian's
// Chromium: the session runs the Electron main's own check (electronStartupCheck) on an app folder whose
// native/electron-150/better_sqlite3.node is broken, served over serve mode's transport. Then the same with a good
// binding: the app itself, with the note that convolutions run in WebAssembly.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { startServer, type RunningServer } from '@server/server'
import { electronStartupCheck } from '@main/startup/electronStartup'
import { ensureBuilt, RENDERER_DIR } from '@test/helpers/rendererBuild'
import { tempDir } from '../helpers/synthetic'
import { WORKER_PATH } from '@test/helpers/serve'

const CHROMIUM = '/usr/bin/chromium'
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run'
]
const NODE_BUILD = join(
  dirname(createRequire(import.meta.url).resolve('better-sqlite3/package.json')),
  'build/Release/better_sqlite3.node'
)
/** Where screenshots go (TUNELAB_SCREENSHOTS=docs/screenshots to keep them). */
const SHOTS = process.env['TUNELAB_SCREENSHOTS'] ?? null

describe.skipIf(!existsSync(CHROMIUM))(
  `start-up check in Chromium (needs ${CHROMIUM}: apt-get install -y chromium)`,
  () => {
    const tmp = tempDir('tunelab-startup-e2e-')
    const servers: RunningServer[] = []
    let browser: Browser
    let page: Page
    const pageErrors: string[] = []

    /** A session whose start-up check is the Electron main's, on an app folder holding `binding` as Electron's build. */
    async function serveApp(name: string, binding: Buffer): Promise<RunningServer> {
      const app = join(tmp.dir, name)
      mkdirSync(join(app, 'native', 'electron-150'), { recursive: true })
      writeFileSync(join(app, 'native', 'electron-150', 'better_sqlite3.node'), binding)
      const env = { TUNELAB_NATIVE: '0' } // oneDNN off: the app must say convolutions run in WebAssembly
      const check = electronStartupCheck(
        { appPath: app, resourcesPath: undefined, packaged: false, abi: '150' },
        () => {},
        env
      )
      const server = await startServer({
        rendererDir: RENDERER_DIR,
        workerPath: WORKER_PATH,
        userDataDir: join(app, 'userData'),
        startupCheck: () => check
      })
      servers.push(server)
      return server
    }

    beforeAll(async () => {
      ensureBuilt()
      browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS })
      page = await browser.newPage({ viewport: { width: 1100, height: 760 } })
      page.on('pageerror', (e) => pageErrors.push(e.message))
    }, 300_000)

    afterAll(async () => {
      await browser?.close()
      for (const s of servers) await s.close()
      tmp.cleanup()
    })

    it('shows which module failed, why and the one command that fixes it, instead of the app', async () => {
      const server = await serveApp('broken', Buffer.from('not a shared library'))
      await page.goto(server.url)
      await page.waitForSelector('[data-test=startup-check]', { timeout: 30_000 })
      expect(await page.textContent('h1')).toBe('TuneLab cannot open projects')
      const failed = page.locator('[data-test=startup-failed-better-sqlite3]')
      expect(await failed.locator('h2').textContent()).toContain('better-sqlite3 — SQLite (every project database)')
      expect(await failed.locator('[data-test=startup-why]').textContent()).toMatch(
        /native\/electron-150\/better_sqlite3\.node \(native\/electron-150\) did not load: .*(invalid ELF header|file too short)/
      )
      expect(await failed.locator('[data-test=startup-fix]').textContent()).toBe('npm run native:electron')
      const report = await page.textContent('[data-test=startup-report-text]')
      expect(report).toMatch(/^TuneLab start-up check \(electron, ABI \d+, /)
      expect(report).toContain('onednn: absent: turned off (TUNELAB_NATIVE=0)')
      expect(report).toContain('backend: wasm (oneDNN: turned off (TUNELAB_NATIVE=0))')
      // Nothing of the app is there to open a project with.
      expect(await page.locator('[data-test=nav-projects]').count()).toBe(0)
      expect(pageErrors).toEqual([])
      if (SHOTS) {
        mkdirSync(SHOTS, { recursive: true })
        await page.screenshot({ path: join(SHOTS, 'startup-check.png'), fullPage: true })
      }
    })

    it('with a binding that loads, shows the app and says that convolutions run in WebAssembly', async () => {
      const server = await serveApp('good', readFileSync(NODE_BUILD))
      await page.goto(server.url)
      await page.waitForSelector('[data-test=nav-projects]', { timeout: 30_000 })
      expect(await page.locator('[data-test=startup-check]').count()).toBe(0)
      expect(await page.textContent('[data-test=startup-note-onednn]')).toContain(
        'Convolutions run in WebAssembly: oneDNN turned off (TUNELAB_NATIVE=0)'
      )
      expect(pageErrors).toEqual([])
      if (SHOTS) await page.screenshot({ path: join(SHOTS, 'startup-note.png') })
    })
  }
)
