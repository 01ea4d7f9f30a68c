// Builds the handler context of one app session (Electron or serve mode).
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { defaultWeightsCacheDir } from '@core/models'
import type { EventName, EventOf } from '@shared/contract'
import { TrainingRunner } from '../workers/trainingRunner'
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
}

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(join(process.cwd(), 'package.json'), 'utf8')) as { version?: unknown }
    return typeof pkg.version === 'string' ? pkg.version : '0.0.0'
  } catch {
    return '0.0.0'
  }
}

export function createSession(o: SessionOptions): HandlerContext {
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
    emit<E extends EventName>(event: E, payload: EventOf<E>) {
      o.broadcast(event, payload)
    },
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
