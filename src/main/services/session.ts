// Builds the handler context of one app session (Electron or serve mode).
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { defaultWeightsCacheDir } from '@core/models'
import type { EventName, EventOf, StartupReport } from '@shared/contract'
import { runStartupCheck } from '@core/native/startupCheck'
import { TrainingRunner } from '../workers/trainingRunner'
import { AuditRunner } from '../workers/auditRunner'
import { LrFindRunner } from '../workers/lrFindRunner'
import { ExportRunner } from '../workers/exportRunner'
import type { HandlerContext } from './context'
import { ProjectRegistry } from './projects'
import { RecentProjects } from './recentProjects'

export interface SessionOptions {
  transport: 'electron' | 'serve'
  /** Where recent-projects.json lives (Electron: app.getPath('userData')). */
  userDataDir: string
  workerPath: string
  broadcast(event: EventName, payload: unknown): void
  version?: string
  electronVersion?: string | null
  initialProject?: string | null
  pickFolder?: () => Promise<string | null>
  weightsCacheDir?: string
  /** Electron passes its own (its ABI, its binding); default: the check for this Node process. */
  startupCheck?: () => Promise<StartupReport>
}

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(join(process.cwd(), 'package.json'), 'utf8')) as { version?: unknown }
    return typeof pkg.version === 'string' ? pkg.version : '0.0.0'
  } catch {
    return '0.0.0'
  }
}

/** Serve mode and tests: SQLite through TUNELAB_SQLITE_BINDING when set, else node_modules' build. */
function nodeStartupCheck(): Promise<StartupReport> {
  const binding = process.env['TUNELAB_SQLITE_BINDING'] ?? null
  return runStartupCheck({
    kind: 'node',
    sqlite: { path: binding, source: binding ? 'TUNELAB_SQLITE_BINDING' : "node_modules' build" }
  })
}

export function createSession(o: SessionOptions): HandlerContext {
  let startup: Promise<StartupReport> | null = null
  const ctx: HandlerContext = {
    transport: o.transport,
    version: o.version ?? packageVersion(),
    electronVersion: o.electronVersion ?? null,
    projects: new ProjectRegistry(),
    recent: new RecentProjects(join(o.userDataDir, 'recent-projects.json')),
    weightsCacheDir: o.weightsCacheDir ?? defaultWeightsCacheDir(),
    initialProject: o.initialProject ?? null,
    ...(o.pickFolder ? { pickFolder: o.pickFolder } : {}),
    lastBackend: null,
    startupCheck: () => (startup ??= (o.startupCheck ?? nodeStartupCheck)()),
    emit<E extends EventName>(event: E, payload: EventOf<E>) {
      o.broadcast(event, payload)
    },
    audits: new AuditRunner(o.workerPath, (p) => ctx.emit('audit.progress', p)),
    exports: new ExportRunner(o.workerPath),
    lrFinder: new LrFindRunner({
      workerPath: o.workerPath,
      progress: (projectKey, event) => ctx.emit('training.findLrProgress', { projectKey, event })
    }),
    runner: new TrainingRunner({
      workerPath: o.workerPath,
      events: {
        progress: (projectKey, runId, event) => ctx.emit('training.progress', { projectKey, runId, event }),
        download: (p, baseId) => ctx.emit('models.downloadProgress', { id: baseId, ...p }),
        backend: (info) => {
          ctx.lastBackend = info
        }
      }
    })
  }
  return ctx
}
