// `lr-find` as a user runs it: a child process on a generated project, real TF.js; Ctrl-C cancels it like train.
import { spawn } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildBase } from '@core/models'
import { writeLayersModel } from '@core/export/fsModelIO'
import { makeProject, tempDir } from '@test/helpers/synthetic'

const ROOT = resolve(__dirname, '../..')

function cli(
  args: string[],
  onStdout?: (chunk: string, child: ReturnType<typeof spawn>) => void
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', ...args], { cwd: ROOT })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString()
      onStdout?.(d.toString(), child)
    })
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('error', fail)
    child.on('close', (code) => done({ code, stdout, stderr }))
  })
}

const lines = (text: string): Record<string, unknown>[] =>
  text
    .split('\n')
    .filter((l) => l.trim().startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)

const BASE_ID = 'mobilenet_v2_0.35_96'

describe('tunelab lr-find', () => {
  const tmp = tempDir('tunelab-lrfind-cli-')
  const project = join(tmp.dir, 'photos')
  // Fixed (random) weights in a TF.js layers folder: the same base in every process, so the feature cache applies.
  const weights = join(tmp.dir, 'weights')
  const BASE = ['--base', BASE_ID, '--weights', weights, '--batch', '8', '--seed', '7']
  beforeAll(async () => {
    mkdirSync(weights, { recursive: true })
    await writeLayersModel(buildBase(BASE_ID).model, weights)
    await makeProject(project, {
      layout: 'presplit',
      classes: ['cats', 'dogs', 'owls'],
      perClass: { train: 8, val: 3, test: 2 },
      size: 40,
      formats: ['jpg']
    })
  })
  afterAll(() => tmp.cleanup())

  it('prints the curve and the suggestion; --json ends with the result; the features come from the phase-1 cache', async () => {
    const r = await cli(['lr-find', project, ...BASE, '--use-folder-split', '--steps', '60', '--json'])
    expect(r.code, r.stderr).toBe(0)
    const out = lines(r.stdout)
    const done = out.at(-1) as {
      event: string
      suggestion: { lr: number; method: string }
      points: { lr: number; loss: number }[]
      trainImages: number
      featuresFromDisk: number
      classes: string[]
    }
    expect(done.event).toBe('done')
    expect(done.classes).toEqual(['cats', 'dogs', 'owls'])
    expect(done.trainImages).toBe(24)
    expect(done.suggestion.method).toBe('valley')
    expect(done.suggestion.lr).toBeGreaterThan(1e-7)
    expect(done.suggestion.lr).toBeLessThan(10)
    expect(done.points.length).toBeGreaterThan(10)
    expect(done.points.length).toBeLessThanOrEqual(60)
    expect(out.filter((e) => e.event === 'lr-find-progress').length).toBe(done.points.length)

    // A training run afterwards reads every training feature from the cache the range test filled, and the human
    // output of a second range test says so.
    const train = await cli(['train', project, ...BASE, '--epochs', '1', '--json'])
    expect(train.code, train.stderr).toBe(0)
    const again = await cli(['lr-find', project, ...BASE, '--steps', '30'])
    expect(again.code, again.stderr).toBe(0)
    expect(again.stdout).toMatch(/24 training images \(24 features from the cache\)/)
    expect(again.stdout).toMatch(/suggested learning rate \(valley\): \d\.\d\de[-+]\d+ {2}-> train --lr /)
    expect(again.stderr).toMatch(/range test .*30\/30/)
  })

  it('Ctrl-C cancels the range test (exit 130, a cancelled event)', async () => {
    let sent = false
    const r = await cli(
      ['lr-find', project, ...BASE, '--steps', '10000', '--end-lr', '1e-3', '--json'],
      (chunk, child) => {
        if (!sent && chunk.includes('"event":"lr-find-progress"')) {
          sent = true
          child.kill('SIGINT')
        }
      }
    )
    expect(sent).toBe(true)
    expect(r.code, r.stderr).toBe(130)
    expect(lines(r.stdout).at(-1)).toEqual({ event: 'cancelled' })
  })

  it('refuses a bad range with a usage error', async () => {
    const r = await cli(['lr-find', project, '--start-lr', '1', '--end-lr', '0.1'])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/--end-lr must be above --start-lr/)
  })
})
