#!/usr/bin/env node
// postinstall: build native/dnnl (oneDNN convolutions for the wasm backend) when oneDNN's headers are
// installed (Debian/Ubuntu: apt-get install libdnnl-dev). Optional: without it TuneLab runs its convolutions
// in wasm, about 4x slower; this script then says so and still exits 0, so `npm install` never fails on it.
// TUNELAB_NATIVE=0 skips the build; DNNL_INCLUDE_DIR points at a oneDNN include directory elsewhere.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const addonDir = join(root, 'native', 'dnnl')
const say = (msg) => console.log(`tunelab: ${msg}`)

if (process.env.TUNELAB_NATIVE === '0') {
  say('TUNELAB_NATIVE=0: oneDNN kernels not built')
  process.exit(0)
}
const includeDirs = [process.env.DNNL_INCLUDE_DIR, '/usr/include', '/usr/local/include'].filter(Boolean)
const include = includeDirs.find((d) => existsSync(join(d, 'oneapi', 'dnnl', 'dnnl.hpp')))
if (!include) {
  say(
    'oneDNN headers not found (Debian/Ubuntu: apt-get install libdnnl-dev, then npm rebuild); convolutions will run in wasm, about 4x slower'
  )
  process.exit(0)
}

let gyp
try {
  gyp = createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js')
} catch {
  say('node-gyp is not installed (a devDependency); oneDNN kernels not built')
  process.exit(0)
}
const args = [gyp, 'rebuild']
// Outside npm (no npm_config_nodedir) use the headers of the Node that runs us when they are installed beside it.
const prefix = resolve(dirname(process.execPath), '..')
if (!process.env.npm_config_nodedir && existsSync(join(prefix, 'include', 'node', 'node_api.h')))
  args.push(`--nodedir=${prefix}`)
const env = { ...process.env, CXXFLAGS: `${process.env.CXXFLAGS ?? ''} -I${include}`.trim() }
const started = Date.now()
const r = spawnSync(process.execPath, args, { cwd: addonDir, env, encoding: 'utf8' })
if (r.status !== 0) {
  const tail = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').slice(-15).join('\n')
  say(`building the oneDNN kernels failed; convolutions will run in wasm, about 4x slower.\n${tail}`)
  process.exit(0)
}
say(
  `oneDNN kernels built in ${((Date.now() - started) / 1000).toFixed(1)} s (native/dnnl/build/Release/tunelab_dnnl.node)`
)
