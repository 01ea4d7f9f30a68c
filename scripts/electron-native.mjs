#!/usr/bin/env node
// better-sqlite3 for Electron's ABI, into native/electron-<abi>/better_sqlite3.node (the Node build in
// node_modules stays for the CLI, the tests and serve mode). Runs on postinstall, before `npm start` / `npm run dev`
// and as `npm run native:electron`. First a prebuilt binary (better-sqlite3 publishes them for Electron; fetched by
// prebuild-install into a temp folder, then moved), else a build against Electron's headers (node-gyp, needs a C++
// toolchain). Never fails the install: when both fail it prints one line with both reasons and exits 0, and the
// app's start-up check names the fix. `--strict` (used by `npm run dist`) exits 1 instead.
//
// Options: --force (fetch again even when up to date), --strict, --print-target (JSON, nothing fetched),
// --native-dir DIR (default <repo>/native). Mirrors: npm_config_better_sqlite3_binary_host (prebuild-install's own
// mirror variable) and TUNELAB_ELECTRON_HEADERS_URL (default https://electronjs.org/headers).
import { spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const require = createRequire(join(root, 'package.json'))
const args = process.argv.slice(2)
const flag = (name) => args.includes(name)
const option = (name) => {
  const i = args.indexOf(name)
  return i >= 0 ? args[i + 1] : undefined
}
const say = (msg) => console.log(`tunelab: ${msg}`)
const BINARY = 'better_sqlite3.node'
const MANIFEST = 'tunelab-binding.json'
const PREBUILT_TIMEOUT_MS = 120_000

function readJson(path) {
  return JSON.parse(readFileSync(path, 'utf8'))
}

function packageDir(name) {
  try {
    return dirname(require.resolve(`${name}/package.json`))
  } catch {
    return null
  }
}

/**
 * Electron's version and ABI (NODE_MODULE_VERSION). The ABI comes from the abi_version file the electron package
 * ships; node-abi (prebuild-install's dependency, which names the prebuilt files) must agree, else the prebuilt
 * fetched would be for another ABI than the one Electron loads.
 */
function electronTarget() {
  const dir = packageDir('electron')
  if (!dir) return { error: 'the electron package is not installed (a devDependency)' }
  const version = readJson(join(dir, 'package.json')).version
  const fileAbi = existsSync(join(dir, 'abi_version')) ? readFileSync(join(dir, 'abi_version'), 'utf8').trim() : null
  let nodeAbi = null
  try {
    const prebuild = packageDir('prebuild-install')
    const abiLib = createRequire(join(prebuild ?? root, 'package.json'))('node-abi')
    nodeAbi = String(abiLib.getAbi(version, 'electron'))
  } catch (err) {
    nodeAbi = null
    if (!fileAbi)
      return { error: `cannot tell Electron ${version}'s ABI: no abi_version file and node-abi says ${err.message}` }
  }
  const abi = fileAbi ?? nodeAbi
  return { version, abi, fileAbi, nodeAbi, platform: process.platform, arch: process.arch }
}

function lastLines(text, n) {
  return text.trim().split('\n').slice(-n).join('\n')
}

/** The one line of prebuild-install's output that says why nothing was installed. */
function prebuildReason(out) {
  const warn = out
    .split('\n')
    .filter((l) => / warn /.test(l))
    .pop()
  return (warn ?? lastLines(out, 1)).replace(/^prebuild-install warn (install )?/, '').trim() || 'no output'
}

/** The line of node-gyp's output that says what went wrong: a failed header download, its error, a compiler error. */
function gypReason(out) {
  const lines = out.split('\n').map((l) => l.trim())
  const fetch = lines.filter((l) => /^gyp http fetch GET .* failed with /.test(l)).pop()
  if (fetch)
    return `Electron's headers: ${fetch.replace(/^gyp http fetch GET /, '').replace(/ attempt \d+ failed with /, ': ')}`
  const stack = lines.find((l) => /^gyp ERR! stack Error: /.test(l))
  if (stack) return stack.replace(/^gyp ERR! stack Error: /, '')
  const compiler = lines.find((l) => /\berror\b:/.test(l) && !l.startsWith('gyp '))
  if (compiler) return compiler
  const other = lines.find(
    (l) => l.startsWith('gyp ERR!') && !/gyp ERR! (System|command|cwd|node -v|node-gyp -v|not ok)/.test(l)
  )
  return (other ?? lastLines(out, 1)).replace(/^gyp ERR! /, '') || 'no output'
}

function fetchPrebuilt(target, work) {
  const bin = packageDir('prebuild-install')
  if (!bin) return { error: 'prebuild-install is not installed (better-sqlite3 depends on it)' }
  cpSync(join(packageDir('better-sqlite3'), 'package.json'), join(work, 'package.json'))
  const r = spawnSync(
    process.execPath,
    [
      join(bin, 'bin.js'),
      '--runtime',
      'electron',
      '--target',
      target.version,
      '--arch',
      target.arch,
      '--platform',
      target.platform,
      '--verbose'
    ],
    { cwd: work, encoding: 'utf8', timeout: PREBUILT_TIMEOUT_MS }
  )
  const file = join(work, 'build', 'Release', BINARY)
  if (r.status === 0 && existsSync(file)) return { file }
  if (r.error)
    return {
      error: r.error.code === 'ETIMEDOUT' ? `no answer within ${PREBUILT_TIMEOUT_MS / 1000} s` : r.error.message
    }
  return { error: prebuildReason(`${r.stdout ?? ''}${r.stderr ?? ''}`) }
}

function compileAgainstHeaders(target, work) {
  const gypDir = packageDir('node-gyp')
  if (!gypDir) return { error: 'node-gyp is not installed (a devDependency)' }
  const from = packageDir('better-sqlite3')
  const src = join(work, 'better-sqlite3')
  const oldBuild = join(from, 'build')
  cpSync(from, src, { recursive: true, filter: (p) => p !== oldBuild && !p.startsWith(oldBuild + sep) })
  const distUrl = process.env.TUNELAB_ELECTRON_HEADERS_URL || 'https://electronjs.org/headers'
  const gypArgs = [
    'rebuild',
    '--release',
    `--target=${target.version}`,
    `--arch=${target.arch}`,
    `--dist-url=${distUrl}`
  ]
  if (process.env.TUNELAB_NODE_GYP_DEVDIR) gypArgs.push(`--devdir=${process.env.TUNELAB_NODE_GYP_DEVDIR}`)
  // npm passes its config to scripts as npm_config_*; a nodedir there (Debian's npm sets /usr) would make node-gyp
  // build against Node's headers instead of Electron's, and place a binary for the wrong ABI.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !/^npm_config_(nodedir|target|runtime|disturl|dist_url|devdir)$/i.test(k)
    )
  )
  const r = spawnSync(process.execPath, [join(gypDir, 'bin', 'node-gyp.js'), ...gypArgs], {
    cwd: src,
    env,
    encoding: 'utf8',
    // No timeout: killing node-gyp would leave make and the compiler running; it ends by itself either way.
    maxBuffer: 64 * 1024 * 1024
  })
  const file = join(src, 'build', 'Release', BINARY)
  if (r.status === 0 && existsSync(file)) return { file }
  if (r.error) return { error: r.error.message }
  return { error: gypReason(`${r.stdout ?? ''}${r.stderr ?? ''}`) }
}

/** Moves the binary into place (a rename within the folder, so a reader never sees half a file). */
function place(file, outDir, manifest) {
  mkdirSync(outDir, { recursive: true })
  const tmp = join(outDir, `${BINARY}.${process.pid}.tmp`)
  cpSync(file, tmp)
  renameSync(tmp, join(outDir, BINARY))
  writeFileSync(join(outDir, MANIFEST), JSON.stringify(manifest, null, 2) + '\n')
}

function upToDate(outDir, want) {
  if (!existsSync(join(outDir, BINARY)) || !existsSync(join(outDir, MANIFEST))) return false
  try {
    const have = readJson(join(outDir, MANIFEST))
    return ['electron', 'abi', 'betterSqlite3', 'platform', 'arch'].every((k) => have[k] === want[k])
  } catch {
    return false
  }
}

function main() {
  const target = electronTarget()
  if (flag('--print-target')) {
    console.log(JSON.stringify(target))
    return 0
  }
  if (target.error) {
    say(`better-sqlite3 for Electron not fetched: ${target.error}`)
    return 0
  }
  if (target.nodeAbi && target.fileAbi && target.nodeAbi !== target.fileAbi) {
    say(
      `warning: Electron ${target.version} says ABI ${target.fileAbi}, node-abi says ${target.nodeAbi}; using ${target.fileAbi}`
    )
  }
  const bs3 = packageDir('better-sqlite3')
  if (!bs3) {
    say('better-sqlite3 is not installed; nothing to fetch for Electron')
    return 0
  }
  const nativeDir = resolve(option('--native-dir') ?? join(root, 'native'))
  const outDir = join(nativeDir, `electron-${target.abi}`)
  const shown = relative(process.cwd(), join(outDir, BINARY)) || join(outDir, BINARY)
  const what = `better-sqlite3 for Electron ${target.version} (ABI ${target.abi}, ${target.platform}-${target.arch})`
  const manifest = {
    electron: target.version,
    abi: target.abi,
    betterSqlite3: readJson(join(bs3, 'package.json')).version,
    platform: target.platform,
    arch: target.arch
  }
  if (!flag('--force') && upToDate(outDir, manifest)) {
    say(`${what}: up to date (${shown})`)
    return 0
  }

  const work = mkdtempSync(join(tmpdir(), 'tunelab-electron-native-'))
  try {
    say(`${what}: looking for a prebuilt binary…`)
    const prebuiltDir = join(work, 'prebuilt')
    mkdirSync(prebuiltDir)
    const prebuilt = fetchPrebuilt(target, prebuiltDir)
    if (prebuilt.file) {
      place(prebuilt.file, outDir, { ...manifest, source: 'prebuilt', fetchedAt: new Date().toISOString() })
      say(`${what}: prebuilt binary installed (${shown})`)
      return 0
    }
    say(`${what}: no prebuilt binary (${prebuilt.error}); building it against Electron's headers (a few minutes)…`)
    const built = compileAgainstHeaders(target, work)
    if (built.file) {
      place(built.file, outDir, { ...manifest, source: 'compiled', fetchedAt: new Date().toISOString() })
      say(`${what}: built (${shown})`)
      return 0
    }
    say(
      `${what} could not be fetched (prebuilt: ${prebuilt.error}; build: ${built.error}). ` +
        'The desktop app will say so at start; `npm run native:electron` tries again. The CLI, tests and serve mode are not affected.'
    )
    return flag('--strict') ? 1 : 0
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
}

process.exitCode = main()
