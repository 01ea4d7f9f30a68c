export * from './rows'
export { ProjectStore, type OpenStoreOptions, type RecoveredRun } from './projectStore'
export { MIGRATIONS, SCHEMA_VERSION, StoreVersionError, migrate, schemaVersion, type Migration } from './schema'
export { currentOwner, judgeOwner, pidLiveness, processStartIdentity, type OwnerVerdict } from './runOwner'
export {
  STATE_DIR_NAME,
  fallbackStateDir,
  probeWritableDir,
  projectSlug,
  resolveStateDir,
  userDataDir,
  type StateDirOptions,
  type StateDirResolution,
  type WritableProbe
} from './stateDir'
export {
  DB_FILE_NAME,
  openProjectState,
  ReadOnlyStateError,
  type OpenProjectStateOptions,
  type ProjectState
} from './projectState'
