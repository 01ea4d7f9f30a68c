// relabel / overrides / train / diff / apply-labels as a user runs them: the CLI as a child process on a
// generated project, real SQLite, real TF.js. A training after overrides uses them and records them.
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeProject, tempDir } from '../helpers/synthetic'
import { treeHash } from '@test/helpers/treeHash'

const ROOT = resolve(__dirname, '../..')
const TRAIN = [
  '--base',
  'mobilenet_v2_0.35_96',
  '--random-weights',
  '--batch',
  '8',
  '--lr',
  '0.001',
  '--seed',
  '7',
  '--epochs',
  '2',
  '--json'
]

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', ...args], { cwd: ROOT })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('error', fail)
    child.on('close', (code) => done({ code, stdout, stderr }))
  })
}

function lastJson<T>(text: string): T {
  const lines = text.split('\n').filter((l) => l.trim().startsWith('{'))
  return JSON.parse(lines.at(-1) ?? 'null') as T
}

interface Done {
  runId: number
  dbPath: string
}

describe('label overrides from the CLI', () => {
  const tmp = tempDir('tunelab-labels-cli-')
  const project = join(tmp.dir, 'pets')
  let first: Done
  let second: Done

  beforeAll(async () => {
    await makeProject(project, {
      layout: 'presplit',
      classes: ['cats', 'dogs'],
      perClass: { train: 8, validation: 4, test: 4 },
      size: 32
    })
  })
  afterAll(() => tmp.cleanup())

  it('trains, relabels one validation image and one training image, excludes another, lists them', async () => {
    const r = await cli(['train', project, ...TRAIN, '--use-folder-split'])
    expect(r.code, r.stderr).toBe(0)
    first = lastJson<Done>(r.stdout)

    const bad = await cli(['relabel', project, 'validation/cats/cats.validation.0.jpg', '--to', 'birds'])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toContain("'birds' is not a class of this project (classes: cats, dogs)")
    const none = await cli(['relabel', project, 'validation/cats/cats.validation.0.jpg'])
    expect(none.code).toBe(2)

    expect(
      (
        await cli([
          'relabel',
          project,
          join(project, 'validation/cats/cats.validation.0.jpg'),
          'train/cats/cats.train.1.jpg',
          '--to',
          'dogs',
          '--note',
          'looks like a dog'
        ])
      ).code
    ).toBe(0)
    const ex = await cli(['relabel', project, 'validation/dogs/dogs.validation.1.jpg', '--exclude', '--json'])
    expect(ex.code, ex.stderr).toBe(0)
    const listed = lastJson<{
      counts: { relabelled: number; excluded: number }
      overrides: { relPath: string; newClass: string | null; excluded: boolean; note: string | null }[]
    }>((await cli(['overrides', project, '--json'])).stdout)
    expect(listed.counts).toEqual({ relabelled: 2, excluded: 1 })
    expect(listed.overrides.map((o) => [o.relPath, o.newClass, o.excluded, o.note])).toEqual([
      ['train/cats/cats.train.1.jpg', 'dogs', false, 'looks like a dog'],
      ['validation/cats/cats.validation.0.jpg', 'dogs', false, 'looks like a dog'],
      ['validation/dogs/dogs.validation.1.jpg', null, true, null]
    ])
    const human = await cli(['overrides', project])
    expect(human.stdout).toMatch(/2 relabelled, 1 excluded/)
  }, 300_000)

  it('a training after the overrides uses them: counts, stored true classes, recorded overrides', async () => {
    const r = await cli(['train', project, ...TRAIN, '--evaluate-train'])
    expect(r.code, r.stderr).toBe(0)
    second = lastJson<Done>(r.stdout)
    const created = r.stdout
      .split('\n')
      .filter((l) => l.includes('"run-created"'))
      .map((l) => JSON.parse(l) as { counts: Record<string, number> })[0]
    // The stored folder split: the excluded image leaves validation, the relabelled ones stay where they were.
    expect(created?.counts).toEqual({ train: 16, validation: 7, test: 8 })
    const db = new Database(second.dbPath, { readonly: true })
    const truth = (run: number, path: string): string | undefined =>
      (
        db
          .prepare(
            'SELECT p.true_class AS t FROM predictions p JOIN images i ON i.id = p.image_id WHERE p.run_id = ? AND i.rel_path = ?'
          )
          .get(run, path) as { t: string } | undefined
      )?.t
    expect(truth(first.runId, 'validation/cats/cats.validation.0.jpg')).toBe('cats')
    expect(truth(second.runId, 'validation/cats/cats.validation.0.jpg')).toBe('dogs')
    expect(truth(second.runId, 'train/cats/cats.train.1.jpg')).toBe('dogs') // --evaluate-train: train split predicted too
    expect(truth(second.runId, 'validation/dogs/dogs.validation.1.jpg')).toBeUndefined()
    const splits = db
      .prepare('SELECT split, count(*) AS n FROM predictions WHERE run_id = ? GROUP BY split ORDER BY split')
      .all(second.runId)
    expect(splits).toEqual([
      { split: 'test', n: 8 },
      { split: 'train', n: 16 },
      { split: 'validation', n: 7 }
    ])
    const used = db
      .prepare(
        'SELECT rel_path AS p, new_class AS c, excluded AS x FROM run_label_overrides WHERE run_id = ? ORDER BY rel_path'
      )
      .all(second.runId)
    expect(used).toEqual([
      { p: 'train/cats/cats.train.1.jpg', c: 'dogs', x: 0 },
      { p: 'validation/cats/cats.validation.0.jpg', c: 'dogs', x: 0 },
      { p: 'validation/dogs/dogs.validation.1.jpg', c: null, x: 1 }
    ])
    expect(db.prepare('SELECT count(*) AS n FROM run_label_overrides WHERE run_id = ?').get(first.runId)).toEqual({
      n: 0
    })
    db.close()
  }, 300_000)

  it('diff shows the relabelled and the excluded image, per-class deltas and the McNemar p-value', async () => {
    const r = await cli([
      'diff',
      project,
      '--run',
      String(first.runId),
      '--run',
      String(second.runId),
      '--split',
      'validation',
      '--json'
    ])
    expect(r.code, r.stderr).toBe(0)
    const d = lastJson<{
      common: number
      relabelled: { relPath: string; trueA: string; trueB: string }[]
      onlyA: { relPath: string; excluded: boolean }[]
      perClass: { className: string }[]
      mcnemar: { b: number; c: number; pValue: number }
    }>(r.stdout)
    expect(d.common).toBe(7)
    expect(d.relabelled.map((x) => [x.relPath, x.trueA, x.trueB])).toEqual([
      ['validation/cats/cats.validation.0.jpg', 'cats', 'dogs']
    ])
    expect(d.onlyA).toEqual([
      expect.objectContaining({ relPath: 'validation/dogs/dogs.validation.1.jpg', excluded: true })
    ])
    expect(d.perClass.map((c) => c.className)).toEqual(['cats', 'dogs'])
    expect(d.mcnemar.pValue).toBeGreaterThan(0)
    expect(d.mcnemar.pValue).toBeLessThanOrEqual(1)
    const human = await cli(['diff', project, '--run', String(first.runId), '--run', String(second.runId)])
    expect(human.stdout).toMatch(/McNemar exact test: \d+ wrong->right, \d+ right->wrong, p = /)
    expect(human.stdout).toContain('relabelled in between (1)')
    expect((await cli(['diff', project, '--run', String(first.runId)])).stderr).toContain('give two runs')
  }, 120_000)

  it('apply-labels --dry-run changes nothing, apply moves, --undo restores the tree byte for byte', async () => {
    const before = treeHash(project)
    const dry = await cli(['apply-labels', project, '--dry-run'])
    expect(dry.code, dry.stderr).toBe(0)
    expect(dry.stdout).toContain(
      'would move validation/cats/cats.validation.0.jpg  ->  validation/dogs/cats.validation.0.jpg'
    )
    expect(dry.stdout).toContain(
      'would move validation/dogs/dogs.validation.1.jpg  ->  _excluded/dogs/validation/dogs.validation.1.jpg'
    )
    expect(treeHash(project)).toBe(before)

    const applied = await cli(['apply-labels', project, '--json'])
    expect(applied.code, applied.stderr).toBe(0)
    expect(lastJson<{ moved: number }>(applied.stdout).moved).toBe(3)
    expect(existsSync(join(project, 'train/dogs/cats.train.1.jpg'))).toBe(true)
    expect(existsSync(join(project, '_excluded/dogs/validation/dogs.validation.1.jpg'))).toBe(true)
    const scan = lastJson<{ classes: { name: string; total: number }[] }>(
      (await cli(['scan', project, '--json'])).stdout
    )
    expect(scan.classes.map((c) => [c.name, c.total])).toEqual([
      ['cats', 14],
      ['dogs', 17]
    ])
    // The overrides followed their files and now say "applied".
    const listed = lastJson<{ overrides: { relPath: string; applied: boolean; imageId: number | null }[] }>(
      (await cli(['overrides', project, '--json'])).stdout
    )
    expect(listed.overrides.filter((o) => o.applied).map((o) => o.relPath)).toEqual([
      'train/dogs/cats.train.1.jpg',
      'validation/dogs/cats.validation.0.jpg'
    ])

    const undone = await cli(['apply-labels', project, '--undo'])
    expect(undone.code, undone.stderr).toBe(0)
    expect(undone.stdout).toContain('put back 3 file(s)')
    expect(treeHash(project)).toBe(before)
    expect((await cli(['apply-labels', project, '--undo'])).stderr).toContain('nothing to undo')
  }, 120_000)
})
