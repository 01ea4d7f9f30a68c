// The installer's file list (electron-builder.js) against what the built app opens at run time. electron-builder
// really packs the app (Linux "dir" target) with a stand-in Electron folder (the real one cannot be downloaded here)
// and a stand-in SQLite binding; then every path the packed main process, its worker threads and the preload open
// must exist inside the package, every package they import must resolve inside it, and the lookups our own code does
// in a packaged app (Electron's SQLite build, the oneDNN addon, the wasm binaries) must find their files.
import { builtinModules, createRequire } from 'node:module'
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import Database from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { addonCandidates } from '@core/native/dnnl'
import { chooseSqliteBinding } from '@main/startup/electronStartup'
import { ensureBuilt } from '@test/helpers/rendererBuild'
import { tempDir } from '../helpers/synthetic'

const ROOT = resolve('.')
const ABI = readFileSync(join(ROOT, 'node_modules/electron/abi_version'), 'utf8').trim()
const NODE_BUILD = join(
  dirname(createRequire(import.meta.url).resolve('better-sqlite3/package.json')),
  'build/Release/better_sqlite3.node'
)
const DNNL_BUILT = existsSync(join(ROOT, 'native/dnnl/build/Release/tunelab_dnnl.node'))
/** Files the bundles name only for source runs (tsx, vitest): chosen when the built .js next to them is missing. */
const SOURCE_RUN_ONLY = /\.ts$|\/workerBoot\.mjs$/

interface BuilderConfig {
  files: string[]
  extraResources: { from: string; to: string; filter?: string[] }[]
  directories: Record<string, string>
  [key: string]: unknown
}

function walk(dir: string, ext: RegExp): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name), ext) : ext.test(e.name) ? [join(dir, e.name)] : []
  )
}

/** Relative files a bundle opens: new URL('./x', import.meta.url), join(import.meta.dirname, './x'), join(here, '../x'). */
function relativeRefs(code: string): string[] {
  return [...code.matchAll(/"(\.{1,2}\/[\w./-]+\.(?:js|cjs|mjs|html|png|wasm|node))"/g)].map((m) => m[1]!)
}

/** Bare specifiers a bundle imports or requires (not node: builtins). */
function bareImports(code: string): string[] {
  const specs = [...code.matchAll(/(?:from\s*|import\(\s*|require\(\s*)"([^"./][^"]*)"/g)].map((m) => m[1]!)
  return [...new Set(specs)].filter((s) => !s.startsWith('node:') && !builtinModules.includes(s))
}

/** The few electron-builder calls used here; imported by a variable name so a checkout without it still type-checks. */
interface ElectronBuilder {
  build(o: { projectDir: string; config: string; targets: unknown; publish: 'never' }): Promise<unknown>
  Platform: { LINUX: { createTarget(type: string, arch: unknown): unknown } }
  Arch: { x64: unknown }
}
const BUILDER = 'electron-builder'
const hasBuilder = existsSync(join(ROOT, 'node_modules', BUILDER, 'package.json'))

describe.skipIf(process.platform !== 'linux' || !hasBuilder)(
  `installer file list (electron-builder, Linux dir target${hasBuilder ? '' : '; skipped: electron-builder is not installed, run npm install'})`,
  () => {
    const tmp = tempDir('tunelab-pkg-')
    let app = ''
    let resources = ''
    let config: BuilderConfig

    beforeAll(async () => {
      ensureBuilt() // out/, as npm run dist builds it
      const mod = (await import(pathToFileURL(join(ROOT, 'electron-builder.js')).href)) as {
        default: BuilderConfig
        SQLITE_DIR: string
      }
      config = mod.default
      // Stand-ins for what cannot be downloaded here: Electron's folder, and better-sqlite3 for Electron's ABI.
      const electronDist = join(tmp.dir, 'electron')
      mkdirSync(electronDist, { recursive: true })
      writeFileSync(join(electronDist, 'electron'), '#!/bin/sh\n')
      chmodSync(join(electronDist, 'electron'), 0o755)
      const standIn = join(tmp.dir, 'sqlite-electron')
      mkdirSync(standIn)
      copyFileSync(NODE_BUILD, join(standIn, 'better_sqlite3.node'))
      // The config under test, with only the SQLite binding's folder changed to the stand-in.
      const testConfig: BuilderConfig = {
        ...config,
        directories: { ...config.directories, output: join(tmp.dir, 'dist') },
        electronDist,
        extraResources: config.extraResources.map((r) => (r.from === mod.SQLITE_DIR ? { ...r, from: standIn } : r))
      }
      const configFile = join(tmp.dir, 'electron-builder.json')
      writeFileSync(configFile, JSON.stringify(testConfig))
      const { build, Platform, Arch } = (await import(/* @vite-ignore */ BUILDER)) as ElectronBuilder
      await build({
        projectDir: ROOT,
        config: configFile,
        targets: Platform.LINUX.createTarget('dir', Arch.x64),
        publish: 'never'
      })
      resources = join(tmp.dir, 'dist', 'linux-unpacked', 'resources')
      app = join(resources, 'app')
    }, 600_000)

    afterAll(() => {
      tmp.cleanup()
    })

    it('packs the main process, its workers, the preload, the renderer and the icon', () => {
      const main = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8')) as { main: string }
      const opened = new Set<string>([join(app, main.main)])
      for (const file of walk(join(app, 'out', 'main'), /\.js$/).concat(walk(join(app, 'out', 'preload'), /\.cjs$/))) {
        for (const ref of relativeRefs(readFileSync(file, 'utf8'))) {
          if (!SOURCE_RUN_ONLY.test(ref)) opened.add(resolve(dirname(file), ref))
        }
      }
      const names = [...opened].map((f) => relative(app, f)).sort()
      // What the bundles open (new files show up here and must be in the package too).
      expect(names).toEqual(
        expect.arrayContaining([
          'out/main/index.js',
          'out/main/forwardWorker.js',
          'out/main/decodeWorker.js',
          'out/preload/index.cjs',
          'out/renderer/index.html',
          'resources/icon.png'
        ])
      )
      expect(names.some((n) => /^out\/main\/training-[\w-]+\.js$/.test(n))).toBe(true)
      for (const f of opened)
        expect(existsSync(f), `${relative(app, f)} is opened at run time but not in the package`).toBe(true)
      // The renderer's own scripts and styles.
      const html = readFileSync(join(app, 'out/renderer/index.html'), 'utf8')
      const assets = [...html.matchAll(/(?:src|href)="\.?\/?(assets\/[^"]+)"/g)].map((m) => m[1]!)
      expect(assets.length).toBeGreaterThan(0)
      for (const a of assets) expect(existsSync(join(app, 'out/renderer', a)), a).toBe(true)
    })

    it('packs every package the main process and its workers import, resolvable from the packed bundle', () => {
      const files = walk(join(app, 'out', 'main'), /\.js$/).concat(walk(join(app, 'out', 'preload'), /\.cjs$/))
      const specs = new Set(files.flatMap((f) => bareImports(readFileSync(f, 'utf8'))))
      specs.delete('electron') // Electron's own module
      expect([...specs]).toEqual(
        expect.arrayContaining(['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm', 'better-sqlite3', 'sharp', 'zod'])
      )
      const from = createRequire(join(app, 'out', 'main', 'index.js'))
      for (const spec of specs) {
        const where = from.resolve(spec)
        expect(where.startsWith(join(app, 'node_modules')), `${spec} resolved to ${where}`).toBe(true)
      }
    })

    it("finds Electron's SQLite build where the main process looks, and SQLite opens through the packed better-sqlite3", () => {
      const choice = chooseSqliteBinding({ appPath: app, resourcesPath: resources, packaged: true, abi: ABI }, {})
      expect(choice.path).toBe(join(resources, `native/electron-${ABI}/better_sqlite3.node`))
      const PackedDatabase = createRequire(join(app, 'out', 'main', 'index.js'))('better-sqlite3') as typeof Database
      const db = new PackedDatabase(':memory:', { nativeBinding: choice.path! })
      expect((db.prepare('select 1 + 1 as two').get() as { two: number }).two).toBe(2)
      db.close()
      // Its Node build and sources stay out of the package.
      expect(existsSync(join(app, 'node_modules/better-sqlite3/build'))).toBe(false)
      expect(existsSync(join(app, 'node_modules/better-sqlite3/deps'))).toBe(false)
    })

    it('packs the wasm binaries where the backend looks, and the oneDNN addon where core/native looks', () => {
      const wasmDist = join(
        dirname(
          createRequire(join(app, 'out', 'main', 'index.js')).resolve('@tensorflow/tfjs-backend-wasm/package.json')
        ),
        'dist'
      )
      for (const f of ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm'])
        expect(existsSync(join(wasmDist, f)), f).toBe(true)
      const proc = process as { resourcesPath?: string }
      proc.resourcesPath = resources
      try {
        const packed = addonCandidates({}).filter((p) => p.startsWith(resources))
        expect(packed).toEqual([join(resources, 'native/dnnl/build/Release/tunelab_dnnl.node')])
        // Built here (Linux with oneDNN): shipped. Not built: left out, and the app says convolutions run in wasm.
        expect(existsSync(packed[0]!)).toBe(DNNL_BUILT)
      } finally {
        delete proc.resourcesPath
      }
    })
  }
)
