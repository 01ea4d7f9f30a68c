// CLI errors as a user sees them: one line on stderr naming what is wrong, never a stack trace, and a failed
// command leaves nothing behind. Real child processes on generated projects.
import { spawn } from 'node:child_process'
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { makeProject, tempDir } from '@test/helpers/synthetic'

const ROOT = resolve(__dirname, '../..')

function cli(
  args: string[],
  env: NodeJS.ProcessEnv = {}
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env }
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('error', fail)
    child.on('close', (code) => done({ code, stdout, stderr }))
  })
}

/** stderr without progress bars (they redraw with \r and end up on lines of their own). */
function errorLines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l.trim() !== '' && !l.includes('\r') && !/ETA|\d+\/\d+ +\d+%/.test(l))
}

describe('CLI errors', () => {
  const tmp = tempDir('tunelab-cli-errors-')
  afterAll(() => tmp.cleanup())

  it('no writable place for the state: one line naming both places, no stack trace', async () => {
    const project = join(tmp.dir, 'readonly')
    await makeProject(project, { classes: ['a', 'b'], perClass: 2, size: 24 })
    chmodSync(project, 0o555)
    writeFileSync(join(tmp.dir, 'a-file'), 'not a folder')
    const r = await cli(['scan', project], { TUNELAB_DATA_DIR: join(tmp.dir, 'a-file', 'data') })
    chmodSync(project, 0o755)
    expect(r.code).toBe(1)
    const lines = errorLines(r.stderr)
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(/^tunelab: error: No writable place for the state of project .*readonly/)
    expect(r.stderr).not.toMatch(/\n\s+at /)
  })

  it('--json errors are one JSON object with a code and the same message', async () => {
    const r = await cli(['scan', join(tmp.dir, 'missing'), '--json'])
    expect(r.code).toBe(1)
    const lines = r.stdout.split('\n').filter((l) => l.startsWith('{'))
    const last = JSON.parse(lines[lines.length - 1] ?? '{}') as { event?: string; message?: string }
    expect(last.event).toBe('error')
    expect(last.message).toContain('missing')
  })

  it('an unexpected failure is one line too (stack only with TUNELAB_DEBUG=1)', async () => {
    const project = join(tmp.dir, 'state-is-a-file')
    await makeProject(project, { classes: ['a', 'b'], perClass: 2, size: 24 })
    // The database path is a folder: SQLite cannot open it (an error with no code of ours).
    mkdirSync(join(project, '.tunelab', 'tunelab.db'), { recursive: true })
    const plain = await cli(['scan', project])
    expect(plain.code).toBe(1)
    expect(errorLines(plain.stderr)).toHaveLength(1)
    const debug = await cli(['scan', project], { TUNELAB_DEBUG: '1' })
    expect(debug.stderr).toMatch(/\n\s+at /)
  })
})
