import { describe, expect, it } from 'vitest'
import type { ScannedImage, SplitName, SplitStrategy } from '@shared/domain'
import { assignSplits, countBySplit, findLeakage, parseRatios, splitCounts } from '@core/project/split'
import { ProjectError } from '@core/project/errors'
import { createRng } from '@core/util/rng'

function img(path: string, className: string, folderSplit: SplitName | null = null, hash?: string): ScannedImage {
  return { path, className, folderSplit, hash: hash ?? `h:${path}`, width: 10, height: 10, bytes: 100 }
}

function flat(counts: Record<string, number>): ScannedImage[] {
  const out: ScannedImage[] = []
  for (const [cls, n] of Object.entries(counts)) for (let i = 0; i < n; i++) out.push(img(`${cls}/${i}.jpg`, cls))
  return out
}

const RATIOS = (seed: number, ratios: [number, number, number] = [0.8, 0.1, 0.1]): SplitStrategy => ({
  kind: 'ratios',
  ratios,
  seed
})

describe('ratios split', () => {
  it('is stratified per class with the documented rounding', () => {
    const images = flat({ a: 100, b: 37, c: 5, d: 1, e: 2 })
    const counts = countBySplit(images, assignSplits(images, RATIOS(7)))
    expect(counts).toEqual({
      a: { train: 80, validation: 10, test: 10 },
      b: { train: 29, validation: 4, test: 4 },
      c: { train: 3, validation: 1, test: 1 },
      d: { train: 1, validation: 0, test: 0 },
      e: { train: 2, validation: 0, test: 0 }
    })
  })

  it('keeps at least one train image per class when the train ratio is positive', () => {
    expect(splitCounts(2, [0.1, 0.45, 0.45])).toEqual({ train: 1, validation: 0, test: 1 })
    expect(splitCounts(3, [0.2, 0.4, 0.4])).toEqual({ train: 1, validation: 1, test: 1 })
    expect(splitCounts(1, [0.1, 0.45, 0.45])).toEqual({ train: 1, validation: 0, test: 0 })
    expect(splitCounts(1, [0.1, 0.3, 0.6])).toEqual({ train: 0, validation: 0, test: 1 })
    expect(splitCounts(4, [0, 0.5, 0.5])).toEqual({ train: 0, validation: 2, test: 2 })
    expect(splitCounts(0, [0.8, 0.1, 0.1])).toEqual({ train: 0, validation: 0, test: 0 })
  })

  it('is deterministic and independent of listing order', () => {
    const images = flat({ cat: 50, dog: 40 })
    const a = assignSplits(images, RATIOS(42))
    const shuffled = createRng(3).shuffle([...images])
    const b = assignSplits(shuffled, RATIOS(42))
    expect([...b.entries()].sort()).toEqual([...a.entries()].sort())
    expect(a.size).toBe(90)
  })

  it('different seeds give different assignments; a class does not change when another class is added', () => {
    const images = flat({ cat: 50, dog: 40 })
    const a = assignSplits(images, RATIOS(1))
    const b = assignSplits(images, RATIOS(2))
    const differ = images.filter((i) => a.get(i.path) !== b.get(i.path)).length
    expect(differ).toBeGreaterThan(4)
    const more = assignSplits([...images, ...flat({ zebra: 10 })], RATIOS(1))
    for (const i of images) expect(more.get(i.path)).toBe(a.get(i.path))
  })

  it('keeps identical files of a class in one split', () => {
    const images = flat({ cat: 30, dog: 30 })
    for (let k = 0; k < 10; k++) images.push(img(`cat/copy${k}.jpg`, 'cat', null, `h:cat/${k}.jpg`))
    for (const seed of [1, 2, 3, 4, 5]) {
      const a = assignSplits(images, RATIOS(seed, [0.5, 0.25, 0.25]))
      expect(findLeakage(images, a)).toEqual([])
    }
  })
})

describe('folder split', () => {
  const pre = [
    ...Array.from({ length: 20 }, (_, i) => img(`train/cat/${i}.jpg`, 'cat', 'train')),
    ...Array.from({ length: 20 }, (_, i) => img(`train/dog/${i}.jpg`, 'dog', 'train')),
    ...Array.from({ length: 10 }, (_, i) => img(`val/cat/${i}.jpg`, 'cat', 'validation')),
    ...Array.from({ length: 15 }, (_, i) => img(`val/dog/${i}.jpg`, 'dog', 'validation'))
  ]

  it('uses the folders as they are', () => {
    const a = assignSplits(pre, { kind: 'folder', testFromVal: 0, seed: 1 })
    for (const i of pre) expect(a.get(i.path)).toBe(i.folderSplit)
  })

  it('moves a stratified, seeded fraction of validation to test', () => {
    const s: SplitStrategy = { kind: 'folder', testFromVal: 0.2, seed: 9 }
    const a = assignSplits(pre, s)
    expect(countBySplit(pre, a)).toEqual({
      cat: { train: 20, validation: 8, test: 2 },
      dog: { train: 20, validation: 12, test: 3 }
    })
    for (const i of pre.filter((p) => p.folderSplit === 'train')) expect(a.get(i.path)).toBe('train')
    expect([...assignSplits([...pre].reverse(), s).entries()].sort()).toEqual([...a.entries()].sort())
    const other = assignSplits(pre, { ...s, seed: 10 })
    expect(pre.some((i) => other.get(i.path) !== a.get(i.path))).toBe(true)
  })

  it('rejects a flat project and a bad fraction', () => {
    expect(() => assignSplits(flat({ a: 2, b: 2 }), { kind: 'folder', testFromVal: 0, seed: 1 })).toThrow(
      /a\/0\.jpg is not inside a train\/validation\/test folder/
    )
    expect(() => assignSplits(pre, { kind: 'folder', testFromVal: 1.5, seed: 1 })).toThrow(
      /testFromVal must be a fraction in \[0, 1\], got 1.5/
    )
  })
})

describe('ratios parsing', () => {
  it('accepts several separators', () => {
    expect(parseRatios('0.8,0.1,0.1')).toEqual([0.8, 0.1, 0.1])
    expect(parseRatios(' 0.7 / 0.2 / 0.1 ')).toEqual([0.7, 0.2, 0.1])
    expect(parseRatios('1 0 0')).toEqual([1, 0, 0])
  })

  it.each([
    ['0.8,0.2', /need 3 numbers/],
    ['0.8,0.1,0.2', /must sum to 1, got 0.8\+0.1\+0.2 = 1.1/],
    ['80,10,10', /percentages\? use 0.8,0.1,0.1/],
    ['0.9,-0.1,0.2', /"-0.1" .* is not a number|non-negative/],
    ['0.8,abc,0.1', /"abc" in split ratios "0.8,abc,0.1" is not a number/]
  ])('rejects %s', (text, message) => {
    let err: unknown
    try {
      parseRatios(text)
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(ProjectError)
    expect((err as ProjectError).code).toBe('BAD_RATIOS')
    expect((err as ProjectError).message).toMatch(message)
  })

  it('assignSplits validates ratios too', () => {
    expect(() => assignSplits(flat({ a: 2 }), RATIOS(1, [0.5, 0.5, 0.5]))).toThrow(/must sum to 1/)
  })
})

describe('leakage for assigned splits', () => {
  it('groups identical files that land in different splits', () => {
    const images = [
      img('a/1.jpg', 'a', null, 'X'),
      img('b/2.jpg', 'b', null, 'X'),
      img('a/3.jpg', 'a', null, 'Y'),
      img('a/4.jpg', 'a', null, 'Y'),
      img('a/5.jpg', 'a', null, 'Z')
    ]
    const assignment = new Map<string, SplitName>([
      ['a/1.jpg', 'test'],
      ['b/2.jpg', 'train'],
      ['a/3.jpg', 'train'],
      ['a/4.jpg', 'train'],
      ['a/5.jpg', 'validation']
    ])
    expect(findLeakage(images, assignment)).toEqual([
      { hash: 'X', paths: ['a/1.jpg', 'b/2.jpg'], splits: ['train', 'test'] }
    ])
  })
})
