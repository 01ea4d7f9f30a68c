import { NO_AUGMENTATION } from '@shared/domain'
export { ApiError, type ProjectInfo, type TrainingProgress, type TuneLabApi } from '@shared/contract'
export const NO_AUGMENTATION_SPEC_FOR_TESTS = NO_AUGMENTATION
