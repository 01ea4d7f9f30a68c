// The desktop app's main-process bundle (electron-vite build): the worker threads the core starts inside it
// (forward pool, image decoding) must find their scripts next to the chunk that starts them, and those built
// scripts must run. Built into out-test/bundle so it cannot race the other tests that build into out/.
import * as tf from '@tensorflow/tfjs'
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { Worker } from 'node:worker_threads'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TF_MODE_PREPROCESSING, applyPreprocessing } from '@core/models'
import { ForwardPool } from '@core/parallel'
import { ImageCache } from '@core/pipeline/imageCache'
import type { DecodeReply, DecodeRequest } from '@core/parallel/decodeProtocol'
import { useWasmBackend, smallConvBase, type TestBase } from '@test/helpers/exportFixtures'
import { makeProject, tempDir } from '../helpers/synthetic'

const OUT = resolve('out-test/bundle')
const MAIN = join(OUT, 'main')

function jsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? jsFiles(join(dir, e.name)) : e.name.endsWith('.js') ? [join(dir, e.name)] : []
  )
}

describe('main-process bundle', () => {
  const tmp = tempDir('tunelab-bundle-')
  let base: TestBase

  beforeAll(async () => {
    rmSync(OUT, { recursive: true, force: true })
    execFileSync('npx', ['electron-vite', 'build', '--outDir', OUT], { stdio: 'ignore' })
    await useWasmBackend()
    base = smallConvBase(32, 5)
  }, 300_000)

  afterAll(() => {
    base?.model.dispose()
    tmp.cleanup()
    rmSync(OUT, { recursive: true, force: true })
  })

  it('has every worker script a chunk starts next to that chunk', () => {
    const found: string[] = []
    for (const file of jsFiles(MAIN)) {
      for (const m of readFileSync(file, 'utf8').matchAll(
        /new URL\("(\.{1,2}\/[\w./]+Worker\.js)", import\.meta\.url\)/g
      )) {
        const target = resolve(dirname(file), m[1]!)
        expect(existsSync(target), `${m[1]} referenced by ${file}`).toBe(true)
        found.push(m[1]!)
      }
    }
    expect(new Set(found)).toEqual(new Set(['./forwardWorker.js', './decodeWorker.js']))
  })

  it('runs the built forward worker to the main thread result', async () => {
    const pixels = new Uint8Array(3 * 32 * 32 * 3).map((_, i) => (i * 37) % 251)
    const pool = await ForwardPool.create({
      workers: 1,
      model: base.model,
      preprocessing: TF_MODE_PREPROCESSING,
      output: 'pooled',
      workerUrl: pathToFileURL(join(MAIN, 'forwardWorker.js'))
    })
    try {
      const got = await pool.run(pixels, 3)
      const want = tf.tidy(() =>
        tf
          .mean(
            base.model.predict(
              applyPreprocessing(tf.tensor4d(pixels, [3, 32, 32, 3], 'int32'), TF_MODE_PREPROCESSING)
            ) as tf.Tensor,
            [1, 2]
          )
          .dataSync()
      )
      expect(got.length).toBe(want.length)
      got.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 4))
    } finally {
      await pool.close()
    }
  })

  it('runs the built decode worker to the same pixels as decoding here', async () => {
    const project = await makeProject(join(tmp.dir, 'p'), { classes: ['a', 'b'], perClass: 2, size: 40 })
    const items = project.files
      .slice(0, 3)
      .map((f, i) => ({ absPath: join(project.root, f.path), hash: `${i}`.padStart(64, 'a') }))
    const want = await new ImageCache(join(tmp.dir, 'cache-here')).loadBatch(items, 24, 'squash')
    const worker = new Worker(join(MAIN, 'decodeWorker.js'))
    try {
      const reply = await new Promise<DecodeReply>((ok, fail) => {
        worker.once('message', ok)
        worker.once('error', fail)
        const req: DecodeRequest = {
          id: 1,
          cacheDir: join(tmp.dir, 'cache-worker'),
          items,
          size: 24,
          mode: 'squash',
          concurrency: 2
        }
        worker.postMessage(req)
      })
      if ('error' in reply) throw new Error(reply.error)
      expect(Buffer.from(reply.pixels).equals(Buffer.from(want))).toBe(true)
    } finally {
      await worker.terminate()
    }
  })
})
