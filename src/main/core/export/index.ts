export { exportModel, finalActivation, type ExportInput, type ExportOptions, type ExportResult } from './exportModel'
export { loadExportedModel, type LoadedModel } from './loadExported'
export { fileSystemModelLoader, modelArtifacts, writeLayersModel } from './fsModelIO'
export { csvField, csvRow, parseCsv } from './csv'
export {
  createPredictPool,
  csvHeader,
  isFailed,
  listImageFiles,
  predictFiles,
  predictFolder,
  predictPixels,
  type FailedFile,
  type FilePrediction,
  type PredictFolderResult,
  type PredictOptions,
  type PredictedFile
} from './predict'
export {
  EXPORT_FORMAT,
  EXPORT_FORMAT_VERSION,
  META_FILE,
  MODEL_FILE,
  WEIGHTS_FILE,
  parseMeta,
  type ExportActivation,
  type ExportMeta,
  type ExportMetrics
} from './meta'
