// Installers (electron-builder): Linux AppImage + .deb, macOS .dmg, Windows NSIS. `npm run dist` (scripts/dist.mjs)
// fetches better-sqlite3 for Electron's ABI, stages the oneDNN addon with its library, builds the app and runs
// electron-builder for the current platform. test/packaging/files.test.ts checks this file list against every path
// the built main process, its workers and the preload open at run time.
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('.', import.meta.url))
const abi = readFileSync(join(root, 'node_modules', 'electron', 'abi_version'), 'utf8').trim()

/** better-sqlite3 for Electron's ABI (scripts/electron-native.mjs); the main process looks in resources/<this>. */
export const SQLITE_DIR = `native/electron-${abi}`
/** The oneDNN addon; core/native/dnnl.ts looks in resources/<this>. Shipped on Linux only, with libdnnl beside it. */
export const DNNL_DIR = 'native/dnnl/build/Release'
const shipDnnl = process.platform === 'linux' && existsSync(join(root, DNNL_DIR, 'tunelab_dnnl.node'))
/** onnxruntime-node ships its library for every platform (about 150 MB); the installer keeps this platform's. */
const otherOrtPlatforms = ['darwin', 'linux', 'win32'].filter((p) => p !== process.platform)

/** @type {import('electron-builder').Configuration} */
export default {
  appId: 'org.tunelab.desktop',
  productName: 'TuneLab',
  executableName: 'tunelab',
  copyright: 'MIT License',
  directories: { output: 'dist', buildResources: 'resources' },
  // Plain files instead of an asar archive: the ESM main process, its ESM worker threads, the wasm binaries and the
  // native addons then load from exactly the paths they use in development (none of them has run from an asar here).
  asar: false,
  // better-sqlite3 for Electron comes from native/electron-<abi>; the other native packages (sharp, onnxruntime-node,
  // the oneDNN addon) use N-API and need no rebuild. A rebuild would also need Electron's headers at packaging time.
  npmRebuild: false,
  files: [
    'package.json',
    'out/**/*',
    'resources/icon.png',
    '!**/*.map',
    // better-sqlite3's sources and its Node build: the app opens SQLite with the Electron build from resources/.
    '!node_modules/better-sqlite3/{deps,src}/**',
    '!node_modules/better-sqlite3/build/**',
    ...otherOrtPlatforms.map((p) => `!node_modules/onnxruntime-node/bin/napi-v*/${p}/**`)
  ],
  extraResources: [
    { from: SQLITE_DIR, to: SQLITE_DIR, filter: ['better_sqlite3.node'] },
    ...(shipDnnl ? [{ from: DNNL_DIR, to: DNNL_DIR, filter: ['tunelab_dnnl.node', 'lib*.so*'] }] : [])
  ],
  linux: {
    target: ['AppImage', 'deb'],
    category: 'Science',
    icon: 'resources/icon.png',
    synopsis: 'Train image classifiers by transfer learning',
    maintainer: 'TuneLab'
  },
  deb: {
    // electron-builder's defaults, plus what the bundled libdnnl.so needs (OpenMP, the OpenCL loader).
    depends: [
      'libgtk-3-0',
      'libnotify4',
      'libnss3',
      'libxss1',
      'libxtst6',
      'xdg-utils',
      'libatspi2.0-0',
      'libuuid1',
      'libsecret-1-0',
      'libgomp1',
      'ocl-icd-libopencl1'
    ]
  },
  mac: { target: ['dmg'], category: 'public.app-category.developer-tools', icon: 'resources/icon.png' },
  win: { target: ['nsis'], icon: 'resources/icon.png' },
  nsis: { oneClick: false, allowToChangeInstallationDirectory: true }
}
