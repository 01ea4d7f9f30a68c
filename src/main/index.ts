// Electron main: one hardened window, the tunelab:// image protocol, IPC through the typed wrapper,
// training in worker threads (never on this thread). Everything else lives in services/ and core/.
import { app, BrowserWindow, dialog, protocol, session, shell, type WebContents } from 'electron'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { IMAGE_SCHEME, parseImagePath, parseImageSize } from '@shared/contract'
import { dispatch } from './handlers'
import { registerAll, sendEvent, trustedSender } from './ipc'
import { httpStatusOf, projectImage } from './services/imageService'
import { createSession } from './services/session'
import { electronStartupCheck } from './startup/electronStartup'
import trainingWorkerPath from './workers/training?modulePath'

const here = fileURLToPath(new URL('.', import.meta.url))
const DEV_URL = process.env['ELECTRON_RENDERER_URL'] ?? null
const RENDERER_FILE = join(here, '../renderer/index.html')

/** Same policy as the meta tag in src/renderer/index.html, sent as a header too (it also covers the dev server). */
const CSP =
  "default-src 'self'; img-src 'self' tunelab: data: blob:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'"

// Chooses Electron's better-sqlite3 build (sets TUNELAB_SQLITE_BINDING at once) and checks every native module; the
// renderer asks for the report (app.startupCheck) before it shows any screen, and shows it instead when SQLite fails.
const startup = electronStartupCheck({
  appPath: app.getAppPath(),
  resourcesPath: process.resourcesPath,
  packaged: app.isPackaged,
  abi: process.versions.modules
})

protocol.registerSchemesAsPrivileged([
  { scheme: IMAGE_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }
])

let mainWindow: BrowserWindow | null = null
const contents = (): WebContents | null => mainWindow?.webContents ?? null

const ctx = createSession({
  transport: 'electron',
  userDataDir: app.getPath('userData'),
  workerPath: trainingWorkerPath,
  version: app.getVersion(),
  electronVersion: process.versions.electron ?? null,
  startupCheck: () => startup,
  broadcast: (event, payload) => sendEvent(contents(), event, payload),
  pickFolder: async () => {
    const opts = { title: 'Open a project folder', properties: ['openDirectory' as const] }
    const res = mainWindow ? await dialog.showOpenDialog(mainWindow, opts) : await dialog.showOpenDialog(opts)
    return res.canceled ? null : (res.filePaths[0] ?? null)
  }
})

function allowedOrigins(): string[] {
  return DEV_URL ? [new URL(DEV_URL).origin + '/'] : ['file://']
}

function isOurPage(url: string): boolean {
  return allowedOrigins().some((o) => url.startsWith(o))
}

function harden(): void {
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false))
  session.defaultSession.setPermissionCheckHandler(() => false)
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CSP] } })
  })
  app.on('web-contents-created', (_e, wc) => {
    wc.on('will-navigate', (event, url) => {
      if (!isOurPage(url)) event.preventDefault()
    })
    wc.on('will-attach-webview', (event) => event.preventDefault())
    wc.setWindowOpenHandler(({ url }) => {
      // Links to the web open in the user's browser; nothing opens inside the app.
      if (url.startsWith('https://')) void shell.openExternal(url)
      return { action: 'deny' }
    })
  })
}

function registerImageProtocol(): void {
  protocol.handle(IMAGE_SCHEME, async (request) => {
    const url = new URL(request.url)
    const parsed = url.hostname === 'image' ? parseImagePath(url.pathname.replace(/^\//, '')) : null
    const size = parseImageSize(url.searchParams.get('size'))
    if (!parsed || !size) return new Response('bad image address', { status: 400 })
    try {
      const img = await projectImage(ctx.projects, parsed.projectKey, parsed.imageId, size)
      return new Response(new Uint8Array(img.body), {
        status: 200,
        headers: { 'Content-Type': img.contentType, 'Cache-Control': 'no-store' }
      })
    } catch (err) {
      return new Response((err as Error).message, { status: httpStatusOf(err) })
    }
  })
}

function createWindow(): void {
  mainWindow = new BrowserWindow({
    width: 1280,
    height: 800,
    show: false,
    icon: join(here, '../../resources/icon.png'),
    webPreferences: {
      preload: join(here, '../preload/index.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false
    }
  })
  mainWindow.once('ready-to-show', () => mainWindow?.show())
  mainWindow.on('closed', () => {
    mainWindow = null
  })
  if (DEV_URL) void mainWindow.loadURL(DEV_URL)
  else void mainWindow.loadFile(RENDERER_FILE)
}

void app.whenReady().then(() => {
  harden()
  registerImageProtocol()
  registerAll((channel, request) => dispatch(channel, request, ctx), trustedSender(contents, allowedOrigins()))
  createWindow()
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow()
  })
})

app.on('window-all-closed', () => {
  void Promise.all([
    ctx.runner.shutdown(),
    ctx.audits.shutdown(),
    ctx.lrFinder.shutdown(),
    ctx.exports.shutdown()
  ]).finally(() => {
    ctx.projects.closeAll()
    app.quit()
  })
})
