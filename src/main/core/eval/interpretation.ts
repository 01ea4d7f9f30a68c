// One interpretation of a run's predictions on one split, in the spirit of fastai's Interpretation.from_learner:
// built once (from the model's probabilities, or from the stored predictions), and the confusion matrix, the
// metrics, the most confused pairs, the top losses, the per-class galleries and the threshold sweep all read it.
import type { PredictionRow } from '../store/rows'
import { analyse, perClassAnalysis, thresholdSweep, unsure, defaultThresholds, type Analyses } from './analyses'
import type { ClassAnalysis, ThresholdPoint } from './analyses'
import { confusionMatrix, predictionRows, splitMetrics } from './metrics'
import type { ImagePrediction, SplitMetrics } from './types'

export interface ConfusedPair {
  trueClass: string
  predictedClass: string
  count: number
}

export class Interpretation {
  private constructor(
    readonly classes: readonly string[],
    readonly rows: readonly ImagePrediction[]
  ) {}

  /** From a row-major [n, k] probability matrix, the true labels and the images' ids (evaluation). */
  static fromProbabilities(
    probs: ArrayLike<number>,
    labels: readonly number[],
    imageIds: readonly string[],
    classes: readonly string[]
  ): Interpretation {
    return new Interpretation(classes, predictionRows(probs, labels, imageIds, classes.length))
  }

  /** From a run's stored predictions (one split); `imageIdOf` names each image (default: its numeric id). */
  static fromStored(
    classes: readonly string[],
    predictions: readonly PredictionRow[],
    imageIdOf: (imageId: number) => string = String
  ): Interpretation {
    const index = new Map(classes.map((c, i) => [c, i]))
    const classIndex = (name: string): number => {
      const i = index.get(name)
      if (i === undefined) throw new Error(`stored prediction of class '${name}', not a class of the run`)
      return i
    }
    const rows = predictions.map((p) => ({
      imageId: imageIdOf(p.imageId),
      trueClass: classIndex(p.trueClass),
      predictedClass: classIndex(p.predictedClass),
      probs: p.probabilities,
      confidence: p.confidence,
      loss: p.loss ?? Number.NaN
    }))
    return new Interpretation(classes, rows)
  }

  get count(): number {
    return this.rows.length
  }

  /** confusion[true][predicted] = count. */
  confusionMatrix(): number[][] {
    return confusionMatrix(this.rows, this.classes.length)
  }

  /** Accuracy, mean loss, per-class precision/recall/F1/support and the confusion matrix. */
  metrics(): SplitMetrics {
    return splitMetrics(this.rows, this.classes)
  }

  /** Off-diagonal cells of the confusion matrix with at least `minCount` images, most first (fastai most_confused). */
  mostConfused(minCount = 1): ConfusedPair[] {
    const out: ConfusedPair[] = []
    this.confusionMatrix().forEach((row, t) =>
      row.forEach((count, p) => {
        if (t !== p && count >= minCount) {
          out.push({ trueClass: this.classes[t] ?? '', predictedClass: this.classes[p] ?? '', count })
        }
      })
    )
    return out.sort((a, b) => b.count - a.count)
  }

  /** The `n` images with the highest loss (fastai top_losses); ties by image id. */
  topLosses(n: number): ImagePrediction[] {
    return [...this.rows]
      .sort((a, b) => b.loss - a.loss || (a.imageId < b.imageId ? -1 : a.imageId > b.imageId ? 1 : 0))
      .slice(0, n)
  }

  /** Per class: most confident correct, least confident, confidently wrong (`topN` each). */
  galleries(topN: number): ClassAnalysis[] {
    return perClassAnalysis(this.rows, this.classes, topN)
  }

  /** Coverage and accuracy of the predictions kept at each confidence threshold. */
  thresholdSweep(thresholds: readonly number[] = defaultThresholds(this.classes.length)): ThresholdPoint[] {
    return thresholdSweep(this.rows, thresholds)
  }

  /** Predictions held back as unsure (confidence under `threshold`). */
  unsure(threshold: number): Analyses['unsure'] {
    return unsure(this.rows, threshold)
  }

  /** The galleries, the sweep and the unsure predictions together (what a run stores per split). */
  analyses(opts: { topN?: number; unsureThreshold?: number; thresholds?: number[] } = {}): Analyses {
    return analyse(this.rows, this.classes, opts)
  }
}
