import { describe, expect, it } from 'vitest'
import { createRng, deriveSeed } from '@core/util/rng'
import { mapLimit } from '@core/util/pool'

describe('createRng', () => {
  it('repeats per seed, differs across seeds, stays in range', () => {
    const a = createRng(42)
    const b = createRng(42)
    const xs = Array.from({ length: 1000 }, () => a.next())
    expect(Array.from({ length: 1000 }, () => b.next())).toEqual(xs)
    expect(createRng(43).next()).not.toBe(xs[0])
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true)
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.05)
    const r = createRng(1)
    const ints = Array.from({ length: 600 }, () => r.int(6))
    expect(new Set(ints)).toEqual(new Set([0, 1, 2, 3, 4, 5]))
    const u = Array.from({ length: 100 }, () => r.uniform(-2, 3))
    expect(u.every((x) => x >= -2 && x < 3)).toBe(true)
  })

  it('shuffle is a seeded permutation', () => {
    const base = Array.from({ length: 50 }, (_, i) => i)
    const s1 = createRng(7).shuffle([...base])
    expect(createRng(7).shuffle([...base])).toEqual(s1)
    expect([...s1].sort((x, y) => x - y)).toEqual(base)
    expect(s1).not.toEqual(base)
  })

  it('deriveSeed separates labels and rejects nothing finite; createRng rejects NaN', () => {
    expect(deriveSeed(1, 'a')).not.toBe(deriveSeed(1, 'b'))
    expect(deriveSeed(1, 'a')).not.toBe(deriveSeed(2, 'a'))
    expect(deriveSeed(1, 'a')).toBe(deriveSeed(1, 'a'))
    expect(() => createRng(Number.NaN)).toThrow(/seed must be a finite number/)
  })
})

describe('mapLimit', () => {
  it('keeps order, bounds concurrency, and rethrows the first error', async () => {
    let active = 0
    let peak = 0
    const out = await mapLimit([5, 1, 4, 2, 3], 2, async (x) => {
      active++
      peak = Math.max(peak, active)
      await new Promise((r) => setTimeout(r, x))
      active--
      return x * 10
    })
    expect(out).toEqual([50, 10, 40, 20, 30])
    expect(peak).toBe(2)
    await expect(
      mapLimit([1, 2, 3], 2, async (x) => {
        if (x === 2) throw new Error('boom 2')
        return x
      })
    ).rejects.toThrow('boom 2')
  })
})
