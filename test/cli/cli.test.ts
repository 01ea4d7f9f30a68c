// The CLI as a user runs it: a real child process on a generated project, real SQLite, real TF.js (wasm).
import { spawn } from 'node:child_process'
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeProject, tempDir, writeOddFiles } from '../helpers/synthetic'

const ROOT = resolve(__dirname, '../..')

interface Result {
  code: number | null
  stdout: string
  stderr: string
}

function cli(
  args: string[],
  opts: { onStdout?: (chunk: string, child: ReturnType<typeof spawn>) => void; env?: NodeJS.ProcessEnv } = {}
): Promise<Result> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', ...args], {
      cwd: ROOT,
      env: { ...process.env, ...opts.env }
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString()
      opts.onStdout?.(d.toString(), child)
    })
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('error', fail)
    child.on('close', (code) => done({ code, stdout, stderr }))
  })
}

function jsonLines(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((l) => l.trim().startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
}

const TRAIN = ['--base', 'mobilenet_v2_0.35_96', '--random-weights', '--batch', '8', '--lr', '0.001', '--seed', '7']

let trainedRun: { runId: number; dbPath: string } | undefined

describe('tunelab CLI', () => {
  const tmp = tempDir('tunelab-cli-')
  const project = join(tmp.dir, 'photos été')
  beforeAll(async () => {
    await makeProject(project, {
      layout: 'presplit',
      classes: ['cats', 'dogs'],
      perClass: { train: 10, val: 4, test: 3 },
      size: 40,
      formats: ['jpg', 'png']
    })
    await writeOddFiles(join(project, 'train', 'cats'))
  })
  afterAll(() => tmp.cleanup())

  it('scan --json reports layout, counts and every unreadable file', async () => {
    const r = await cli(['scan', project, '--json'])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const [out] = jsonLines(r.stdout)
    expect(out?.layout).toBe('presplit')
    expect(out?.folderSplits).toEqual(['train', 'validation', 'test'])
    const classes = out?.classes as { name: string; counts: Record<string, number> }[]
    expect(classes.map((c) => c.name)).toEqual(['cats', 'dogs'])
    expect(classes[1]?.counts).toEqual({ train: 10, validation: 4, test: 3 })
    expect(classes[0]?.counts.train).toBeGreaterThan(10)
    const unreadable = out?.unreadable as { path: string; reason: string }[]
    expect(unreadable.length).toBeGreaterThanOrEqual(3)
    for (const u of unreadable) {
      expect(u.path.startsWith('train/cats/')).toBe(true)
      expect(u.reason.length).toBeGreaterThan(3)
    }
  })

  it('human output names the classes and the unreadable files', async () => {
    const r = await cli(['scan', project])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/pre-split \(train, validation, test\)/)
    expect(r.stdout).toMatch(/unreadable file\(s\), left out/)
  })

  it('errors: one clear line and a non-zero exit', async () => {
    const missing = await cli(['scan', join(tmp.dir, 'nope')])
    expect(missing.code).toBe(1)
    expect(missing.stderr.trim().split('\n')).toHaveLength(1)
    expect(missing.stderr).toContain('nope')

    const single = join(tmp.dir, 'single')
    await makeProject(single, { classes: ['only'], perClass: 3 })
    const one = await cli(['scan', single])
    expect(one.code).toBe(1)
    expect(one.stderr).toMatch(/only one class|one class/i)

    const badRatios = await cli(['split', project, '--ratios', '0.5,0.5,0.5'])
    expect(badRatios.code).toBe(2)
    expect(badRatios.stderr).toContain('--ratios')

    const unknown = await cli(['train', project, '--epoch', '3'])
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toContain('--epoch')

    const badBase = await cli(['train', project, '--base', 'mobilenet_v9_1.0_224'])
    expect(badBase.code).toBe(2)
    expect(badBase.stderr).toContain('--base')
  })

  it('split stores the assignment and prints counts per class and split', async () => {
    const r = await cli(['split', project, '--use-folder-split', '--test-from-val', '0.5', '--json'])
    expect(r.code).toBe(0)
    const [out] = jsonLines(r.stdout)
    const counts = out?.counts as Record<string, Record<string, number>>
    expect(counts.dogs).toEqual({ train: 10, validation: 2, test: 5 })
    const db = new Database(out?.dbPath as string, { readonly: true })
    const n = db.prepare("SELECT count(*) AS n FROM images WHERE split = 'test' AND class_name = 'dogs'").get() as {
      n: number
    }
    db.close()
    expect(n.n).toBe(5)
  })

  it('train --json streams events, stores every epoch and predictions, and ends with a done line', async () => {
    const r = await cli(['train', project, ...TRAIN, '--use-folder-split', '--epochs', '3', '--json'])
    expect(r.code, r.stderr).toBe(0)
    const events = jsonLines(r.stdout)
    const done = events.at(-1) as {
      event: string
      runId: number
      dbPath: string
      backend: string
      seconds: Record<string, number>
      metrics: Record<string, { accuracy: number }>
    }
    expect(done.event).toBe('done')
    expect(done.backend).toBe('wasm')
    expect(Object.keys(done.metrics).sort()).toEqual(['test', 'val'])
    expect(events.filter((e) => e.event === 'epoch')).toHaveLength(3)

    const db = new Database(done.dbPath, { readonly: true })
    const run = db.prepare('SELECT status FROM runs WHERE id = ?').get(done.runId) as { status: string }
    const epochs = db.prepare('SELECT epoch FROM epochs WHERE run_id = ? ORDER BY epoch').all(done.runId) as {
      epoch: number
    }[]
    const test = db
      .prepare(
        "SELECT avg(predicted_class = true_class) AS acc, count(*) AS n FROM predictions WHERE run_id = ? AND split = 'test'"
      )
      .get(done.runId) as { acc: number; n: number }
    db.close()
    expect(run.status).toBe('completed')
    expect(epochs.map((e) => e.epoch)).toEqual([1, 2, 3])
    expect(test.n).toBe(6)
    expect(done.metrics.test?.accuracy).toBeCloseTo(test.acc, 6)

    const runs = await cli(['runs', project, '--json'])
    const listed = (jsonLines(runs.stdout)[0]?.runs ?? []) as { id: number; status: string }[]
    expect(listed.find((x) => x.id === done.runId)?.status).toBe('completed')

    const an = await cli(['analyze', project, '--run', String(done.runId), '--top', '2', '--json'])
    expect(an.code, an.stderr).toBe(0)
    const splits = jsonLines(an.stdout)[0]?.splits as { split: string; metrics: { accuracy: number } }[]
    expect(splits.map((s) => s.split)).toEqual(['validation', 'test'])
    expect(splits[1]?.metrics.accuracy).toBeCloseTo(test.acc, 6)
    trainedRun = done
  })

  it('predict gives the stored test predictions again (same preprocessing); export writes a loadable model', async () => {
    expect(trainedRun).toBeDefined()
    const { runId, dbPath } = trainedRun as { runId: number; dbPath: string }
    const db = new Database(dbPath, { readonly: true })
    const stored = db
      .prepare(
        "SELECT i.rel_path AS path, p.probabilities AS probs FROM predictions p JOIN images i ON i.id = p.image_id WHERE p.run_id = ? AND p.split = 'test' ORDER BY i.rel_path LIMIT 3"
      )
      .all(runId) as { path: string; probs: string }[]
    db.close()
    expect(stored.length).toBe(3)
    const r = await cli([
      'predict',
      project,
      '--run',
      String(runId),
      ...stored.map((x) => join(project, x.path)),
      '--json'
    ])
    expect(r.code, r.stderr).toBe(0)
    const preds = jsonLines(r.stdout).filter((e) => e.event === 'prediction') as {
      path: string
      probabilities: Record<string, number>
    }[]
    expect(preds).toHaveLength(3)
    for (const [i, x] of stored.entries()) {
      const want = JSON.parse(x.probs) as number[]
      expect(preds[i]?.probabilities.dogs).toBeCloseTo(want[1] ?? -1, 4)
    }

    const csv = join(tmp.dir, 'out.csv')
    const folder = await cli([
      'predict',
      project,
      '--run',
      String(runId),
      join(project, 'test'),
      '--csv',
      csv,
      '--json'
    ])
    expect(folder.code, folder.stderr).toBe(0)
    const line = jsonLines(folder.stdout).find((e) => e.event === 'folder') as { predicted: number; csvPath: string }
    expect(line.predicted).toBe(6)
    expect(readFileSync(csv, 'utf8').split(/\r?\n/).filter(Boolean)).toHaveLength(7)

    const out = join(tmp.dir, 'exported')
    const ex = await cli(['export', project, '--run', String(runId), '--out', out, '--json'])
    expect(ex.code, ex.stderr).toBe(0)
    expect(JSON.parse(readFileSync(join(out, 'tunelab.json'), 'utf8')).classes).toEqual(['cats', 'dogs'])
    const again = await cli(['export', project, '--run', String(runId), '--out', out])
    expect(again.code).toBe(2)
    expect(again.stderr).toContain('--force')
  })

  it('after fine-tuning, the stored evaluation (worker pool, BN folded) matches predict on files (whole model)', async () => {
    const r = await cli([
      'train',
      project,
      ...TRAIN,
      '--epochs',
      '1',
      '--fine-tune-at',
      '100',
      '--fine-tune-epochs',
      '1',
      '--json'
    ])
    expect(r.code, r.stderr).toBe(0)
    const events = jsonLines(r.stdout)
    const done = events.at(-1) as { runId: number; dbPath: string }
    expect(events.filter((e) => e.event === 'epoch').map((e) => e.phase)).toEqual(['head', 'fine-tune'])
    const db = new Database(done.dbPath, { readonly: true })
    const stored = db
      .prepare(
        "SELECT i.rel_path AS path, p.probabilities AS probs FROM predictions p JOIN images i ON i.id = p.image_id WHERE p.run_id = ? AND p.split = 'validation' ORDER BY i.rel_path LIMIT 4"
      )
      .all(done.runId) as { path: string; probs: string }[]
    db.close()
    expect(stored.length).toBe(4)
    const pr = await cli([
      'predict',
      project,
      '--run',
      String(done.runId),
      ...stored.map((x) => join(project, x.path)),
      '--json'
    ])
    expect(pr.code, pr.stderr).toBe(0)
    const preds = jsonLines(pr.stdout).filter((e) => e.event === 'prediction') as {
      probabilities: Record<string, number>
    }[]
    for (const [i, x] of stored.entries()) {
      const want = JSON.parse(x.probs) as number[]
      expect((want[0] ?? 0) + (want[1] ?? 0)).toBeCloseTo(1, 5)
      expect(preds[i]?.probabilities.cats).toBeCloseTo(want[0] ?? -1, 4)
      expect(preds[i]?.probabilities.dogs).toBeCloseTo(want[1] ?? -1, 4)
    }
  })

  it('Ctrl-C cancels cleanly: the run is stored as cancelled with its finished epochs', async () => {
    let sent = false
    const r = await cli(['train', project, ...TRAIN, '--augment', 'flip', '--epochs', '500', '--json'], {
      onStdout: (chunk, child) => {
        if (!sent && chunk.includes('"event":"epoch"')) {
          sent = true
          child.kill('SIGINT')
        }
      }
    })
    expect(sent).toBe(true)
    expect(r.code, r.stderr).toBe(130)
    const created = jsonLines(r.stdout).find((e) => e.event === 'run-created') as { runId: number; dbPath: string }
    const db = new Database(created.dbPath, { readonly: true })
    const run = db.prepare('SELECT status FROM runs WHERE id = ?').get(created.runId) as { status: string }
    const n = db.prepare('SELECT count(*) AS n FROM epochs WHERE run_id = ?').get(created.runId) as { n: number }
    db.close()
    expect(run.status).toBe('cancelled')
    expect(n.n).toBeGreaterThanOrEqual(1)
    expect(n.n).toBeLessThan(500)
  }, 300_000) // a process start, a cold augmented epoch and the cancel: ~60 s on 2 busy cores

  it('keeps state outside a read-only project folder', async () => {
    const ro = join(tmp.dir, 'readonly')
    await makeProject(ro, { perClass: 3 })
    mkdirSync(join(tmp.dir, 'data'), { recursive: true })
    writeFileSync(join(tmp.dir, 'data', '.keep'), '')
    chmodSync(ro, 0o555)
    try {
      const r = await cli(['scan', ro, '--json'], { env: { TUNELAB_DATA_DIR: join(tmp.dir, 'data') } })
      expect(r.code, r.stderr).toBe(0)
      expect(jsonLines(r.stdout)[0]?.dbPath).toContain(join(tmp.dir, 'data', 'projects'))
    } finally {
      chmodSync(ro, 0o755)
    }
  })
})
