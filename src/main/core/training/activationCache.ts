// Phase 2's cache of the frozen lower part's activations at the cut, one row per image: in memory when small,
// else in temporary files read back a batch at a time, so the process's memory stays bounded by configuration
// (TrainIO.activationMemoryBytes) rather than by the data set size.
import { closeSync, mkdtempSync, openSync, read, readSync, rmSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** Temporary activation folders are `<prefix><pid>-<random>`. */
export const ACTIVATION_DIR_PREFIX = 'tunelab-activations-'

/** Activations up to this many bytes stay in memory; more go to temporary files (default 256 MiB). */
export const DEFAULT_ACTIVATION_MEMORY_BYTES = 256 * 1024 ** 2

export interface ActivationStore {
  readonly where: 'memory' | 'disk'
  /** Writes the rows `idx` of boundary tensor k (data: idx.length * perImage[k] floats, in idx order). */
  write(k: number, idx: readonly number[], data: Float32Array): void
  /** Copies the rows `idx` of boundary tensor k into `out` (idx.length * perImage[k] floats). */
  read(k: number, idx: readonly number[], out: Float32Array): void
  /** read, off this thread where the store is on disk (a batch read ahead while the current one computes). */
  readAsync(k: number, idx: readonly number[], out: Float32Array): Promise<void>
  dispose(): void
}

function memoryStore(n: number, perImage: readonly number[]): ActivationStore {
  const data = perImage.map((p) => new Float32Array(n * p))
  return {
    where: 'memory',
    write(k, idx, rows) {
      const d = data[k] as Float32Array
      const p = perImage[k] as number
      idx.forEach((i, j) => d.set(rows.subarray(j * p, (j + 1) * p), i * p))
    },
    read(k, idx, out) {
      const d = data[k] as Float32Array
      const p = perImage[k] as number
      idx.forEach((i, j) => out.set(d.subarray(i * p, (i + 1) * p), j * p))
    },
    async readAsync(k, idx, out) {
      this.read(k, idx, out)
    },
    dispose: () => undefined
  }
}

function diskStore(perImage: readonly number[], parent: string): ActivationStore {
  // The pid in the name lets a later run sweep the folder if this process dies holding it (store/staleTemp).
  const dir = mkdtempSync(join(parent, `${ACTIVATION_DIR_PREFIX}${process.pid}-`))
  const fds = perImage.map((_, k) => openSync(join(dir, `cut-${k}.f32`), 'w+'))
  const shortRead = (got: number, bytes: number): Error =>
    new Error(`activation cache: short read (${got} of ${bytes} bytes) in ${dir}`)
  return {
    where: 'disk',
    write(k, idx, rows) {
      const bytes = (perImage[k] as number) * 4
      const view = new Uint8Array(rows.buffer, rows.byteOffset, rows.byteLength)
      // Consecutive rows go out in one write.
      for (let j = 0; j < idx.length; ) {
        let run = 1
        while (j + run < idx.length && idx[j + run] === (idx[j] as number) + run) run++
        writeSync(fds[k] as number, view, j * bytes, run * bytes, (idx[j] as number) * bytes)
        j += run
      }
    },
    read(k, idx, out) {
      const bytes = (perImage[k] as number) * 4
      const view = new Uint8Array(out.buffer, out.byteOffset, out.byteLength)
      idx.forEach((i, j) => {
        const got = readSync(fds[k] as number, view, j * bytes, bytes, i * bytes)
        if (got !== bytes) throw shortRead(got, bytes)
      })
    },
    async readAsync(k, idx, out) {
      const bytes = (perImage[k] as number) * 4
      const view = new Uint8Array(out.buffer, out.byteOffset, out.byteLength)
      const fd = fds[k] as number
      // Every read ends before this returns, failed or not: the caller may close the store right after.
      const reads = await Promise.allSettled(
        idx.map(
          (i, j) =>
            new Promise<void>((resolve, reject) =>
              read(fd, view, j * bytes, bytes, i * bytes, (err, got) =>
                err ? reject(err) : got !== bytes ? reject(shortRead(got, bytes)) : resolve()
              )
            )
        )
      )
      const failed = reads.find((r) => r.status === 'rejected')
      if (failed) throw failed.reason
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
