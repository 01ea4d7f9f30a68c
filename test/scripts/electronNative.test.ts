// scripts/electron-native.mjs, run as npm runs it (postinstall, prestart, predev): Electron 45's ABI, the prebuilt
// better-sqlite3 fetched from a loopback mirror (prebuild-install's own mirror variable) and placed in
// native/electron-<abi>/, and, with no network, exit 0 with one line that names both reasons.
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tempDir } from '../helpers/synthetic'

const SCRIPT = resolve('scripts/electron-native.mjs')
const BS3_VERSION = (
  JSON.parse(readFileSync(resolve('node_modules/better-sqlite3/package.json'), 'utf8')) as { version: string }
).version
const TARBALL = `better-sqlite3-v${BS3_VERSION}-electron-v150-${process.platform}-${process.arch}.tar.gz`

const tmp = tempDir('tunelab-electron-native-')
const payload = Buffer.from(`not really a native module: bytes the test can recognise ${Date.now()}`)
const hits: string[] = []
let server: http.Server
let mirror = ''

beforeAll(async () => {
  // The tarball prebuild-install expects: build/Release/better_sqlite3.node inside.
  const stage = join(tmp.dir, 'stage')
  mkdirSync(join(stage, 'build', 'Release'), { recursive: true })
  writeFileSync(join(stage, 'build', 'Release', 'better_sqlite3.node'), payload)
  execFileSync('tar', ['czf', join(tmp.dir, TARBALL), '-C', stage, 'build'])
  const body = readFileSync(join(tmp.dir, TARBALL))
  server = http.createServer((req, res) => {
    hits.push(req.url ?? '')
    if (req.url === `/good/v${BS3_VERSION}/${TARBALL}`) res.writeHead(200, { 'content-length': body.length }).end(body)
    else res.writeHead(404).end('not found')
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  mirror = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(async () => {
  server.closeAllConnections()
  await new Promise((r) => server.close(r))
  tmp.cleanup()
})

/**
 * Runs the script as npm would, with the network pointed at the loopback mirror (or at nothing). Asynchronously:
 * the mirror answers from this process. npm's own nodedir (Debian's npm sets /usr) must not turn the build into one
 * against Node's headers.
 */
function run(
  nativeDir: string,
  env: Record<string, string>,
  ...args: string[]
): Promise<{ status: number | null; lines: string[] }> {
  const child = spawn(process.execPath, [SCRIPT, '--native-dir', nativeDir, ...args], {
    env: {
      ...process.env,
      npm_config_cache: join(tmp.dir, `npm-cache-${hits.length}-${Date.now()}`),
      TUNELAB_NODE_GYP_DEVDIR: join(tmp.dir, 'gyp'),
      npm_config_nodedir: '/usr',
      ...env
    }
  })
  let out = ''
  child.stdout.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr.on('data', (d: Buffer) => (out += d.toString()))
  return new Promise((done) => child.on('close', (status) => done({ status, lines: out.trim().split('\n') })))
}

describe('Electron ABI', () => {
  it('is 150 for electron 45, from its abi_version file, and node-abi (which names the prebuilt files) agrees', () => {
    const target = JSON.parse(
      execFileSync(process.execPath, [SCRIPT, '--print-target'], { encoding: 'utf8' })
    ) as Record<string, string>
    expect(target).toMatchObject({ version: '45.4.1', abi: '150', fileAbi: '150', nodeAbi: '150' })
  })
})

describe('better-sqlite3 for Electron', () => {
  it('downloads the prebuilt binary from the mirror and places it in native/electron-150/', async () => {
    const nativeDir = join(tmp.dir, 'native-ok')
    const r = await run(nativeDir, { npm_config_better_sqlite3_binary_host: `${mirror}/good` })
    expect(r.status).toBe(0)
    expect(hits).toContain(`/good/v${BS3_VERSION}/${TARBALL}`)
    expect(readFileSync(join(nativeDir, 'electron-150', 'better_sqlite3.node')).equals(payload)).toBe(true)
    const manifest = JSON.parse(
      readFileSync(join(nativeDir, 'electron-150', 'tunelab-binding.json'), 'utf8')
    ) as Record<string, string>
    expect(manifest).toMatchObject({
      electron: '45.4.1',
      abi: '150',
      betterSqlite3: BS3_VERSION,
      source: 'prebuilt',
      platform: process.platform,
      arch: process.arch
    })
    expect(r.lines.at(-1)).toMatch(/prebuilt binary installed \(.*electron-150[/\\]better_sqlite3\.node\)/)

    // npm start runs it again: up to date, nothing fetched.
    const before = hits.length
    const again = await run(nativeDir, { npm_config_better_sqlite3_binary_host: `${mirror}/good` })
    expect(again.status).toBe(0)
    expect(again.lines).toHaveLength(1)
    expect(again.lines[0]).toMatch(/up to date/)
    expect(hits.length).toBe(before)
  })

  it('with no network: exits 0 (npm install goes on) with one line naming both reasons, and places nothing', async () => {
    const nativeDir = join(tmp.dir, 'native-offline')
    const r = await run(nativeDir, {
      npm_config_better_sqlite3_binary_host: 'http://127.0.0.1:1',
      TUNELAB_ELECTRON_HEADERS_URL: 'http://127.0.0.1:1'
    })
    expect(r.status).toBe(0)
    const failures = r.lines.filter((l) => /could not be fetched/.test(l))
    expect(failures).toHaveLength(1)
    expect(failures[0]).toMatch(
      /^tunelab: better-sqlite3 for Electron 45\.4\.1 \(ABI 150, .*\) could not be fetched \(prebuilt: .*ECONNREFUSED.*; build: Electron's headers: http:\/\/127\.0\.0\.1:1\/v45\.4\.1\/.*ECONNREFUSED\).*npm run native:electron/
    )
    expect(existsSync(join(nativeDir, 'electron-150', 'better_sqlite3.node'))).toBe(false)
  })

  it('with no prebuilt for this Electron (404) it tries to build against the headers, and --strict (npm run dist) fails', async () => {
    const nativeDir = join(tmp.dir, 'native-404')
    const env = {
      npm_config_better_sqlite3_binary_host: `${mirror}/none`,
      TUNELAB_ELECTRON_HEADERS_URL: `${mirror}/headers`
    }
    const r = await run(nativeDir, env, '--strict')
    expect(r.status).toBe(1)
    expect(hits).toContain(`/none/v${BS3_VERSION}/${TARBALL}`)
    expect(hits.some((h) => h.startsWith('/headers/v45.4.1/'))).toBe(true)
    expect(r.lines.at(-1)).toMatch(
      /prebuilt: No prebuilt binaries found .*; build: 404 response downloading http:\/\/127\.0\.0\.1:\d+\/headers\/v45\.4\.1\//
    )
  })

  it('runs on npm install, before npm start and npm run dev, and as the fix the start-up check names', () => {
    const scripts = (JSON.parse(readFileSync(resolve('package.json'), 'utf8')) as { scripts: Record<string, string> })
      .scripts
    expect(scripts['postinstall']).toContain('node scripts/electron-native.mjs')
    expect(scripts['prestart']).toBe('node scripts/electron-native.mjs')
    expect(scripts['predev']).toBe('node scripts/electron-native.mjs')
    expect(scripts['native:electron']).toBe('node scripts/electron-native.mjs --force')
  })
})
