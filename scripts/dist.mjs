#!/usr/bin/env node
// `npm run dist [-- electron-builder options]`: the installer for this platform (electron-builder.js).
//  1. better-sqlite3 for Electron's ABI (scripts/electron-native.mjs --strict: a package without it cannot open a
//     project, so here its failure stops the build);
//  2. Linux: libdnnl beside the oneDNN addon (the addon's RUNPATH is $ORIGIN), so the package does not need oneDNN
//     installed; without the addon, or on macOS / Windows, the package runs its convolutions in WebAssembly;
//  3. electron-vite build; 4. electron-builder --publish never (it downloads Electron and, per target, its tools).
import { spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, realpathSync } from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const say = (msg) => console.log(`tunelab dist: ${msg}`)
const DNNL_DIR = join(root, 'native', 'dnnl', 'build', 'Release')
const ADDON = join(DNNL_DIR, 'tunelab_dnnl.node')

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' })
  if (r.status !== 0) {
    say(`${cmd} ${args.join(' ')} failed (exit ${r.status ?? r.signal})`)
    process.exit(1)
  }
}

/** Copies the libdnnl the addon links (as the loader resolves it now) next to the addon. */
function stageDnnlLibrary() {
  if (process.platform !== 'linux')
    return say(`oneDNN addon left out on ${process.platform}: the package runs convolutions in WebAssembly`)
  if (!existsSync(ADDON))
    return say('oneDNN addon not built (npm run build:native): the package runs convolutions in WebAssembly')
  const dyn = spawnSync('readelf', ['-d', ADDON], { encoding: 'utf8' })
  if (dyn.status === 0 && !dyn.stdout.includes('[$ORIGIN]')) {
    say(
      'the oneDNN addon was built without RUNPATH $ORIGIN (an older build): run `npm run build:native`, then dist again'
    )
    process.exit(1)
  }
  const ldd = spawnSync('ldd', [ADDON], { encoding: 'utf8' })
  const line = (ldd.stdout ?? '').split('\n').find((l) => /libdnnl\.so/.test(l))
  const lib = line?.match(/=>\s*(\S+)/)?.[1]
  if (!lib || !existsSync(lib)) {
    say(`cannot find the libdnnl the addon links (ldd: ${line?.trim() ?? 'no libdnnl line'}); oneDNN left out`)
    process.exit(1)
  }
  const name = line.trim().split(/\s+/)[0]
  const target = join(DNNL_DIR, name)
  if (resolve(lib) !== resolve(target)) copyFileSync(realpathSync(lib), target)
  say(
    `oneDNN: ${basename(ADDON)} + ${name} (from ${lib}); the .deb depends on libgomp1 and ocl-icd-libopencl1, which libdnnl loads`
  )
}

run(process.execPath, [join(root, 'scripts', 'electron-native.mjs'), '--strict'])
stageDnnlLibrary()
run(process.execPath, [join(root, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js'), 'build'])
run(process.execPath, [
  join(root, 'node_modules', 'electron-builder', 'cli.js'),
  '--publish',
  'never',
  ...process.argv.slice(2)
])
say(`done: ${join(root, 'dist')}`)
