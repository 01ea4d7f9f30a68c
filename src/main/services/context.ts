// What every handler gets besides its request: the session's open projects, recents, runner and event sink.
import type { BackendInfo } from '@core/tf/backend'
import type { EventName, EventOf, RequestOf, ResponseOf, ChannelName, StartupReport } from '@shared/contract'
import type { TrainingRunner } from '../workers/trainingRunner'
import type { AuditRunner } from '../workers/auditRunner'
import type { LrFindRunner } from '../workers/lrFindRunner'
import type { ExportRunner } from '../workers/exportRunner'
import type { ProjectRegistry } from './projects'
import type { RecentProjects } from './recentProjects'

export interface HandlerContext {
  transport: 'electron' | 'serve'
  version: string
  electronVersion: string | null
  projects: ProjectRegistry
  recent: RecentProjects
  runner: TrainingRunner
  /** Label audits going on, one per project. */
  audits: AuditRunner
  /** Learning-rate range tests (training.findLr, training.cancelFindLr), in their own workers. */
  lrFinder: LrFindRunner
  /** Exports (export.run, export.cancel), in their own workers. */
  exports: ExportRunner
  weightsCacheDir: string
  /** Folder given on the command line (serve mode), shown preselected. */
  initialProject: string | null
  /** Native folder picker (Electron); absent in serve mode. */
  pickFolder?: () => Promise<string | null>
  /** Pushes an event to every connected renderer. */
  emit<E extends EventName>(event: E, payload: EventOf<E>): void
  /** Backend of the last run started in this session. */
  lastBackend: BackendInfo | null
  /** The native-module check of this session (run once, before the first project opens). */
  startupCheck(): Promise<StartupReport>
}

export type Handler<C extends ChannelName> = (request: RequestOf<C>, ctx: HandlerContext) => Promise<ResponseOf<C>>
export type HandlerTable = { [C in ChannelName]: Handler<C> }
export type PartialHandlers<K extends ChannelName> = { [C in K]: Handler<C> }
