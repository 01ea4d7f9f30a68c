// Events of a whole run (scan -> split -> backend -> weights -> train -> evaluate), for the CLI and the app.
import type { SplitName } from '@shared/domain'
import type { TrainEvent } from '../training/types'
import type { SplitMetrics } from '../eval/types'
import type { BackendInfo } from '../tf/backend'

export type RunStage = 'scan' | 'split' | 'backend' | 'weights' | 'train' | 'evaluate' | 'save'

export type RunEvent =
  | { type: 'stage'; stage: RunStage; detail: string }
  | { type: 'scan-progress'; done: number; total: number }
  | { type: 'download-progress'; bytes: number; total: number | null; bytesPerSecond: number }
  | { type: 'backend'; info: BackendInfo }
  | { type: 'run-created'; runId: number; dbPath: string; classes: string[]; counts: Record<SplitName, number> }
  | { type: 'evaluate-progress'; split: SplitName; done: number; total: number }
  | { type: 'evaluation'; split: SplitName; metrics: SplitMetrics }
  | TrainEvent

export type RunEventListener = (e: RunEvent) => void
