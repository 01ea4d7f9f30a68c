// The Electron app itself through Playwright's _electron, where an Electron binary exists (not on this CI box:
// the binary cannot be downloaded here). It checks the hardened window and the preload's api.
import { describe, expect, it } from 'vitest'
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, resolve } from 'node:path'

// What require('electron') would return, read without requiring it: its index.js starts a download when the
// binary is missing, which must not happen in a test.
function electronBinary(): string | null {
  try {
    const dir = dirname(createRequire(import.meta.url).resolve('electron/package.json'))
    const override = process.env['ELECTRON_OVERRIDE_DIST_PATH']
    const pathFile = join(dir, 'path.txt')
    if (!override && !existsSync(pathFile)) return null
    const exe = override ? join(override, 'electron') : join(dir, 'dist', readFileSync(pathFile, 'utf8').trim())
    return existsSync(exe) ? exe : null
  } catch {
    return null
  }
}

const binary = electronBinary()
const built = existsSync(resolve('out/main/index.js')) && existsSync(resolve('out/preload/index.cjs'))

describe.skipIf(!binary || !built)(
  `Electron app (skipped: ${!binary ? "no Electron binary (require('electron') gives no existing path; it cannot be downloaded here)" : 'run `npm run build` first'})`,
  () => {
    it('opens a sandboxed, context-isolated window whose page sees window.api and no Node', async () => {
      const { _electron } = await import('playwright-core')
      const app = await _electron.launch({ executablePath: binary ?? '', args: [resolve('.')] })
      try {
        const win = await app.firstWindow()
        await win.waitForLoadState('domcontentloaded')
        const seen = await win.evaluate(() => ({
          api: typeof (window as unknown as { api?: unknown }).api,
          require: typeof (window as unknown as { require?: unknown }).require,
          process: typeof (window as unknown as { process?: unknown }).process,
          domains: Object.keys((window as unknown as { api?: object }).api ?? {}).sort()
        }))
        expect(seen).toEqual({
          api: 'object',
          require: 'undefined',
          process: 'undefined',
          domains: ['app', 'dataset', 'models', 'predict', 'project', 'results', 'runs', 'training']
        })
        const info = await win.evaluate(async () =>
          (window as unknown as { api: { app: { info(): Promise<unknown> } } }).api.app.info()
        )
        expect(info).toMatchObject({ ok: true, result: { transport: 'electron', canPickFolder: true } })
        const nav = await win.evaluate(() => {
          window.location.href = 'https://example.com/'
          return window.location.href
        })
        expect(nav).not.toContain('example.com')
      } finally {
        await app.close()
      }
    }, 120_000)
  }
)
