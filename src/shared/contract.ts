// The typed contract between the renderer and the backend (Electron IPC or the serve-mode WebSocket).
// channels.ts: every channel's request/response schema; schemas.ts: the data; api.ts: the client interface.
export * from './contract/envelope'
export * from './contract/names'
export * from './contract/schemas'
export * from './contract/labelSchemas'
export * from './contract/startupCheck'
export * from './contract/lrFindSchemas'
export * from './contract/channels'
export * from './contract/api'
export * from './contract/imageUrl'
export * from './contract/limits'
export * from './contract/auditSchemas'
