// exportRun on a real (small) trained run: every format, the checks, the card, and the destination rules:
// a second export needs force, a user's folder is never replaced, cancelled / read-only / full exports leave nothing.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { compareProbabilities } from '@core/export/check'
import { ExportDestinationError } from '@core/export/destination'
import { exportRun, type ExportProgress } from '@core/export/exportRun'
import { loadExportedModel } from '@core/export'
import { openProjectState, type ProjectState } from '@core/store/projectState'
import { tempDir } from '../helpers/synthetic'
import { exportableProject } from '@test/helpers/exportFixtures'

const tmp = tempDir('tunelab-export-run-')
const project = join(tmp.dir, 'pets')
let state: ProjectState
let runId: number

/** A tmpfs mount (root only): null when this machine cannot mount, and the test says so. */
function mountTmpfs(dir: string, options: string): boolean {
  mkdirSync(dir, { recursive: true })
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

function unmount(dir: string): void {
  try {
    execFileSync('umount', [dir], { stdio: 'ignore' })
  } catch {
    // not mounted
  }
}

beforeAll(async () => {
  runId = await exportableProject(project, {
    classes: ['cats', 'dogs'],
    size: 40,
    formats: ['jpg', 'png'],
    resizeMode: 'center-crop',
    seed: 3
  })
  state = openProjectState(project)
}, 300_000)

afterAll(() => {
  state?.store.close()
  tmp.cleanup()
})

describe('exportRun', () => {
  it('writes TF.js + web page + ONNX, checks both against TuneLab on the test images, and documents it', async () => {
    const out = join(tmp.dir, 'export-all')
    const stages: string[] = []
    const r = await exportRun(state, runId, { out, formats: ['tfjs', 'onnx'], onProgress: (p) => stages.push(p.stage) })
    expect(readdirSync(out).sort()).toEqual([
      'README.md',
      'index.html',
      'model.json',
      'model.onnx',
      'page.js',
      'tf.min.js',
      'tunelab.json',
      'weights.bin'
    ])
    expect(r.checks.map((c) => [c.format, c.images, c.passed])).toEqual([
      ['tfjs', 6, true],
      ['onnx', 6, true]
    ])
    for (const c of r.checks) expect(c.maxAbsDiff).toBeLessThanOrEqual(1e-4)
    // TuneLab's predict today gives what the run stored when it evaluated these images.
    expect(r.storedPredictions?.images).toBe(6)
    expect(r.storedPredictions?.maxAbsDiff).toBeLessThan(1e-4)
    expect(stages).toEqual(
      expect.arrayContaining(['decode', 'reference', 'tfjs-check', 'page', 'onnx-check', 'commit'])
    )
    const meta = JSON.parse(readFileSync(join(out, 'tunelab.json'), 'utf8')) as Record<string, unknown> & {
      imagePipeline: { resize: { call: string } }
      checks: unknown[]
    }
    expect(meta.imagePipeline.resize.call).toContain("fit: 'cover'")
    expect(meta.checks).toHaveLength(2)
    const card = readFileSync(join(out, 'README.md'), 'utf8')
    for (const s of [
      '`cats`',
      '`dogs`',
      'center-crop',
      'onnxruntime',
      'onnxruntime-web',
      'tf.loadLayersModel',
      'python3 -m http.server',
      'Confidence threshold: 0.75',
      r.checks[1]!.maxAbsDiff.toExponential(2)
    ])
      expect(card).toContain(s)
    // The TF.js part is still an export TuneLab itself reads back.
    const loaded = await loadExportedModel(out)
    expect(loaded.meta.classes).toEqual(['cats', 'dogs'])
    loaded.model.dispose()
  }, 300_000)

  it('an ONNX-only export holds the ONNX file, tunelab.json and the card', async () => {
    const out = join(tmp.dir, 'export-onnx')
    const r = await exportRun(state, runId, { out, formats: ['onnx'] })
    expect(readdirSync(out).sort()).toEqual(['README.md', 'model.onnx', 'tunelab.json'])
    expect(r.checks.map((c) => c.format)).toEqual(['onnx'])
  }, 300_000)

  it('a second export to the same folder needs force; a folder of other files is never replaced', async () => {
    const out = join(tmp.dir, 'export-twice')
    await exportRun(state, runId, { out, formats: ['onnx'] })
    await expect(exportRun(state, runId, { out, formats: ['onnx'] })).rejects.toThrow(
      /already holds an export; to replace it, tick "Replace an earlier export" \(the CLI: --force\)/
    )
    writeFileSync(join(out, 'stale.txt'), 'left by an earlier export')
    await exportRun(state, runId, { out, formats: ['tfjs'], force: true })
    expect(existsSync(join(out, 'model.onnx'))).toBe(false)
    expect(existsSync(join(out, 'stale.txt'))).toBe(false)
    expect(existsSync(join(out, 'model.json'))).toBe(true)

    const mine = join(tmp.dir, 'my-photos')
    mkdirSync(mine)
    writeFileSync(join(mine, 'holiday.jpg'), 'x')
    const err = await exportRun(state, runId, { out: mine, formats: ['onnx'], force: true }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ExportDestinationError)
    expect((err as Error).message).toContain('not empty and holds no TuneLab export')
    expect(readdirSync(mine)).toEqual(['holiday.jpg'])
  }, 300_000)

  it('a cancelled export leaves nothing behind', async () => {
    const parent = join(tmp.dir, 'cancel')
    mkdirSync(parent)
    const controller = new AbortController()
    const onProgress = (p: ExportProgress): void => {
      if (p.stage === 'tfjs') controller.abort()
    }
    await expect(
      exportRun(state, runId, {
        out: join(parent, 'out'),
        formats: ['tfjs', 'onnx'],
        signal: controller.signal,
        onProgress
      })
    ).rejects.toThrow(/cancelled/)
    expect(readdirSync(parent)).toEqual([])
  }, 300_000)

  it('a full or read-only destination fails with a clear error and leaves no half-written files', async (ctx) => {
    const full = join(tmp.dir, 'full')
    const ro = join(tmp.dir, 'readonly')
    if (!mountTmpfs(full, 'size=256k'))
      return ctx.skip('cannot mount a small tmpfs here (needs root): full-disk case not run')
    try {
      const err = await exportRun(state, runId, { out: join(full, 'out'), formats: ['tfjs', 'onnx'] }).catch(
        (e: unknown) => e as Error
      )
      expect(String(err)).toMatch(/no space left on the device \(disk full\); nothing was written/)
      expect(readdirSync(full)).toEqual([])
    } finally {
      unmount(full)
    }
    if (!mountTmpfs(ro, 'size=1m,ro')) return ctx.skip('cannot mount a read-only tmpfs here')
    try {
      const err = await exportRun(state, runId, { out: join(ro, 'out'), formats: ['onnx'] }).catch(
        (e: unknown) => e as Error
      )
      expect(err).toBeInstanceOf(ExportDestinationError)
      expect(String(err)).toMatch(/read-only/)
      expect(readdirSync(ro)).toEqual([])
    } finally {
      unmount(ro)
      rmSync(ro, { recursive: true, force: true })
    }
  }, 300_000)

  it('compares probabilities by max abs difference and argmax agreement', () => {
    const ref = Float32Array.from([0.9, 0.1, 0.4, 0.6])
    expect(compareProbabilities(ref, Float32Array.from([0.9, 0.1, 0.4, 0.6]), 2)).toEqual({
      maxAbsDiff: 0,
      agreement: 1
    })
    const off = compareProbabilities(ref, Float32Array.from([0.9, 0.1, 0.6, 0.4]), 2)
    expect(off.agreement).toBe(0.5)
    expect(off.maxAbsDiff).toBeCloseTo(0.2, 6)
    expect(compareProbabilities(ref, Float32Array.from([NaN, 0.1, 0.4, 0.6]), 2).maxAbsDiff).toBe(Infinity)
  })
})
