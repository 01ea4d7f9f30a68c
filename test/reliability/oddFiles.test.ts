// Every kind of odd file a user's folder may hold, scanned by the CLI and by the app: none is fatal, each
// unreadable one is listed with ONE reason (the same in both), links and special files are never read.
import { execFileSync, spawnSync } from 'node:child_process'
import { symlinkSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { dispatch } from '@main/handlers'
import { createSession } from '@main/services/session'
import { makeProject, tempDir, writeOddFiles } from '@test/helpers/synthetic'

const REPO = resolve(__dirname, '../..')

describe('odd files', () => {
  const tmp = tempDir('tunelab-odd-')
  afterAll(() => tmp.cleanup())

  it('CLI and app scan every odd kind without failing and give each unreadable file the same one reason', async () => {
    const root = join(tmp.dir, 'odd')
    await makeProject(root, { classes: ['plain'], perClass: 3, size: 24 })
    const odd = await writeOddFiles(join(root, 'odd'))
    // Kinds beyond the decoder's: links out of the project, a dangling link, a named pipe, no extension.
    symlinkSync('/etc/passwd', join(root, 'odd', 'passwd-link.jpg'))
    symlinkSync(join(tmp.dir, 'nowhere.jpg'), join(root, 'odd', 'dangling.jpg'))
    execFileSync('mkfifo', [join(root, 'odd', 'pipe.jpg')])
    writeFileSync(join(root, 'odd', 'no-extension'), 'x')
    const kinds = odd.length + 4

    const cli = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', 'scan', root, '--json'], {
      cwd: REPO,
      encoding: 'utf8',
      timeout: 120_000
    })
    const cliFatal = cli.status === 0 ? 0 : 1
    const cliScan = JSON.parse(cli.stdout.trim().split('\n').pop() ?? '{}') as {
      unreadable?: { path: string; reason: string }[]
    }

    const ctx = createSession({
      transport: 'serve',
      userDataDir: join(tmp.dir, 'app'),
      workerPath: resolve('src/main/workers/training.ts'),
      broadcast: () => undefined
    })
    let appFatal = 0
    let appUnreadable: { path: string; reason: string }[] = []
    try {
      const opened = await dispatch('project.open', { path: root }, ctx)
      if (!opened.ok) throw new Error(opened.error.message)
      const scan = await dispatch(
        'project.scan',
        { projectKey: (opened.result as { projectKey: string }).projectKey },
        ctx
      )
      if (scan.ok) appUnreadable = (scan.result as { unreadable: { path: string; reason: string }[] }).unreadable
      else appFatal = 1
    } finally {
      await ctx.runner.shutdown()
      ctx.projects.closeAll()
    }
    process.stdout.write(`odd files: ${kinds} kinds tried, fatal ${cliFatal + appFatal}\n`)
    expect(cli.stderr).not.toMatch(/\n\s+at /)
    expect({ cliFatal, appFatal }).toEqual({ cliFatal: 0, appFatal: 0 })

    const byPath = (list: { path: string; reason: string }[]): Record<string, string> =>
      Object.fromEntries(list.map((u) => [u.path, u.reason]))
    expect(byPath(appUnreadable)).toEqual(byPath(cliScan.unreadable ?? []))
    const reasons = byPath(appUnreadable)
    for (const f of odd.filter((o) => o.expect === 'unreadable'))
      expect(reasons[`odd/${f.name}`], f.name).toMatch(f.reason ?? /./)
    expect(reasons['odd/passwd-link.jpg']).toMatch(/outside the project/)
  })
})
