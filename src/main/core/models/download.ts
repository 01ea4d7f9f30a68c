import { createHash } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import http from 'node:http'
import https from 'node:https'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { Checksum } from './registry'

export interface DownloadProgress {
  bytes: number
  /** From Content-Length; null when the server does not say. */
  total: number | null
  bytesPerSecond: number
}

export interface CachedFileOptions {
  url: string
  fileName: string
  checksum: Checksum | null
  cacheDir?: string
  onProgress?: (p: DownloadProgress) => void
  /** Abort when no byte arrives for this long (default 30 s). */
  idleTimeoutMs?: number
  maxRedirects?: number
}

export interface CachedFile {
  path: string
  sha256: string
  fromCache: boolean
  /** How the file's integrity was established. */
  verifiedBy: 'official-checksum' | 'trust-on-first-use'
}

interface ManifestEntry {
  url: string
  size: number
  sha256: string
  md5: string
  verifiedBy: CachedFile['verifiedBy']
  downloadedAt: string
}

interface Manifest {
  version: 1
  files: Record<string, ManifestEntry>
}

/** $TUNELAB_CACHE_DIR, else $XDG_CACHE_HOME/tunelab/weights, else ~/.cache/tunelab/weights. */
export function defaultWeightsCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env['TUNELAB_CACHE_DIR']) return env['TUNELAB_CACHE_DIR']
  const base = env['XDG_CACHE_HOME'] || join(homedir(), '.cache')
  return join(base, 'tunelab', 'weights')
}

const MANIFEST = 'manifest.json'

async function readManifest(dir: string): Promise<Manifest> {
  try {
    const m = JSON.parse(await readFile(join(dir, MANIFEST), 'utf8')) as Manifest
    if (m && m.version === 1 && typeof m.files === 'object') return m
  } catch {
    // absent or unreadable: start a new one (the files themselves are re-verified)
  }
  return { version: 1, files: {} }
}

async function writeManifest(dir: string, m: Manifest): Promise<void> {
  const tmp = join(dir, `.${MANIFEST}.${process.pid}.${Date.now()}.tmp`)
  await writeFile(tmp, JSON.stringify(m, null, 2))
  await rename(tmp, join(dir, MANIFEST))
}

interface Hashes {
  sha256: string
  md5: string
  size: number
}

export async function hashFile(path: string): Promise<Hashes> {
  const sha = createHash('sha256')
  const md5 = createHash('md5')
  let size = 0
  for await (const chunk of createReadStream(path)) {
    const b = chunk as Buffer
    sha.update(b)
    md5.update(b)
    size += b.length
  }
  return { sha256: sha.digest('hex'), md5: md5.digest('hex'), size }
}

function matches(h: Hashes, c: Checksum): boolean {
  return (c.algorithm === 'sha256' ? h.sha256 : h.md5) === c.value.toLowerCase()
}

function checksumError(what: string, c: Checksum, h: Hashes, after: string): Error {
  return new Error(
    `${what}: ${c.algorithm} mismatch, expected ${c.value} but got ${c.algorithm === 'sha256' ? h.sha256 : h.md5} (${c.source}). ${after}`
  )
}

function get(url: URL, timeoutMs: number): Promise<http.IncomingMessage> {
  const mod = url.protocol === 'https:' ? https : url.protocol === 'http:' ? http : null
  if (!mod) return Promise.reject(new Error(`Unsupported URL protocol in ${url.toString()}`))
  return new Promise((resolve, reject) => {
    const req = mod.get(url, { headers: { 'user-agent': 'TuneLab' } }, resolve)
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`No data from ${url.host} for ${timeoutMs / 1000} s`)))
    req.on('error', (e) => reject(unreachable(url, e)))
  })
}

const NETWORK_CODES: Record<string, string> = {
  ENOTFOUND: 'its name does not resolve: no internet connection or DNS',
  EAI_AGAIN: 'its name does not resolve right now: no internet connection or DNS',
  ECONNREFUSED: 'it refused the connection',
  ECONNRESET: 'the connection was dropped',
  ETIMEDOUT: 'the connection timed out',
  ENETUNREACH: 'the network is unreachable',
  EHOSTUNREACH: 'the host is unreachable'
}

/** A network failure said in words, with the way around it (the raw code alone, "getaddrinfo ENOTFOUND", is not). */
function unreachable(url: URL, e: Error): Error {
  const code = (e as NodeJS.ErrnoException).code
  const why = code !== undefined ? NETWORK_CODES[code] : undefined
  if (!why) return e
  return new Error(
    `Cannot download the weights from ${url.host}: ${why} (${code}). ` +
      'Connect to the internet and try again, or use a weights file already on disk instead of downloading.',
    { cause: e }
  )
}

async function openFollowingRedirects(
  url: string,
  timeoutMs: number,
  maxRedirects: number
): Promise<http.IncomingMessage> {
  let current = new URL(url)
  for (let hop = 0; ; hop++) {
    const res = await get(current, timeoutMs)
    const status = res.statusCode ?? 0
    if (status >= 300 && status < 400 && res.headers.location) {
      res.resume()
      if (hop >= maxRedirects) throw new Error(`Too many redirects (> ${maxRedirects}) downloading ${url}`)
      current = new URL(res.headers.location, current)
      continue
    }
    if (status !== 200) {
      res.resume()
      throw new Error(`Download of ${current.toString()} failed: HTTP ${status} ${res.statusMessage ?? ''}`.trim())
    }
    return res
  }
}

/** Streams url into `tmpPath`, hashing on the way. Leaves cleanup to the caller. */
async function downloadTo(tmpPath: string, o: CachedFileOptions): Promise<Hashes> {
  const timeoutMs = o.idleTimeoutMs ?? 30_000
  const res = await openFollowingRedirects(o.url, timeoutMs, o.maxRedirects ?? 5)
  const lengthHeader = res.headers['content-length']
  const total = lengthHeader !== undefined && /^\d+$/.test(lengthHeader) ? Number(lengthHeader) : null
  const sha = createHash('sha256')
  const md5 = createHash('md5')
  const started = Date.now()
  let bytes = 0
  let lastReport = 0
  const report = (): void => {
    const secs = Math.max((Date.now() - started) / 1000, 1e-3)
    o.onProgress?.({ bytes, total, bytesPerSecond: bytes / secs })
  }
  const meter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      sha.update(chunk)
      md5.update(chunk)
      bytes += chunk.length
      const now = Date.now()
      if (now - lastReport >= 100) {
        lastReport = now
        report()
      }
      cb(null, chunk)
    }
  })
  res.setTimeout(timeoutMs, () => res.destroy(new Error(`No data from ${o.url} for ${timeoutMs / 1000} s`)))
  try {
    await pipeline(res, meter, createWriteStream(tmpPath))
  } catch (e) {
    throw new Error(
      `Download of ${o.url} interrupted after ${bytes}${total !== null ? ` of ${total}` : ''} bytes: ${e instanceof Error ? e.message : String(e)}`
    )
  }
  if (total !== null && bytes !== total)
    throw new Error(`Download of ${o.url} incomplete: got ${bytes} of ${total} bytes`)
  report()
  return { sha256: sha.digest('hex'), md5: md5.digest('hex'), size: bytes }
}

async function exists(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile()
  } catch {
    return false
  }
}

/**
 * Returns the cached copy of a weights file, downloading it once if needed.
 * - Verified against the official checksum when one is published; otherwise
 *   trust on first use: the sha256 seen at download is recorded in
 *   <cacheDir>/manifest.json and every later load checks the file against it.
 * - Downloads go to a temp file in the cache dir and are renamed into place
 *   only when complete and verified; on any failure the temp file is removed.
 * - A cached file that no longer matches is deleted and an error is thrown
 *   (the next call downloads it again, checked against the recorded hash).
 */
export async function ensureCachedFile(o: CachedFileOptions): Promise<CachedFile> {
  const dir = o.cacheDir ?? defaultWeightsCacheDir()
  await mkdir(dir, { recursive: true })
  const finalPath = join(dir, o.fileName)
  const manifest = await readManifest(dir)
  const recorded = manifest.files[o.fileName]
  const expected: Checksum | null =
    o.checksum ??
    (recorded
      ? {
          algorithm: 'sha256',
          value: recorded.sha256,
          source: `recorded at first download on ${recorded.downloadedAt} in ${join(dir, MANIFEST)}`
        }
      : null)

  if (await exists(finalPath)) {
    const h = await hashFile(finalPath)
    if (expected && !matches(h, expected)) {
      await rm(finalPath, { force: true })
      throw checksumError(
        `Cached weights ${finalPath} are corrupted or were changed`,
        expected,
        h,
        'The file was deleted; load again to download it anew.'
      )
    }
    const verifiedBy: CachedFile['verifiedBy'] = o.checksum ? 'official-checksum' : 'trust-on-first-use'
    if (!recorded) {
      manifest.files[o.fileName] = {
        url: o.url,
        size: h.size,
        sha256: h.sha256,
        md5: h.md5,
        verifiedBy,
        downloadedAt: new Date().toISOString()
      }
      await writeManifest(dir, manifest)
    }
    return { path: finalPath, sha256: h.sha256, fromCache: true, verifiedBy }
  }

  const tmpPath = join(dir, `.${o.fileName}.${process.pid}.${Math.random().toString(36).slice(2)}.partial`)
  try {
    const h = await downloadTo(tmpPath, o)
    if (expected && !matches(h, expected))
      throw checksumError(`Downloaded weights ${o.url}`, expected, h, 'Nothing was saved to the cache.')
    await rename(tmpPath, finalPath)
    const verifiedBy: CachedFile['verifiedBy'] = o.checksum ? 'official-checksum' : 'trust-on-first-use'
    const fresh = await readManifest(dir)
    fresh.files[o.fileName] = {
      url: o.url,
      size: h.size,
      sha256: h.sha256,
      md5: h.md5,
      verifiedBy,
      downloadedAt: new Date().toISOString()
    }
    await writeManifest(dir, fresh)
    return { path: finalPath, sha256: h.sha256, fromCache: false, verifiedBy }
  } finally {
    await rm(tmpPath, { force: true })
  }
}
