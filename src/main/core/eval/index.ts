export * from './types'
export * from './metrics'
export * from './analyses'
export * from './evaluate'
