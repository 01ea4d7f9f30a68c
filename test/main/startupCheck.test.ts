// The start-up check with real modules: better-sqlite3 through a good and a broken binding, the oneDNN addon
// through a broken file, tfjs-node packages that are absent, broken or missing their native part; where the
// Electron main finds its SQLite build (development and packaged); the backend it expects and why not better.
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { checkSqlite, checkTfjsNode } from '@core/native/moduleChecks'
import { describeStartupReport, expectedBackend, runStartupCheck } from '@core/native/startupCheck'
import { chooseSqliteBinding, electronStartupCheck } from '@main/startup/electronStartup'
import { tempDir } from '../helpers/synthetic'

const NODE_BUILD = join(
  dirname(createRequire(import.meta.url).resolve('better-sqlite3/package.json')),
  'build/Release/better_sqlite3.node'
)
const tmp = tempDir('tunelab-startup-')
afterAll(() => tmp.cleanup())

function brokenFile(rel: string): string {
  const file = join(tmp.dir, rel)
  mkdirSync(dirname(file), { recursive: true })
  writeFileSync(file, 'this is not a shared library')
  return file
}

/** A package folder as npm leaves it, with whatever native part the test gives it. */
function fakeTfjsNode(root: string, pkg: string, binding: 'broken' | 'none'): void {
  const dir = join(root, 'node_modules', pkg)
  mkdirSync(join(dir, 'lib'), { recursive: true })
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: pkg, version: '4.22.0', main: 'dist/index.js' }))
  if (binding === 'broken') brokenFile(join(dir, 'lib', 'napi-v8', 'tfjs_binding.node').slice(tmp.dir.length + 1))
}

describe('start-up check: SQLite', () => {
  it('opens SQLite through the binding the store will use and says which', () => {
    const c = checkSqlite('electron', { path: NODE_BUILD, source: 'native/electron-115' }, '115')
    expect(c).toMatchObject({ module: 'better-sqlite3', status: 'ok', required: true, fix: null })
    expect(c.detail).toMatch(/^SQLite 3\.\d+\.\d+ via .*better_sqlite3\.node \(native\/electron-115\)$/)
  })

  it('names the module, the file, the loader reason and the fix for each kind of install', () => {
    const bad = brokenFile('app/native/electron-150/better_sqlite3.node')
    const dev = checkSqlite('electron', { path: bad, source: 'native/electron-150' }, '150')
    expect(dev).toMatchObject({
      module: 'better-sqlite3',
      status: 'failed',
      required: true,
      fix: 'npm run native:electron'
    })
    expect(dev.detail).toContain(`${bad} (native/electron-150) did not load: `)
    expect(dev.detail).toMatch(/invalid ELF header|file too short|not a valid|slice is not valid mach-o/i)
    expect(checkSqlite('electron-packaged', { path: bad, source: 'x' }, '150').fix).toMatch(
      /^reinstall TuneLab; if this message comes back, report it/
    )
    expect(checkSqlite('node', { path: bad, source: 'TUNELAB_SQLITE_BINDING' }, '115').fix).toBe(
      'npm rebuild better-sqlite3'
    )
  })

  it('blocks the app (ok: false) and logs each module, the backend and why not the better ones', async () => {
    const bad = brokenFile('bad/better_sqlite3.node')
    const env = { ...process.env, TUNELAB_DNNL_ADDON: brokenFile('dnnl/tunelab_dnnl.node') }
    const r = await runStartupCheck({
      kind: 'electron',
      sqlite: { path: bad, source: 'native/electron-150' },
      resolveFrom: join(tmp.dir, 'empty'),
      env
    })
    expect(r.ok).toBe(false)
    expect(r.runtime).toMatchObject({ kind: 'electron', abi: process.versions.modules, platform: process.platform })
    expect(r.checks.map((c) => [c.module, c.status])).toEqual([
      ['better-sqlite3', 'failed'],
      ['onednn', 'failed'],
      ['@tensorflow/tfjs-node-gpu', 'absent'],
      ['@tensorflow/tfjs-node', 'absent']
    ])
    const dnnl = r.checks[1]!
    expect(dnnl.detail).toMatch(/tunelab_dnnl\.node failed to load: /)
    expect(dnnl.fix).toBe(
      process.platform === 'linux'
        ? 'sudo apt-get install libdnnl-dev && npm run build:native'
        : 'install oneDNN, then npm run build:native'
    )
    expect(r.backend.expected).toMatch(/^wasm \(oneDNN: .*failed to load/)
    const log = describeStartupReport(r)
    expect(log[0]).toMatch(/^better-sqlite3: failed \(required\) — .* — fix: npm run native:electron$/)
    expect(log.at(-1)).toMatch(
      /^backend: wasm .*; not used: tensorflow-gpu \(@tensorflow\/tfjs-node-gpu: not installed \(optional\)\); tensorflow \(/
    )
  })
})

describe('start-up check: tfjs-node', () => {
  it('is absent when not installed, failed with the rebuild command when its binding is broken or missing', async () => {
    const root = join(tmp.dir, 'tfjs-app')
    expect(await checkTfjsNode('@tensorflow/tfjs-node', 'electron', root)).toMatchObject({
      status: 'absent',
      fix: null
    })
    fakeTfjsNode(root, '@tensorflow/tfjs-node', 'broken')
    fakeTfjsNode(root, '@tensorflow/tfjs-node-gpu', 'none')
    const cpu = await checkTfjsNode('@tensorflow/tfjs-node', 'electron', root)
    expect(cpu).toMatchObject({
      module: '@tensorflow/tfjs-node',
      status: 'failed',
      required: false,
      fix: 'npm rebuild @tensorflow/tfjs-node'
    })
    expect(cpu.detail).toMatch(/napi-v8[/\\]tfjs_binding\.node did not load: .+/)
    const gpu = await checkTfjsNode('@tensorflow/tfjs-node-gpu', 'node', root)
    expect(gpu).toMatchObject({ status: 'failed', fix: 'npm rebuild @tensorflow/tfjs-node-gpu' })
    expect(gpu.detail).toMatch(/native part .* is missing: libtensorflow was not downloaded at install/)
    expect((await checkTfjsNode('@tensorflow/tfjs-node', 'electron-packaged', root)).fix).toBeNull()
  })

  it('expects the best backend that loads', () => {
    const ok = { role: '', required: false, fix: null, detail: 'x' } as const
    expect(expectedBackend([{ ...ok, module: '@tensorflow/tfjs-node', status: 'ok' }]).expected).toBe('tensorflow')
    expect(expectedBackend([{ ...ok, module: '@tensorflow/tfjs-node-gpu', status: 'ok' }]).expected).toMatch(
      /^tensorflow-gpu/
    )
    expect(expectedBackend([{ ...ok, module: 'onednn', status: 'ok' }])).toEqual({
      expected: 'wasm + oneDNN convolutions',
      skipped: [
        { name: 'tensorflow-gpu', reason: '@tensorflow/tfjs-node-gpu: not checked' },
        { name: 'tensorflow', reason: '@tensorflow/tfjs-node: not checked' }
      ]
    })
  })
})

describe('Electron main: which better-sqlite3 build', () => {
  it('takes native/electron-<abi>/ of the app in development, resources/native/… when packaged, and yours when set', () => {
    const app = join(tmp.dir, 'choose', 'app')
    const resources = join(tmp.dir, 'choose', 'resources')
    const env: NodeJS.ProcessEnv = {}
    const none = chooseSqliteBinding({ appPath: app, resourcesPath: resources, packaged: true, abi: '150' }, env)
    expect(none.path).toBeNull()
    expect(none.looked).toEqual([
      join(resources, 'native/electron-150/better_sqlite3.node'),
      join(app, 'native/electron-150/better_sqlite3.node')
    ])
    expect(env['TUNELAB_SQLITE_BINDING']).toBeUndefined()

    mkdirSync(join(resources, 'native/electron-150'), { recursive: true })
    copyFileSync(NODE_BUILD, join(resources, 'native/electron-150/better_sqlite3.node'))
    const packaged = chooseSqliteBinding({ appPath: app, resourcesPath: resources, packaged: true, abi: '150' }, env)
    expect(packaged).toEqual({
      path: join(resources, 'native/electron-150/better_sqlite3.node'),
      source: 'native/electron-150'
    })
    expect(env['TUNELAB_SQLITE_BINDING']).toBe(packaged.path) // the store and the worker threads read it

    // In development resources/ is Electron's own folder: only the app's native/ counts.
    const dev = chooseSqliteBinding({ appPath: app, resourcesPath: resources, packaged: false, abi: '150' }, {})
    expect(dev.path).toBeNull()
    expect(
      chooseSqliteBinding(
        { appPath: app, resourcesPath: resources, packaged: false, abi: '150' },
        { TUNELAB_SQLITE_BINDING: '/mine.node' }
      )
    ).toEqual({ path: '/mine.node', source: 'TUNELAB_SQLITE_BINDING set by you' })
  })

  it('runs the check with that build and logs every line', async () => {
    const app = join(tmp.dir, 'logged', 'app')
    brokenFile('logged/app/native/electron-150/better_sqlite3.node')
    const lines: string[] = []
    const r = await electronStartupCheck(
      { appPath: app, resourcesPath: undefined, packaged: false, abi: '150' },
      (l) => lines.push(l),
      {}
    )
    expect(r.ok).toBe(false)
    expect(r.checks[0]).toMatchObject({ status: 'failed', fix: 'npm run native:electron' })
    expect(lines[0]).toMatch(
      /^tunelab: start-up check: better-sqlite3: failed \(required\) — .*native[/\\]electron-150[/\\]better_sqlite3\.node \(native\/electron-150\) did not load/
    )
    expect(lines.at(-1)).toMatch(/^tunelab: start-up check: backend: /)
  })
})
