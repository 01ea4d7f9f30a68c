// What Electron 45's `engines: node >= 22.12` asks of a user: only its install script (install.js) runs on the
// user's Node, and what it loads (@electron/get, @electron-internal/extract-zip: ES modules with that engines field,
// loaded with require()) works on the Node that runs this test (20.19+ loads ES modules with require()). The install
// script runs here for real against a loopback mirror (ELECTRON_MIRROR, remote checksums) serving a stand-in zip; the
// only part not run is the download from GitHub.
import { spawn } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { createHash } from 'node:crypto'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tempDir } from '../helpers/synthetic'

const ELECTRON = resolve('node_modules/electron')
const VERSION = (JSON.parse(readFileSync(join(ELECTRON, 'package.json'), 'utf8')) as { version: string }).version
const PLATFORM_FILE = process.platform === 'win32' ? 'electron.exe' : 'electron'
const ZIP_NAME = `electron-v${VERSION}-${process.platform}-${process.arch}.zip`

function crc32(buf: Buffer): number {
  let c = ~0
  for (const b of buf) {
    c ^= b
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1
  }
  return ~c >>> 0
}

/** A zip with stored (uncompressed) entries: what Electron's release zips hold, in miniature. */
function zip(entries: { name: string; data: Buffer; mode?: number }[]): Buffer {
  const locals: Buffer[] = []
  const centrals: Buffer[] = []
  let offset = 0
  for (const e of entries) {
    const name = Buffer.from(e.name)
    const crc = crc32(e.data)
    const local = Buffer.alloc(30)
    local.writeUInt32LE(0x04034b50, 0)
    local.writeUInt16LE(20, 4)
    local.writeUInt32LE(crc, 14)
    local.writeUInt32LE(e.data.length, 18)
    local.writeUInt32LE(e.data.length, 22)
    local.writeUInt16LE(name.length, 26)
    const central = Buffer.alloc(46)
    central.writeUInt32LE(0x02014b50, 0)
    central.writeUInt16LE((3 << 8) | 20, 4) // made by Unix, so the mode below counts
    central.writeUInt16LE(20, 6)
    central.writeUInt32LE(crc, 16)
    central.writeUInt32LE(e.data.length, 20)
    central.writeUInt32LE(e.data.length, 24)
    central.writeUInt16LE(name.length, 28)
    central.writeUInt32LE(((e.mode ?? 0o100644) << 16) >>> 0, 38)
    central.writeUInt32LE(offset, 42)
    locals.push(local, name, e.data)
    centrals.push(central, name)
    offset += local.length + name.length + e.data.length
  }
  const dir = Buffer.concat(centrals)
  const end = Buffer.alloc(22)
  end.writeUInt32LE(0x06054b50, 0)
  end.writeUInt16LE(entries.length, 8)
  end.writeUInt16LE(entries.length, 10)
  end.writeUInt32LE(dir.length, 12)
  end.writeUInt32LE(offset, 16)
  return Buffer.concat([...locals, dir, end])
}

describe("Electron's install script on this Node", () => {
  const tmp = tempDir('tunelab-electron-install-')
  const hits: string[] = []
  let server: http.Server
  let mirror = ''
  const body = zip([
    { name: PLATFORM_FILE, data: Buffer.from('#!/bin/sh\necho stand-in electron\n'), mode: 0o100755 },
    { name: 'version', data: Buffer.from(VERSION) }
  ])

  beforeAll(async () => {
    const sums = `${createHash('sha256').update(body).digest('hex')} *${ZIP_NAME}\n`
    server = http.createServer((req, res) => {
      hits.push(req.url ?? '')
      if (req.url === `/v${VERSION}/${ZIP_NAME}`) res.writeHead(200, { 'content-length': body.length }).end(body)
      else if (req.url === `/v${VERSION}/SHASUMS256.txt`) res.writeHead(200).end(sums)
      else res.writeHead(404).end('not found')
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    mirror = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
  })
  afterAll(async () => {
    server.closeAllConnections()
    await new Promise((r) => server.close(r))
    tmp.cleanup()
  })

  it(`declares node >= 22.12 but installs on Node ${process.versions.node} (ES modules loaded with require())`, async () => {
    expect(
      (JSON.parse(readFileSync(join(ELECTRON, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node
    ).toBe('>= 22.12.0')
    // A copy of the electron package beside links to the installed @electron packages, so dist/ lands in the copy.
    const pkg = join(tmp.dir, 'node_modules', 'electron')
    mkdirSync(pkg, { recursive: true })
    for (const f of ['install.js', 'index.js', 'package.json', 'checksums.json'])
      copyFileSync(join(ELECTRON, f), join(pkg, f))
    for (const scope of ['@electron', '@electron-internal'])
      symlinkSync(resolve('node_modules', scope), join(tmp.dir, 'node_modules', scope), 'dir')
    const child = spawn(process.execPath, [join(pkg, 'install.js')], {
      cwd: pkg,
      env: {
        ...process.env,
        ELECTRON_SKIP_BINARY_DOWNLOAD: '',
        ELECTRON_MIRROR: mirror,
        electron_use_remote_checksums: '1',
        electron_config_cache: join(tmp.dir, 'cache')
      }
    })
    let out = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr.on('data', (d: Buffer) => (out += d.toString()))
    const status = await new Promise<number | null>((done) => child.on('close', done))
    expect(status, out).toBe(0)
    expect(hits).toEqual(expect.arrayContaining([`/v${VERSION}/${ZIP_NAME}`, `/v${VERSION}/SHASUMS256.txt`]))
    expect(readFileSync(join(pkg, 'path.txt'), 'utf8')).toBe(PLATFORM_FILE)
    expect(existsSync(join(pkg, 'dist', PLATFORM_FILE))).toBe(true)
    expect(readFileSync(join(pkg, 'dist', 'version'), 'utf8')).toBe(VERSION)
  })
})
