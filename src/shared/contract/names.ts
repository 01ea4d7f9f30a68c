// Channel and event names without zod, for the sandboxed preload (channels.ts checks at compile time that the
// lists equal the keys of its schema table).

export const CHANNEL_NAMES = [
  'app.info',
  'app.pickFolder',
  'app.startupCheck',
  'project.open',
  'project.recent',
  'project.scan',
  'dataset.images',
  'dataset.previewSplit',
  'dataset.saveSplit',
  'dataset.getSplit',
  'dataset.augmentPreview',
  'models.list',
  'models.download',
  'training.start',
  'training.cancel',
  'training.active',
  'runs.list',
  'runs.get',
  'results.gallery',
  'results.confusion',
  'results.cell',
  'results.threshold',
  'predict.image',
  'labels.set',
  'labels.undo',
  'labels.clear',
  'labels.list',
  'labels.applyPlan',
  'labels.apply',
  'labels.applyUndo',
  'runs.diff',
  'export.run',
  'export.cancel',
  'predict.gradCam',
  'audit.start',
  'audit.cancel',
  'audit.get',
  'audit.dismiss',
  'training.findLr',
  'training.cancelFindLr'
] as const

export const EVENT_NAMES = [
  'training.progress',
  'models.downloadProgress',
  'export.progress',
  'audit.progress',
  'training.findLrProgress'
] as const

const channelSet: ReadonlySet<string> = new Set(CHANNEL_NAMES)
const eventSet: ReadonlySet<string> = new Set(EVENT_NAMES)

export function isChannelName(name: unknown): name is (typeof CHANNEL_NAMES)[number] {
  return typeof name === 'string' && channelSet.has(name)
}

export function isEventName(name: unknown): name is (typeof EVENT_NAMES)[number] {
  return typeof name === 'string' && eventSet.has(name)
}

/** Electron IPC channel names are prefixed so nothing else on ipcMain can collide. */
export const IPC_PREFIX = 'tunelab:'
/** The one IPC channel events are pushed on; its payload is { event, payload }. */
export const IPC_EVENT_CHANNEL = 'tunelab:event'
