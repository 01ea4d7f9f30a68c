// Used by the screenshot harness only while src/shared/contract/index.ts does not exist yet.
export * from '../../../src/shared/contract/api'
export * from '../../../src/shared/contract/envelope'
export * from '../../../src/shared/contract/names'
export * from '../../../src/shared/contract/imageUrl'
export type * from '../../../src/shared/contract/channels'
export type * from '../../../src/shared/contract/schemas'
