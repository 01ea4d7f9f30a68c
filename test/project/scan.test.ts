import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { scanProject, type ScanReport } from '@core/project/scan'
import { ProjectError, type ProjectErrorCode } from '@core/project/errors'
import { decodeFull } from '@core/pipeline/decode'
import { makeProject, tempDir, writeOddFiles, type OddFile } from '../helpers/synthetic'
import { SHARED_DATA } from '@test/helpers/sharedData'

const tmp = tempDir('tunelab-scan-')
afterAll(() => tmp.cleanup())

let n = 0
function fresh(): string {
  const d = join(tmp.dir, `p${n++}`)
  mkdirSync(d, { recursive: true })
  return d
}

async function expectProjectError(
  p: Promise<unknown>,
  code: ProjectErrorCode,
  message: RegExp,
  path?: string
): Promise<void> {
  const err = await p.then(
    () => null,
    (e: unknown) => e
  )
  expect(err).toBeInstanceOf(ProjectError)
  const pe = err as ProjectError
  expect(pe.code).toBe(code)
  expect(pe.message).toMatch(message)
  if (path !== undefined) expect(pe.path).toBe(path)
}

describe('layout detection', () => {
  it('flat <class>/<images>, nested sub-folders count for their class, state folder ignored', async () => {
    const root = fresh()
    await makeProject(root, { classes: ['cats', 'dogs', 'birds'], perClass: 3 })
    await makeProject(join(root, 'dogs', 'puppies'), { classes: ['x'], perClass: 2, seed: 9 })
    await makeProject(join(root, '.tunelab'), { classes: ['cache'], perClass: 1, seed: 3 })
    writeFileSync(join(root, 'loose.jpg'), 'outside any class folder')
    const scan = await scanProject(root)
    expect(scan.skippedExamples).toEqual(['loose.jpg'])
    expect(scan.layout).toBe('flat')
    expect(scan.folderSplits).toEqual([])
    expect(scan.classes.map((c) => [c.name, c.counts.all, c.total])).toEqual([
      ['birds', 3, 3],
      ['cats', 3, 3],
      ['dogs', 5, 5]
    ])
    expect(scan.images.some((i) => i.path === 'dogs/puppies/x/x.img.0.jpg' && i.className === 'dogs')).toBe(true)
    expect(scan.images.every((i) => i.folderSplit === null && /^[0-9a-f]{64}$/.test(i.hash))).toBe(true)
    expect(scan.images.map((i) => i.path)).toEqual([...scan.images.map((i) => i.path)].sort())
    expect(scan.leakage).toEqual([])
  })

  it('pre-split with "val" maps to validation; a class missing from one split counts 0', async () => {
    const root = fresh()
    await makeProject(root, { layout: 'presplit', classes: ['a', 'b'], perClass: { train: 4, val: 2 } })
    await makeProject(join(root, 'train'), { classes: ['c'], perClass: 2, seed: 5 })
    writeFileSync(join(root, 'train', 'README.md'), 'x')
    const scan = await scanProject(root)
    expect([scan.skippedCount, scan.skippedExamples]).toEqual([1, ['train/README.md']])
    expect(scan.layout).toBe('presplit')
    expect(scan.folderSplits).toEqual(['train', 'validation'])
    expect(scan.classes).toEqual([
      { name: 'a', counts: { train: 4, validation: 2 }, total: 6 },
      { name: 'b', counts: { train: 4, validation: 2 }, total: 6 },
      { name: 'c', counts: { train: 2, validation: 0 }, total: 2 }
    ])
    const img = scan.images.find((i) => i.path === 'val/a/a.val.0.jpg')
    expect(img?.folderSplit).toBe('validation')
  })

  it('pre-split subsets: train+test, and all three with capitalised names', async () => {
    const a = fresh()
    await makeProject(a, { layout: 'presplit', perClass: { train: 2, test: 1 } })
    const sa = await scanProject(a)
    expect(sa.folderSplits).toEqual(['train', 'test'])
    expect(sa.classes[0]?.counts).toEqual({ train: 2, test: 1 })

    const b = fresh()
    await makeProject(b, { layout: 'presplit', perClass: { Train: 2, Validation: 1, TEST: 1 } })
    const sb = await scanProject(b)
    expect(sb.folderSplits).toEqual(['train', 'validation', 'test'])
    expect(sb.images.filter((i) => i.folderSplit === 'test')).toHaveLength(2)
  })

  it('a flat project whose classes happen to be called "test" and "other" stays flat', async () => {
    const root = fresh()
    await makeProject(root, { classes: ['test', 'other'], perClass: 2 })
    const scan = await scanProject(root)
    expect(scan.layout).toBe('flat')
    expect(scan.classes.map((c) => c.name)).toEqual(['other', 'test'])
  })

  it('reports identical files across folder splits as leakage, within a split as duplicates', async () => {
    const root = fresh()
    const p = await makeProject(root, { layout: 'presplit', perClass: { train: 3, validation: 2 } })
    const src = join(root, p.files[0]?.path ?? '')
    copyFileSync(src, join(root, 'validation', 'class0', 'copy-of-train.jpg'))
    copyFileSync(src, join(root, 'train', 'class1', 'same-split-copy.jpg'))
    const scan = await scanProject(root)
    expect(scan.leakage).toHaveLength(1)
    expect(scan.leakage[0]?.paths).toEqual([
      'train/class0/class0.train.0.jpg',
      'train/class1/same-split-copy.jpg',
      'validation/class0/copy-of-train.jpg'
    ])
    expect(scan.leakage[0]?.splits).toEqual(['train', 'validation'])
    expect(scan.duplicates).toEqual([])

    const flat = fresh()
    const f = await makeProject(flat, { perClass: 2 })
    copyFileSync(join(flat, f.files[0]?.path ?? ''), join(flat, 'class1', 'dup.jpg'))
    const sf = await scanProject(flat)
    expect(sf.leakage).toEqual([])
    expect(sf.duplicates.map((d) => d.paths)).toEqual([['class0/class0.img.0.jpg', 'class1/dup.jpg']])
  })
})

describe('odd files', () => {
  let root: string
  let odd: OddFile[]
  let scan: ScanReport
  beforeAll(async () => {
    root = fresh()
    await makeProject(root, { classes: ['chats_été', '狗'], perClass: 2, formats: ['png', 'jpg'] })
    odd = await writeOddFiles(join(root, 'odd'))
    let calls = 0
    let last: [number, number] = [0, 0]
    scan = await scanProject(root, {
      concurrency: 3,
      onProgress: (d, t) => {
        calls++
        last = [d, t]
      }
    })
    const candidates = odd.filter((o) => o.expect === 'image' || o.expect === 'unreadable').length + 4
    expect(last).toEqual([candidates, candidates])
    expect(calls).toBe(candidates + 1)
  })

  it('unicode class folders are read', () => {
    expect(scan.classes.map((c) => c.name)).toEqual(['chats_été', 'odd', '狗'])
    expect(scan.images.filter((i) => i.className === '狗')).toHaveLength(2)
  })

  it('every readable oddity is an image with its displayed size', () => {
    for (const o of odd.filter((f) => f.expect === 'image')) {
      const img = scan.images.find((i) => i.path === `odd/${o.name}`)
      expect(img, o.name).toBeDefined()
      expect([img?.width, img?.height], o.name).toEqual([o.width, o.height])
    }
  })

  it('decodes each readable oddity to RGB with the right orientation and colours', async () => {
    for (const o of odd.filter((f) => f.expect === 'image')) {
      const d = await decodeFull(join(root, 'odd', o.name))
      expect([d.width, d.height], o.name).toEqual([o.width, o.height])
      expect(d.data.length).toBe(d.width * d.height * 3)
      for (const [x, y, rgb] of o.probes ?? []) {
        const i = (y * d.width + x) * 3
        const got = [d.data[i], d.data[i + 1], d.data[i + 2]] as number[]
        for (let c = 0; c < 3; c++)
          expect(Math.abs((got[c] ?? 0) - rgb[c]!), `${o.name} at ${x},${y}: ${got} vs ${rgb}`).toBeLessThan(40)
      }
    }
  })

  it('lists each unreadable file once with its reason and leaves it out', () => {
    const expected = odd.filter((f) => f.expect === 'unreadable')
    expect(scan.unreadable.map((u) => u.path).sort()).toEqual(expected.map((o) => `odd/${o.name}`).sort())
    for (const o of expected) {
      const u = scan.unreadable.find((x) => x.path === `odd/${o.name}`)
      expect(u?.reason, o.name).toMatch(o.reason ?? /./)
      expect(scan.images.some((i) => i.path === u?.path)).toBe(false)
    }
  })

  it('ignores hidden files silently and counts non-image files as skipped', () => {
    expect(scan.images.some((i) => i.path.includes('/.'))).toBe(false)
    expect(scan.unreadable.some((i) => i.path.includes('/.'))).toBe(false)
    expect(scan.skippedCount).toBe(odd.filter((f) => f.expect === 'skipped').length)
    expect(scan.skippedExamples.sort()).toEqual(['odd/Thumbs.db', 'odd/notes.txt'])
  })
})

describe('errors', () => {
  it('NOT_FOUND and NOT_A_DIRECTORY name the path', async () => {
    const missing = join(tmp.dir, 'does-not-exist')
    await expectProjectError(scanProject(missing), 'NOT_FOUND', /not found/, missing)
    const file = join(fresh(), 'file.jpg')
    writeFileSync(file, 'x')
    await expectProjectError(scanProject(file), 'NOT_A_DIRECTORY', /not a folder/, file)
  })

  it('NO_CLASSES for images without class folders, or only hidden folders', async () => {
    const root = fresh()
    writeFileSync(join(root, 'loose.jpg'), 'x')
    mkdirSync(join(root, '.git'))
    await expectProjectError(scanProject(root), 'NO_CLASSES', /no class folders/, root)
  })

  it('ONE_CLASS', async () => {
    const root = fresh()
    await makeProject(root, { classes: ['only'], perClass: 2 })
    await expectProjectError(scanProject(root), 'ONE_CLASS', /only one class \("only"\)/, root)
  })

  it('EMPTY_CLASS names the class and why its files failed', async () => {
    const root = fresh()
    await makeProject(root, { classes: ['good', 'other'], perClass: 2 })
    mkdirSync(join(root, 'bad'))
    writeFileSync(join(root, 'bad', 'broken.jpg'), 'garbage')
    writeFileSync(join(root, 'bad', 'readme.txt'), 'hi')
    await expectProjectError(
      scanProject(root),
      'EMPTY_CLASS',
      /class "bad" has no readable images.*bad\/broken\.jpg: not a recognised image/,
      join(root, 'bad')
    )
  })

  it('MIXED_LAYOUT for split folders next to class folders, and for val + validation', async () => {
    const root = fresh()
    await makeProject(root, { layout: 'presplit', perClass: { train: 1 } })
    await makeProject(root, { classes: ['stray'], perClass: 1 })
    await expectProjectError(
      scanProject(root),
      'MIXED_LAYOUT',
      /mixes split folders \(train\) with other folders \(stray\)/
    )
    const both = fresh()
    await makeProject(both, { layout: 'presplit', perClass: { train: 1, val: 1, validation: 1 } })
    await expectProjectError(scanProject(both), 'MIXED_LAYOUT', /both "val" and "validation"/)
  })
})

const REAL = join(SHARED_DATA, 'cats_and_dogs_filtered')
describe.skipIf(!existsSync(REAL))(
  'real data: cats_and_dogs_filtered (skipped when /work/shared/data is absent)',
  () => {
    it('is pre-split, 2 classes, 1000/1000 train, 500/500 validation, nothing unreadable', async () => {
      const scan = await scanProject(REAL)
      expect(scan.layout).toBe('presplit')
      expect(scan.folderSplits).toEqual(['train', 'validation'])
      expect(scan.classes).toEqual([
        { name: 'cats', counts: { train: 1000, validation: 500 }, total: 1500 },
        { name: 'dogs', counts: { train: 1000, validation: 500 }, total: 1500 }
      ])
      expect(scan.unreadable).toEqual([])
      expect(scan.images).toHaveLength(3000)
      expect(scan.images.every((i) => i.width > 0 && i.height > 0)).toBe(true)
    })
  }
)
