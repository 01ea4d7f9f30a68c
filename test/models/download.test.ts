import { createHash, randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  defaultWeightsCacheDir,
  ensureCachedFile,
  listPretrainedBaseIds,
  loadBase,
  officialWeights,
  type DownloadProgress
} from '@core/models'
import { DATA, V1_H5 } from '@test/helpers/photos'
import { useWasm } from '@test/helpers/wasm'

const payload = randomBytes(600_000)
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex')
const hits = new Map<string, number>()
let server: http.Server
let base = ''

function serve(req: http.IncomingMessage, res: http.ServerResponse): void {
  const path = (req.url ?? '').split('?')[0] ?? ''
  hits.set(path, (hits.get(path) ?? 0) + 1)
  if (path === '/w/file.bin') {
    res.writeHead(200, { 'content-length': payload.length })
    // Two writes with a pause, so progress is reported more than once.
    res.write(payload.subarray(0, 300_000))
    setTimeout(() => res.end(payload.subarray(300_000)), 150)
  } else if (path === '/w/redirect.bin') {
    res.writeHead(302, { location: '/w/hop2.bin' }).end()
  } else if (path === '/w/hop2.bin') {
    res.writeHead(301, { location: `${base}/w/file.bin` }).end()
  } else if (path === '/w/drop.bin') {
    res.writeHead(200, { 'content-length': payload.length })
    res.write(payload.subarray(0, 200_000), () => setTimeout(() => res.socket?.destroy(), 50))
  } else if (path === '/w/stall.bin') {
    res.writeHead(200, { 'content-length': payload.length })
    res.write(payload.subarray(0, 1000))
  } else if (path === '/keras/mobilenet/mobilenet_2_5_224_tf_no_top.h5' && existsSync(V1_H5)) {
    const body = readFileSync(V1_H5)
    res.writeHead(200, { 'content-length': body.length }).end(body)
  } else {
    res.writeHead(404).end('not found')
  }
}

beforeAll(async () => {
  server = http.createServer(serve)
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(async () => {
  server.closeAllConnections()
  await new Promise((r) => server.close(r))
})

const dirs: string[] = []
function cacheDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'tunelab-cache-'))
  dirs.push(d)
  return d
}
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))

const good = { algorithm: 'sha256' as const, value: sha(payload), source: 'test' }

describe('registry', () => {
  it('knows the official Keras Applications file of each variant', () => {
    expect(officialWeights('mobilenet_v2_1.0_160').url).toBe(
      'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_160_no_top.h5'
    )
    expect(officialWeights('mobilenet_v2_0.35_96').fileName).toBe(
      'mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_96_no_top.h5'
    )
    expect(officialWeights('mobilenet_v2_0.5_128').checksum).toBeNull()
    expect(officialWeights('mobilenet_v1_0.75_192').url).toMatch(/\/mobilenet\/mobilenet_7_5_192_tf_no_top\.h5$/)
    expect(officialWeights('mobilenet_v1_0.25_224').checksum).toMatchObject({
      algorithm: 'sha256',
      value: 'dbdb03ee2a22fd895301636cd328b234bb3a9952358f436d82f46b81e0d5b0bf'
    })
    expect(officialWeights('resnet50_v2_224')).toMatchObject({
      fileName: 'resnet50v2_weights_tf_dim_ordering_tf_kernels_notop.h5',
      checksum: { algorithm: 'md5', value: 'fac2f116257151a9d068a22e544a4917' }
    })
    expect(officialWeights('resnet50_v2_224', 'http://mirror.local/k').url).toBe(
      'http://mirror.local/k/resnet/resnet50v2_weights_tf_dim_ordering_tf_kernels_notop.h5'
    )
    const all = listPretrainedBaseIds()
    expect(all.length).toBe(30 + 16 + 1)
    expect(new Set(all.map((id) => officialWeights(id).url)).size).toBe(all.length)
    expect(all).toContain('mobilenet_v2_1.3_224')
    expect(() => officialWeights('mobilenet_v2_1.0_100')).toThrow(
      /No official ImageNet weights for "mobilenet_v2_1.0_100".*96, 128, 160, 192, 224/
    )
  })
  it('puts the cache under TUNELAB_CACHE_DIR, XDG_CACHE_HOME or ~/.cache', () => {
    expect(defaultWeightsCacheDir({ TUNELAB_CACHE_DIR: '/x/c' })).toBe('/x/c')
    expect(defaultWeightsCacheDir({ XDG_CACHE_HOME: '/xdg' })).toBe('/xdg/tunelab/weights')
    expect(defaultWeightsCacheDir({})).toMatch(/\.cache\/tunelab\/weights$/)
  })
})

describe('cached download over HTTP (local server)', () => {
  it('downloads with progress, verifies, then serves later loads from the cache without contacting the server', async () => {
    const dir = cacheDir()
    const events: DownloadProgress[] = []
    const first = await ensureCachedFile({
      url: `${base}/w/file.bin`,
      fileName: 'file.bin',
      checksum: good,
      cacheDir: dir,
      onProgress: (p) => events.push(p)
    })
    expect(first).toMatchObject({
      path: join(dir, 'file.bin'),
      sha256: good.value,
      fromCache: false,
      verifiedBy: 'official-checksum'
    })
    expect(readFileSync(first.path).equals(payload)).toBe(true)
    expect(events.length).toBeGreaterThanOrEqual(2)
    expect(events.at(-1)).toMatchObject({ bytes: payload.length, total: payload.length })
    expect(events.every((e) => e.bytesPerSecond > 0 && e.bytes <= payload.length)).toBe(true)
    const before = hits.get('/w/file.bin')
    const second = await ensureCachedFile({
      url: `${base}/w/file.bin`,
      fileName: 'file.bin',
      checksum: good,
      cacheDir: dir
    })
    expect(second.fromCache).toBe(true)
    expect(hits.get('/w/file.bin')).toBe(before)
    expect(readdirSync(dir).sort()).toEqual(['file.bin', 'manifest.json'])
  })

  it('follows redirects (relative and absolute)', async () => {
    const dir = cacheDir()
    const r = await ensureCachedFile({
      url: `${base}/w/redirect.bin`,
      fileName: 'r.bin',
      checksum: good,
      cacheDir: dir
    })
    expect(readFileSync(r.path).equals(payload)).toBe(true)
  })

  it('rejects a checksum mismatch naming expected and actual, and leaves nothing in the cache', async () => {
    const dir = cacheDir()
    const wrong = { algorithm: 'sha256' as const, value: 'a'.repeat(64), source: 'test' }
    await expect(
      ensureCachedFile({ url: `${base}/w/file.bin`, fileName: 'file.bin', checksum: wrong, cacheDir: dir })
    ).rejects.toThrow(new RegExp(`sha256 mismatch, expected a{64} but got ${good.value}`))
    expect(readdirSync(dir)).toEqual([])
  })

  it('reports a connection dropped mid-body and keeps no partial file', async () => {
    const dir = cacheDir()
    await expect(
      ensureCachedFile({ url: `${base}/w/drop.bin`, fileName: 'drop.bin', checksum: null, cacheDir: dir })
    ).rejects.toThrow(/drop\.bin (interrupted|incomplete)/)
    expect(readdirSync(dir)).toEqual([])
  })

  it('times out a stalled server and keeps no partial file', async () => {
    const dir = cacheDir()
    await expect(
      ensureCachedFile({
        url: `${base}/w/stall.bin`,
        fileName: 'stall.bin',
        checksum: null,
        cacheDir: dir,
        idleTimeoutMs: 300
      })
    ).rejects.toThrow(/No data from .* for 0.3 s/)
    expect(readdirSync(dir)).toEqual([])
  })

  it('says in words why a host cannot be reached, and the way around it', async () => {
    await expect(
      ensureCachedFile({ url: 'http://127.0.0.1:1/w.bin', fileName: 'w.bin', checksum: null, cacheDir: cacheDir() })
    ).rejects.toThrow(
      /^Cannot download the weights from 127\.0\.0\.1:1: it refused the connection \(ECONNREFUSED\)\. .*weights file already on disk/
    )
    await expect(
      ensureCachedFile({
        url: 'http://tunelab-test.invalid/w.bin',
        fileName: 'w.bin',
        checksum: null,
        cacheDir: cacheDir()
      })
    ).rejects.toThrow(/^Cannot download the weights from tunelab-test\.invalid: its name does not resolve/)
  })

  it('reports HTTP errors with the status', async () => {
    await expect(
      ensureCachedFile({ url: `${base}/w/missing.bin`, fileName: 'm.bin', checksum: null, cacheDir: cacheDir() })
    ).rejects.toThrow(/missing\.bin failed: HTTP 404/)
  })

  it('trust on first use: records the sha256, detects a changed cached file, deletes it, re-downloads against the record', async () => {
    const dir = cacheDir()
    const first = await ensureCachedFile({
      url: `${base}/w/file.bin`,
      fileName: 'tofu.bin',
      checksum: null,
      cacheDir: dir
    })
    expect(first.verifiedBy).toBe('trust-on-first-use')
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as {
      files: Record<string, { sha256: string }>
    }
    expect(manifest.files['tofu.bin']?.sha256).toBe(good.value)
    writeFileSync(first.path, Buffer.concat([payload.subarray(0, 1000), Buffer.from('tampered')]))
    await expect(
      ensureCachedFile({ url: `${base}/w/file.bin`, fileName: 'tofu.bin', checksum: null, cacheDir: dir })
    ).rejects.toThrow(
      new RegExp(`Cached weights .*tofu\\.bin are corrupted or were changed: sha256 mismatch, expected ${good.value}`)
    )
    expect(existsSync(first.path)).toBe(false)
    const again = await ensureCachedFile({
      url: `${base}/w/file.bin`,
      fileName: 'tofu.bin',
      checksum: null,
      cacheDir: dir
    })
    expect(again).toMatchObject({ fromCache: false, sha256: good.value })
  })
})

describe.skipIf(!existsSync(DATA))('loadBase with download (needs /work/shared/data for the real .h5)', () => {
  beforeAll(useWasm)
  it('downloads the official v1 0.25 224 file from a mirror, checks its published sha256, and reuses the cache', async () => {
    const dir = cacheDir()
    const events: DownloadProgress[] = []
    const opts = {
      download: true as const,
      cacheDir: dir,
      baseUrl: `${base}/keras/`,
      onProgress: (p: DownloadProgress) => events.push(p)
    }
    const b1 = await loadBase('mobilenet_v1_0.25_224', opts)
    expect(b1.weightsSource).toMatchObject({
      kind: 'keras-h5',
      sha256: 'dbdb03ee2a22fd895301636cd328b234bb3a9952358f436d82f46b81e0d5b0bf',
      path: join(dir, 'mobilenet_2_5_224_tf_no_top.h5')
    })
    expect(events.at(-1)?.bytes).toBe(2_108_140)
    const served = hits.get('/keras/mobilenet/mobilenet_2_5_224_tf_no_top.h5')
    const b2 = await loadBase('mobilenet_v1_0.25_224', opts)
    expect(hits.get('/keras/mobilenet/mobilenet_2_5_224_tf_no_top.h5')).toBe(served)
    expect(Array.from(b2.model.getLayer('conv1').getWeights()[0]!.dataSync().slice(0, 8))).toEqual(
      Array.from(b1.model.getLayer('conv1').getWeights()[0]!.dataSync().slice(0, 8))
    )
    b1.model.dispose()
    b2.model.dispose()
  })
})
