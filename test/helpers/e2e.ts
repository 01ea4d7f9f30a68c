// What the Chromium end-to-end tests share: the browser, the app served by the real serve mode, a project opened
// in it, and the base-model choice (the shared Teachable Machine weights when present, else a random tiny base).
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, beforeAll } from 'vitest'
import type { RunningServer } from '@server/server'
import { startTestServer } from './serve'
import { ensureBuilt, RENDERER_DIR } from './rendererBuild'
import { SHARED_DATA } from './sharedData'
import { tempDir } from './synthetic'

export const CHROMIUM = '/usr/bin/chromium'
export const HAS_CHROMIUM = existsSync(CHROMIUM)
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run']
/** Where screenshots go (TUNELAB_SCREENSHOTS=docs/screenshots to keep them), null = none. */
export const SHOTS = process.env['TUNELAB_SCREENSHOTS'] ?? null
export const TM_WEIGHTS = join(SHARED_DATA, 'weights', 'tfjs_teachable_machine_mobilenetv2_0.35_dog')
/** Pretrained features make curves and screenshots worth looking at; without them a random base runs it all. */
export const PRETRAINED = existsSync(TM_WEIGHTS)

export interface AppInChromium {
  server: RunningServer
  browser: Browser
  page: Page
  /** Uncaught errors of the page so far. */
  pageErrors: string[]
  close(): Promise<void>
}

/**
 * Builds the renderer once, serves it over `stateDir`, opens it in Chromium and, if given, opens `project` (typed
 * into the Projects screen). `initialProject` is the folder serve mode was started with (`serve -- <folder>`).
 */
export async function openApp(
  stateDir: string,
  project?: string,
  viewport = { width: 1280, height: 1100 },
  initialProject?: string
): Promise<AppInChromium> {
  ensureBuilt()
  const server = await startTestServer(stateDir, RENDERER_DIR, initialProject)
  let browser: Browser | null = null
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS })
    const page = await browser.newPage({ viewport })
    const pageErrors: string[] = []
    page.on('pageerror', (e) => pageErrors.push(e.message))
    await page.goto(server.url)
    if (project) {
      await page.fill('[data-test=project-path]', project)
      await page.click('[data-test=open]')
      await page.waitForSelector('[data-test=class-table]', { timeout: 60_000 })
    }
    const opened = browser
    return {
      server,
      browser: opened,
      page,
      pageErrors,
      close: async () => {
        try {
          await opened.close()
        } finally {
          await server.close()
        }
      }
    }
  } catch (err) {
    // A failed start leaves no browser or server behind.
    await browser?.close().catch(() => undefined)
    await server.close().catch(() => undefined)
    throw err
  }
}

/** On the Training screen: MobileNetV2 0.35 @224 with the shared weights, else 0.35 @96 with random weights. */
export async function pickBase(page: Page): Promise<void> {
  await page.waitForSelector('[data-test=base]', { timeout: 30_000 })
  if (PRETRAINED) {
    await page.selectOption('[data-test=base]', 'mobilenet_v2_0.35_224')
    await page.selectOption('[data-test=weights]', 'file')
    await page.fill('[data-test=weights-path]', TM_WEIGHTS)
  } else {
    await page.selectOption('[data-test=base]', 'mobilenet_v2_0.35_96')
    await page.selectOption('[data-test=weights]', 'random')
  }
}

/** The app of one describe block (`app` and `page` once its beforeAll has run). */
export interface BlockApp {
  /** The temporary folder: the serve mode's state and the project live in it. */
  readonly dir: string
  readonly project: string
  readonly app: AppInChromium
  readonly page: Page
}

/**
 * Registers the block's setup and teardown: a temporary folder, `prepare` writes the project (`<dir>/<name>`),
 * then the app opens over the folder with the project open (unless `open` is false); closed and removed after.
 */
export function appForBlock(o: {
  prefix: string
  name?: string
  viewport: { width: number; height: number }
  open?: boolean
  prepare(project: string, dir: string): Promise<unknown> | void
}): BlockApp {
  // Made in beforeAll, so a block skipped by skipIf leaves no folder behind.
  let tmp: { dir: string; cleanup: () => void } | null = null
  let app: AppInChromium | null = null
  const ready = <T>(value: T | null): T => {
    if (value === null) throw new Error('the app opens in beforeAll')
    return value
  }
  const project = (): string => join(ready(tmp).dir, o.name ?? 'project')
  beforeAll(async () => {
    tmp = tempDir(o.prefix)
    await o.prepare(project(), tmp.dir)
    app = await openApp(tmp.dir, o.open === false ? undefined : project(), o.viewport)
  }, 300_000)
  afterAll(async () => {
    try {
      await app?.close()
    } finally {
      tmp?.cleanup()
    }
  })
  return {
    get dir() {
      return ready(tmp).dir
    },
    get project() {
      return project()
    },
    get app() {
      return ready(app)
    },
    get page() {
      return ready(app).page
    }
  }
}

/** Waits until the Training screen's run status reads `status`. */
export async function waitForRunStatus(page: Page, status: string, timeout = 300_000): Promise<void> {
  await page.waitForFunction(
    (s) => document.querySelector('[data-test=run-status]')?.textContent?.trim() === s,
    status,
    {
      timeout
    }
  )
}
