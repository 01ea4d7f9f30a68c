// End-to-end: Debian's Chromium (playwright-core) against the real serve mode with the built renderer and the real core.
// The screens engineer extends the journey; this covers loading with the token, 401 without, and images by id.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { makeProject, tempDir } from '../helpers/synthetic'
import type { RunningServer } from '@server/server'
import { startTestServer, wsApi } from '@test/helpers/serve'
import { ensureBuilt, RENDERER_DIR } from '@test/helpers/rendererBuild'

export const CHROMIUM = '/usr/bin/chromium'
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run'
]
/** Where screenshots go (TUNELAB_SCREENSHOTS=docs/screenshots to keep them). */
const SHOTS = process.env['TUNELAB_SCREENSHOTS'] ?? null

describe.skipIf(!existsSync(CHROMIUM))(
  `serve mode in Chromium (needs ${CHROMIUM}: apt-get install -y chromium)`,
  () => {
    const tmp = tempDir('tunelab-e2e-')
    let server: RunningServer
    let browser: Browser
    let page: Page
    const cspViolations: string[] = []
    const pageErrors: string[] = []

    beforeAll(async () => {
      ensureBuilt() // the page under test is the real renderer build, rebuilt when a source is newer
      await makeProject(join(tmp.dir, 'project'), { classes: ['cat', 'dog'], perClass: 6, size: 40 })
      server = await startTestServer(tmp.dir, RENDERER_DIR)
      browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS })
      page = await browser.newPage({ viewport: { width: 1280, height: 800 } })
      page.on('console', (m) => {
        if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text())
      })
      page.on('pageerror', (e) => pageErrors.push(e.message))
    }, 120_000)

    afterAll(async () => {
      await browser?.close()
      await server?.close()
      tmp.cleanup()
    })

    it('answers 401 to the page without the token or with a wrong one', async () => {
      const bare = await page.goto(`http://127.0.0.1:${server.port}/`)
      expect(bare?.status()).toBe(401)
      const wrong = await page.goto(`http://127.0.0.1:${server.port}/?token=not-the-token`)
      expect(wrong?.status()).toBe(401)
    })

    it('loads the app with the token, talks to the backend over the WebSocket, no CSP violation', async () => {
      const sockets: string[] = []
      page.on('websocket', (ws) => sockets.push(ws.url()))
      const res = await page.goto(server.url)
      expect(res?.status()).toBe(200)
      await page.waitForFunction(() => (document.querySelector('#app')?.children.length ?? 0) > 0, undefined, {
        timeout: 20_000
      })
      await page.waitForTimeout(500)
      expect(sockets.some((u) => u.includes('/api?token='))).toBe(true)
      expect(cspViolations).toEqual([])
      expect(pageErrors).toEqual([])
      if (SHOTS) {
        mkdirSync(SHOTS, { recursive: true })
        await page.screenshot({ path: join(SHOTS, 'serve-start.png') })
      }
    })

    it('shows project images by id through the token-guarded route, 401 without the token', async () => {
      const { api, close } = wsApi(server)
      try {
        const project = await api.project.open({ path: join(tmp.dir, 'project') })
        await api.project.scan({ projectKey: project.projectKey })
        const first = (await api.dataset.images({ projectKey: project.projectKey, limit: 1 })).images[0]
        if (!first) throw new Error('no image')
        const path = api.imageUrl(project.projectKey, first.imageId, 'thumb')
        const ok = await page.evaluate(async (src) => {
          const img = new Image()
          img.src = src
          await img.decode()
          return { w: img.naturalWidth, h: img.naturalHeight }
        }, path)
        expect(ok).toEqual({ w: 40, h: 40 })
        const bare = await page.evaluate(
          async (src) => (await fetch(src, { credentials: 'omit' })).status,
          path.replace(/&token=[^&]*/, '')
        )
        expect(bare).toBe(401)
      } finally {
        close()
      }
    })
  }
)
