// Runs `train` as a user would (a child process of the CLI, --json) and reads its accuracies off the done line.
import { spawn } from 'node:child_process'

export interface CliRun {
  val: number | null
  test: number | null
  /** Wall-clock of the whole command (process start to exit). */
  seconds: number
  runId: number
  /** Every JSON line the command printed (the settings a recipe chose are among them). */
  lines: Record<string, unknown>[]
}

export function runCli(
  repo: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  log: (s: string) => void
): Promise<CliRun> {
  const t0 = performance.now()
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', ...args, '--json'], {
      cwd: repo,
      env: { ...process.env, ...env }
    })
    let out = ''
    let err = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr.on('data', (d: Buffer) => (err += d.toString()))
    child.on('error', reject)
    child.on('close', (code) => {
      const seconds = (performance.now() - t0) / 1000
      const lines = out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>)
      const done = lines.find((l) => l.event === 'done') as
        | { runId: number; metrics: Record<string, { accuracy: number }> }
        | undefined
      if (code !== 0 || !done) {
        reject(new Error(`train ${args.join(' ')}: exit ${code}\n${err.trim().split('\n').slice(-5).join('\n')}`))
        return
      }
      log(
        `    ${args.slice(2).join(' ')}: val ${done.metrics.val?.accuracy ?? '-'} test ${done.metrics.test?.accuracy ?? '-'} (${seconds.toFixed(1)} s)`
      )
      resolve({
        val: done.metrics.val?.accuracy ?? null,
        test: done.metrics.test?.accuracy ?? null,
        seconds,
        runId: done.runId,
        lines
      })
    })
  })
}
