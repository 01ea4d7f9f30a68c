// No tfjs import: the Electron main process formats worker events with it.
import type { BackendInfo } from './backend'

/** One line for people: 'wasm (SIMD) + oneDNN 2.6.3 convolutions, 2 threads', 'tensorflow', ... */
export function describeBackend(info: BackendInfo): string {
  if (info.name !== 'wasm') return info.name
  const base = `wasm${info.simd ? ' (SIMD)' : ''}`
  if (!info.native) return base
  return 'version' in info.native
    ? `${base} + oneDNN ${info.native.version} convolutions, ${info.native.threads} thread${info.native.threads === 1 ? '' : 's'}`
    : `${base}; oneDNN not used: ${info.native.reason}`
}
