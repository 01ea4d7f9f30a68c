#!/usr/bin/env bash
# Builds better-sqlite3 for Electron's ABI into native/electron-<abi>/better_sqlite3.node, leaving the Node build
# in node_modules untouched (the CLI, the tests and serve mode keep using it).
# UNTESTED on the development box: Electron's headers cannot be downloaded there. Needs network access to
# https://electronjs.org/headers, python3, make and a C++ compiler.
# The Electron main process then opens SQLite with that binding: it sets TUNELAB_SQLITE_BINDING to the file
# (see README, "Desktop app"), which ProjectStore must pass as better-sqlite3's `nativeBinding` option.
set -euo pipefail
cd "$(dirname "$0")/.."

ELECTRON_VERSION="${ELECTRON_VERSION:-$(node -p "require('./node_modules/electron/package.json').version")}"
ABI="$(cat node_modules/electron/abi_version 2>/dev/null || echo unknown)"
OUT="native/electron-${ABI}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

echo "better-sqlite3 for Electron ${ELECTRON_VERSION} (ABI ${ABI}) -> ${OUT}"
cp -R node_modules/better-sqlite3 "$WORK/better-sqlite3"
rm -rf "$WORK/better-sqlite3/build"
(
  cd "$WORK/better-sqlite3"
  npx --yes node-gyp rebuild --release \
    --target="${ELECTRON_VERSION}" \
    --arch="$(node -p process.arch)" \
    --dist-url=https://electronjs.org/headers
)
mkdir -p "$OUT"
cp "$WORK/better-sqlite3/build/Release/better_sqlite3.node" "$OUT/better_sqlite3.node"
echo "done: $OUT/better_sqlite3.node"
# tfjs-node / tfjs-node-gpu (optional): rebuild the same way in node_modules/@tensorflow/tfjs-node(-gpu) with
#   npx node-gyp rebuild --target=$ELECTRON_VERSION --dist-url=https://electronjs.org/headers
# they are not installed on the development box; the app falls back to wasm.
