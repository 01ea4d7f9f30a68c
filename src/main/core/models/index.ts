export * from './baseId'
export * from './base'
export * from './preprocessing'
export * from './registry'
export {
  defaultWeightsCacheDir,
  ensureCachedFile,
  hashFile,
  type CachedFile,
  type CachedFileOptions,
  type DownloadProgress
} from './download'
export { assignWeightsByLayerName, type AssignReport } from './weights/assign'
export { parseKerasH5, readKerasH5, type KerasH5Info } from './weights/kerasH5'
export { cutModelAt, loadTfjsLayersModel, readTfjsLayersWeights, readTfjsModelArtifacts } from './weights/tfjsLayers'
export type { LayerWeights, WeightTensor } from './weights/layerWeights'
