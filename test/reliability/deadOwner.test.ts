// Serve/app sessions notice a CLI run that dies while they show it: runs.list marks it interrupted (no reopen).
// Real SQLite, the real handler table, a real child process as the run's owner, killed with SIGKILL.
import { spawn, type ChildProcess } from 'node:child_process'
import { hostname } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { dispatch } from '@main/handlers'
import { createSession } from '@main/services/session'
import { processStartIdentity } from '@core/store/runOwner'
import { makeProject, tempDir } from '@test/helpers/synthetic'

function exited(child: ChildProcess): Promise<void> {
  return new Promise((done) =>
    child.exitCode !== null || child.signalCode !== null ? done() : child.once('exit', () => done())
  )
}

describe('dead run owners are noticed while the project is open', () => {
  const tmp = tempDir('tunelab-dead-owner-')
  const ctx = createSession({
    transport: 'serve',
    userDataDir: join(tmp.dir, 'user'),
    workerPath: resolve('src/main/workers/training.ts'),
    broadcast: () => undefined,
    weightsCacheDir: join(tmp.dir, 'weights')
  })
  afterAll(async () => {
    await ctx.runner.shutdown()
    ctx.projects.closeAll()
    tmp.cleanup()
  })

  it('a run whose owner is killed turns from running to interrupted on the next runs.list', async () => {
    const root = join(tmp.dir, 'p')
    await makeProject(root, { classes: ['a', 'b'], perClass: 2, size: 24 })
    const opened = await dispatch('project.open', { path: root }, ctx)
    if (!opened.ok) throw new Error(opened.error.message)
    const { projectKey } = opened.result as { projectKey: string }
    const p = ctx.projects.get(projectKey)

    // A CLI process owns a running run (written as the CLI would: its pid, host and start time).
    const cli = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' })
    const pid = cli.pid ?? 0
    const owner = { pid, host: hostname(), token: 'cli-token', start: processStartIdentity(pid) }
    const runId = p.state.store.createRun({ projectId: p.state.project.id, config: {}, classes: ['a', 'b'] }, owner).id
    const status = async (): Promise<string | undefined> => {
      const env = await dispatch('runs.list', { projectKey }, ctx)
      if (!env.ok) throw new Error(env.error.message)
      return (env.result as { runs: { runId: number; status: string }[] }).runs.find((r) => r.runId === runId)?.status
    }
    expect(await status()).toBe('running')

    cli.kill('SIGKILL')
    await exited(cli)
    expect(await status()).toBe('interrupted')
    expect(p.state.store.getRun(runId)?.error).toMatch(new RegExp(`owner process ${pid} is gone`))
  })
})
