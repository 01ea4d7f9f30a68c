// Scanning what an unlucky user has in a folder: symbolic links leaving the project are listed and never read,
// an unreadable sub-folder is listed instead of failing the scan. Real files, real links, the real scanner.
import { spawnSync } from 'node:child_process'
import { chmodSync, mkdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { scanProject } from '@core/project/scan'
import { LINK_OUTSIDE_REASON } from '@core/project/scanWalk'
import { makeProject, tempDir } from '@test/helpers/synthetic'

const REPO = resolve(__dirname, '../..')
const FIXTURE = resolve(__dirname, 'fixtures/scanAsJson.ts')
const NOBODY = 65534

function othersCanReach(path: string): boolean {
  for (let dir = path; ; dir = dirname(dir)) {
    if ((statSync(dir).mode & 0o001) === 0) return false
    if (dirname(dir) === dir) return true
  }
}

describe('scan edges', () => {
  const tmp = tempDir('tunelab-scan-edges-')
  afterAll(() => tmp.cleanup())

  it('links leaving the project are listed as such and not read; links inside are followed', async () => {
    const root = join(tmp.dir, 'links')
    const made = await makeProject(root, { classes: ['cat', 'dog'], perClass: 3, size: 24 })
    const outside = join(tmp.dir, 'outside')
    await makeProject(outside, { classes: ['x'], perClass: 2, size: 24 })
    const firstCat = made.files.find((f) => f.className === 'cat')?.path ?? ''
    symlinkSync('/etc/passwd', join(root, 'cat', 'passwd.jpg'))
    symlinkSync(join(outside, 'x'), join(root, 'dog', 'linked-folder'))
    symlinkSync(join(root, firstCat), join(root, 'dog', 'inside-link.jpg'))
    symlinkSync(join(outside, 'x'), join(root, 'bird'))

    const scan = await scanProject(root)
    const reasons = Object.fromEntries(scan.unreadable.map((u) => [u.path, u.reason]))
    expect(reasons).toEqual({
      bird: LINK_OUTSIDE_REASON,
      'cat/passwd.jpg': LINK_OUTSIDE_REASON,
      'dog/linked-folder': LINK_OUTSIDE_REASON
    })
    expect(scan.images.map((i) => i.path)).toContain('dog/inside-link.jpg')
    expect(scan.images.some((i) => i.path.startsWith('bird') || i.path.includes('linked-folder'))).toBe(false)
  })

  it.skipIf(process.getuid?.() !== 0 || !othersCanReach(REPO))(
    'an unreadable sub-folder is listed with its reason, the scan goes on (as an unprivileged user)',
    async () => {
      chmodSync(tmp.dir, 0o755)
      const root = join(tmp.dir, 'locked')
      await makeProject(root, { classes: ['cat', 'dog'], perClass: 3, size: 24 })
      const locked = join(root, 'dog', 'private')
      mkdirSync(locked)
      writeFileSync(join(locked, 'secret.jpg'), 'x')
      chmodSync(locked, 0o700)
      const r = spawnSync(process.execPath, ['--import', 'tsx', FIXTURE, root], {
        cwd: REPO,
        uid: NOBODY,
        gid: NOBODY,
        encoding: 'utf8'
      })
      const out = JSON.parse(r.stdout) as {
        error?: string
        unreadable?: { path: string; reason: string }[]
        classes?: [string, number][]
      }
      expect(out.error).toBeUndefined()
      expect(out.unreadable).toEqual([
        { path: 'dog/private', reason: expect.stringMatching(/^folder cannot be read \(EACCES: permission denied/) }
      ])
      expect(out.classes).toEqual([
        ['cat', 3],
        ['dog', 3]
      ])
    }
  )
})
