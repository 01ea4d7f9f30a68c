// Phase 2's cache of the frozen lower part's activations at the cut, one row per image: in memory when small,
// else in temporary files read back a batch at a time, so the process's memory stays bounded by configuration
// (TrainIO.activationMemoryBytes) rather than by the data set size.
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** Activations up to this many bytes stay in memory; more go to temporary files (default 256 MiB). */
export const DEFAULT_ACTIVATION_MEMORY_BYTES = 256 * 1024 ** 2

export interface ActivationStore {
  readonly where: 'memory' | 'disk'
  /** Writes rows [start, start + count) of boundary tensor k (rows are written in order, once). */
  write(k: number, start: number, data: Float32Array): void
  /** Copies the rows `idx` of boundary tensor k into `out` (idx.length * perImage[k] floats). */
  read(k: number, idx: readonly number[], out: Float32Array): void
  dispose(): void
}

function memoryStore(n: number, perImage: readonly number[]): ActivationStore {
  const data = perImage.map((p) => new Float32Array(n * p))
  return {
    where: 'memory',
    write: (k, start, rows) => (data[k] as Float32Array).set(rows, start * (perImage[k] as number)),
    read(k, idx, out) {
      const d = data[k] as Float32Array
      const p = perImage[k] as number
      idx.forEach((i, j) => out.set(d.subarray(i * p, (i + 1) * p), j * p))
    },
    dispose: () => undefined
  }
}

function diskStore(perImage: readonly number[], parent: string): ActivationStore {
  const dir = mkdtempSync(join(parent, 'tunelab-activations-'))
  const fds = perImage.map((_, k) => openSync(join(dir, `cut-${k}.f32`), 'w+'))
  return {
    where: 'disk',
    write(k, start, rows) {
      writeSync(fds[k] as number, rows, 0, rows.byteLength, start * (perImage[k] as number) * 4)
    },
    read(k, idx, out) {
      const bytes = (perImage[k] as number) * 4
      const view = new Uint8Array(out.buffer, out.byteOffset, out.byteLength)
      idx.forEach((i, j) => {
        const got = readSync(fds[k] as number, view, j * bytes, bytes, i * bytes)
        if (got !== bytes) throw new Error(`activation cache: short read (${got} of ${bytes} bytes) in ${dir}`)
      })
    },
    dispose() {
      for (const fd of fds) closeSync(fd)
      rmSync(dir, { recursive: true, force: true })
    }
  }
}

/** A store for n images' activations: in memory when they fit in `memoryBytes`, else on disk under `dir`. */
export function createActivationStore(
  n: number,
  perImage: readonly number[],
  memoryBytes: number,
  dir: string = tmpdir()
): ActivationStore {
  const bytes = n * perImage.reduce((a, b) => a + b, 0) * 4
  return bytes <= memoryBytes ? memoryStore(n, perImage) : diskStore(perImage, dir)
}
