// Conversions from engine/eval results to the store's row types (ProjectStore.appendEpoch / savePredictions / saveAnalysis).
import type { SplitName } from '@shared/domain'
import type { JsonValue, NewEpoch, NewPrediction } from '../store/rows'
import type { EpochRecord } from '../training/types'
import type { Analyses } from './analyses'
import type { ImagePrediction } from './types'

export function toNewEpoch(e: EpochRecord): Required<NewEpoch> {
  return {
    phase: e.phase === 'head' ? 1 : 2,
    epoch: e.epoch,
    loss: e.loss,
    accuracy: e.accuracy,
    valLoss: e.valLoss,
    valAccuracy: e.valAccuracy,
    lr: e.lr,
    seconds: e.seconds,
    imagesPerSec: e.imagesPerSec
  }
}

/** `imageIdOf` maps an ImagePrediction.imageId (e.g. content hash) to the store's numeric image id. */
export function toNewPredictions(
  rows: readonly ImagePrediction[],
  split: SplitName,
  classes: readonly string[],
  imageIdOf: (imageId: string) => number
): NewPrediction[] {
  return rows.map((r) => ({
    imageId: imageIdOf(r.imageId),
    split,
    trueClass: classes[r.trueClass] as string,
    predictedClass: classes[r.predictedClass] as string,
    probabilities: r.probs,
    loss: r.loss
  }))
}

/** Compact JSON for saveAnalysis: image lists become store image ids (galleries join the predictions table). */
export function analysesPayload(a: Analyses, split: SplitName, imageIdOf: (imageId: string) => number): JsonValue {
  const ids = (rows: readonly ImagePrediction[]): number[] => rows.map((r) => imageIdOf(r.imageId))
  return {
    split,
    perClass: a.perClass.map((c) => ({
      classIndex: c.classIndex,
      name: c.name,
      mostConfidentCorrect: ids(c.mostConfidentCorrect),
      leastConfident: ids(c.leastConfident),
      confidentlyWrong: ids(c.confidentlyWrong)
    })),
    sweep: a.sweep.map((p) => ({
      threshold: p.threshold,
      coverage: p.coverage,
      covered: p.covered,
      accuracy: p.accuracy
    })),
    unsure: { threshold: a.unsure.threshold, count: a.unsure.count, imageIds: a.unsure.imageIds.map(imageIdOf) }
  }
}
