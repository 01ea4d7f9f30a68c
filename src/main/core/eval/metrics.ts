// Per-image rows from probabilities, and metrics over rows (pure functions).
import type { ClassMetrics, ImagePrediction, SplitMetrics } from './types'

const EPS = 1e-7

/** Rows from a row-major probability matrix [n, k]. Ties go to the lowest class index. */
export function predictionRows(
  probs: ArrayLike<number>,
  labels: readonly number[],
  imageIds: readonly string[],
  numClasses: number
): ImagePrediction[] {
  const n = labels.length
  if (imageIds.length !== n) throw new Error(`predictionRows: ${imageIds.length} image ids for ${n} labels`)
  if (probs.length !== n * numClasses)
    throw new Error(`predictionRows: expected ${n}x${numClasses} probabilities, got ${probs.length}`)
  const rows: ImagePrediction[] = []
  for (let i = 0; i < n; i++) {
    const p = Array.from({ length: numClasses }, (_, c) => probs[i * numClasses + c] as number)
    let best = 0
    for (let c = 1; c < numClasses; c++) if ((p[c] as number) > (p[best] as number)) best = c
    const y = labels[i] as number
    if (!Number.isInteger(y) || y < 0 || y >= numClasses)
      throw new Error(`predictionRows: label ${y} of '${imageIds[i]}' out of range`)
    rows.push({
      imageId: imageIds[i] as string,
      trueClass: y,
      predictedClass: best,
      probs: p,
      confidence: p[best] as number,
      loss: -Math.log(Math.min(1, Math.max(EPS, p[y] as number)))
    })
  }
  return rows
}

export function confusionMatrix(rows: readonly ImagePrediction[], numClasses: number): number[][] {
  const m = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0))
  for (const r of rows) (m[r.trueClass] as number[])[r.predictedClass]! += 1
  return m
}

/** Accuracy, mean loss, per-class precision/recall/F1/support (0 when undefined, as sklearn's zero_division=0), confusion. */
export function splitMetrics(rows: readonly ImagePrediction[], classes: readonly string[]): SplitMetrics {
  const k = classes.length
  const confusion = confusionMatrix(rows, k)
  const perClass: ClassMetrics[] = classes.map((name, c) => {
    const tp = (confusion[c] as number[])[c] as number
    const support = (confusion[c] as number[]).reduce((a, b) => a + b, 0)
    const predicted = confusion.reduce((a, row) => a + (row[c] as number), 0)
    const precision = predicted > 0 ? tp / predicted : 0
    const recall = support > 0 ? tp / support : 0
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0
    return { name, precision, recall, f1, support }
  })
  const n = rows.length
  const correct = rows.filter((r) => r.trueClass === r.predictedClass).length
  return {
    count: n,
    accuracy: n > 0 ? correct / n : 0,
    loss: n > 0 ? rows.reduce((a, r) => a + r.loss, 0) / n : 0,
    perClass,
    confusion
  }
}
