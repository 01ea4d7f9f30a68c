// `npm run serve -- [dir] [--port N]`: the app in a browser, for headless boxes reached through an SSH tunnel.
import { existsSync } from 'node:fs'
import { homedir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { defaultRendererDir, startServer } from './server'

function usage(message: string): never {
  process.stderr.write(`${message}\nusage: npm run serve -- [project-dir] [--port N]\n`)
  process.exit(2)
}

function parseArgs(argv: string[]): { dir: string | null; port: number } {
  let dir: string | null = null
  let port = 0
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? ''
    if (a === '--port') {
      const v = argv[++i]
      const n = Number(v)
      if (!v || !Number.isInteger(n) || n < 0 || n > 65535)
        usage(`--port: expected a port number 0..65535, got ${JSON.stringify(v ?? '')}`)
      port = n
    } else if (a.startsWith('--port=')) {
      return parseArgs([...argv.slice(0, i), '--port', a.slice(7), ...argv.slice(i + 1)])
    } else if (a.startsWith('-')) {
      usage(`unknown option ${a}`)
    } else if (dir === null) {
      dir = resolve(a)
      if (!existsSync(dir)) usage(`project folder not found: ${dir}`)
    } else {
      usage(`unexpected argument ${a}`)
    }
  }
  return { dir, port }
}

const here = dirname(fileURLToPath(import.meta.url))
const { dir, port } = parseArgs(process.argv.slice(2))
const rendererDir = process.env['TUNELAB_RENDERER_DIR'] ?? defaultRendererDir()
if (!existsSync(join(rendererDir, 'index.html')))
  usage(`no built renderer in ${rendererDir}: run \`npm run build\` first (or set TUNELAB_RENDERER_DIR)`)
const userDataDir =
  process.env['TUNELAB_USER_DATA'] ?? join(process.env['XDG_CONFIG_HOME'] ?? join(homedir(), '.config'), 'tunelab')

const server = await startServer({
  rendererDir,
  workerPath: join(here, '..', 'main', 'workers', 'training.ts'),
  userDataDir,
  port,
  initialProject: dir
})
process.stdout.write(`TuneLab serving at ${server.url}\n`)
const stop = (): void => {
  void server.close().then(() => process.exit(0))
}
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
