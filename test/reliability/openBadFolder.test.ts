// Opening a folder that is no project (no class folders, one class, split folders mixed with others) answers a
// clear error and leaves no trace: nothing stored in the folder, not remembered in the recent list.
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { STATE_DIR_NAME } from '@core/store/stateDir'
import { testSession } from '@test/helpers/session'
import { makeProject } from '@test/helpers/synthetic'

describe('opening a folder that is no project', () => {
  const { dir: base, call, raw, ctx } = testSession('tunelab-open-bad-')
  const recent = async (): Promise<string[]> => {
    const r = await call<{ projects: { root: string }[] }>('project.recent', {})
    return r.projects.map((p) => p.root)
  }

  it.each([
    ['loose images, no class folders', /no class folders found/, (d: string) => writeFileSync(join(d, 'a.jpg'), 'x')],
    ['one class folder', /only one class \("cats"\)/, (d: string) => mkdirSync(join(d, 'cats'))],
    [
      'class folders without a readable image',
      /class "a" has no readable images/,
      (d: string) => {
        mkdirSync(join(d, 'a'))
        mkdirSync(join(d, 'b'))
        writeFileSync(join(d, 'a', 'readme.txt'), 'x')
      }
    ],
    [
      'split folders mixed with others',
      /mixes split folders/,
      (d: string) =>
        ['train/cats', 'validation/cats', 'dogs'].forEach((f) => mkdirSync(join(d, f), { recursive: true }))
    ]
  ])('%s: bad-input naming the problem, no state folder, not in the recent list', async (name, message, make) => {
    const dir = join(base, name.replaceAll(' ', '-'))
    mkdirSync(dir)
    make(dir)
    const r = await raw('project.open', { path: dir })
    expect(r.ok).toBe(false)
    if (r.ok) return
    expect(r.error.code).toBe('bad-input')
    expect(r.error.message).toMatch(message)
    expect(existsSync(join(dir, STATE_DIR_NAME))).toBe(false)
    expect(await recent()).not.toContain(dir)
  })

  it('a project with stored history still opens after it lost a class (its runs stay reachable)', async () => {
    const dir = join(base, 'was-good')
    await makeProject(dir, { classes: ['a', 'b'], perClass: 2, size: 16 })
    const first = await raw('project.open', { path: dir })
    expect(first.ok).toBe(true)
    expect(existsSync(join(dir, STATE_DIR_NAME, 'tunelab.db'))).toBe(true)
    ctx.projects.closeAll()
    rmSync(join(dir, 'b'), { recursive: true })
    const again = await raw('project.open', { path: dir })
    expect(again.ok).toBe(true)
    expect(await recent()).toContain(dir)
  })
})
