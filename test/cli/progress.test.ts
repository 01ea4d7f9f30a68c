import { describe, expect, it } from 'vitest'
import { formatSeconds } from '@cli/progress'
import { table } from '@cli/format'

describe('cli formatting', () => {
  it('formats seconds as mm:ss or h:mm:ss', () => {
    expect(formatSeconds(5)).toBe('00:05')
    expect(formatSeconds(125)).toBe('02:05')
    expect(formatSeconds(3725)).toBe('1:02:05')
    expect(formatSeconds(Number.NaN)).toBe('--:--')
  })
  it('right-aligns numeric columns', () => {
    expect(
      table(
        ['class', 'n'],
        [
          ['cats', 5],
          ['dogs', 100]
        ]
      )
    ).toBe('class    n\ncats     5\ndogs   100')
  })
})
