// The predictions table and the queries the results screen asks of it: galleries and the confusion matrix.
import type { SplitName } from '@shared/domain'
import { assertSplit, finiteOrNull, listSome, nowIso, type SqlValue, type StoreDb } from './db'
import type { RunsTable } from './runs'
import type { ConfusionCell, GalleryItem, NewPrediction, PredictionFilter, PredictionRow } from './rows'

interface RawPrediction {
  runId: number
  imageId: number
  split: SplitName
  trueClass: string
  predictedClass: string
  probabilities: string
  confidence: number
  margin: number
  loss: number | null
}

interface RawGalleryItem extends RawPrediction {
  relPath: string
  width: number | null
  height: number | null
  present: number
}

const PREDICTION_COLUMNS = `p.run_id AS runId, p.image_id AS imageId, p.split, p.true_class AS trueClass,
  p.predicted_class AS predictedClass, p.probabilities, p.confidence, p.margin, p.loss`

const GALLERY_COLUMNS = `${PREDICTION_COLUMNS}, i.rel_path AS relPath, i.width, i.height, i.present`

function predictionFromRaw(raw: RawPrediction): PredictionRow {
  return {
    runId: raw.runId,
    imageId: raw.imageId,
    split: raw.split,
    trueClass: raw.trueClass,
    predictedClass: raw.predictedClass,
    probabilities: JSON.parse(raw.probabilities) as number[],
    confidence: raw.confidence,
    margin: raw.margin,
    loss: raw.loss,
    correct: raw.trueClass === raw.predictedClass
  }
}

function galleryFromRaw(raw: RawGalleryItem): GalleryItem {
  return {
    ...predictionFromRaw(raw),
    relPath: raw.relPath,
    width: raw.width,
    height: raw.height,
    present: raw.present === 1
  }
}

function assertLimit(n: number): void {
  if (!Number.isInteger(n) || n < 0) throw new Error(`gallery size must be a non-negative integer, got ${n}`)
}

export class PredictionsTable {
  constructor(
    private readonly s: StoreDb,
    private readonly runs: RunsTable
  ) {}

  /**
   * Stores (or replaces, per image) a run's predictions in one transaction. The store derives confidence
   * (probability of the predicted class) and margin (top-1 minus top-2 probability) for the gallery queries.
   */
  savePredictions(runId: number, rows: readonly NewPrediction[]): number {
    const run = this.runs.requireRun(runId)
    const classIndex = new Map(run.classes.map((c, i) => [c, i]))
    const prepared = rows.map((p) => {
      const where = `savePredictions (run ${runId}, image ${p.imageId})`
      assertSplit(p.split, where)
      const predicted = classIndex.get(p.predictedClass)
      if (predicted === undefined)
        throw new Error(`${where}: predicted class '${p.predictedClass}' is not a class of the run`)
      if (!classIndex.has(p.trueClass))
        throw new Error(`${where}: true class '${p.trueClass}' is not a class of the run`)
      if (p.probabilities.length !== run.classes.length) {
        throw new Error(`${where}: ${p.probabilities.length} probabilities for ${run.classes.length} classes`)
      }
      if (p.probabilities.some((x) => !Number.isFinite(x) || x < 0 || x > 1)) {
        throw new Error(`${where}: probabilities must be finite numbers in [0, 1], got [${p.probabilities.join(', ')}]`)
      }
      const sorted = [...p.probabilities].sort((a, b) => b - a)
      return {
        ...p,
        confidence: p.probabilities[predicted] ?? 0,
        margin: (sorted[0] ?? 0) - (sorted[1] ?? 0)
      }
    })
    return this.s.db
      .transaction((): number => {
        const projectImages = new Set(
          this.s.all<{ id: number }>(`SELECT id FROM images WHERE project_id = ?`, run.projectId).map((r) => r.id)
        )
        const foreign = prepared.filter((p) => !projectImages.has(p.imageId)).map((p) => String(p.imageId))
        if (foreign.length > 0) {
          throw new Error(`savePredictions: image ids not in project ${run.projectId}: ${listSome(foreign)}`)
        }
        for (const p of prepared) {
          this.s.run(
            `INSERT INTO predictions (run_id, image_id, split, true_class, predicted_class, probabilities, confidence, margin, loss)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (run_id, image_id) DO UPDATE SET split = excluded.split, true_class = excluded.true_class,
               predicted_class = excluded.predicted_class, probabilities = excluded.probabilities,
               confidence = excluded.confidence, margin = excluded.margin, loss = excluded.loss`,
            runId,
            p.imageId,
            p.split,
            p.trueClass,
            p.predictedClass,
            JSON.stringify(p.probabilities),
            p.confidence,
            p.margin,
            finiteOrNull(p.loss)
          )
        }
        this.s.run(`UPDATE runs SET heartbeat_at = ? WHERE id = ? AND status = 'running'`, nowIso(), runId)
        return prepared.length
      })
      .immediate()
  }

  getPredictions(runId: number, filter: PredictionFilter = {}): PredictionRow[] {
    const where = ['p.run_id = ?']
    const params: SqlValue[] = [runId]
    if (filter.split !== undefined) {
      assertSplit(filter.split, 'getPredictions')
      where.push('p.split = ?')
      params.push(filter.split)
    }
    if (filter.className !== undefined) {
      where.push('p.true_class = ?')
      params.push(filter.className)
    }
    return this.s
      .all<RawPrediction>(
        `SELECT ${PREDICTION_COLUMNS} FROM predictions p WHERE ${where.join(' AND ')} ORDER BY p.image_id`,
        ...params
      )
      .map(predictionFromRaw)
  }

  private gallery(
    runId: number,
    split: SplitName,
    trueClass: string | null,
    condition: string,
    order: string,
    n: number,
    extra: SqlValue[] = []
  ): GalleryItem[] {
    assertSplit(split, 'gallery')
    assertLimit(n)
    const classClause = trueClass === null ? '' : 'AND p.true_class = ?'
    const params: SqlValue[] = [runId, split, ...(trueClass === null ? [] : [trueClass]), ...extra, n]
    return this.s
      .all<RawGalleryItem>(
        `SELECT ${GALLERY_COLUMNS} FROM predictions p JOIN images i ON i.id = p.image_id
       WHERE p.run_id = ? AND p.split = ? ${classClause} AND ${condition}
       ORDER BY ${order}, p.image_id LIMIT ?`,
        ...params
      )
      .map(galleryFromRaw)
  }

  /** Correct predictions of images of class `trueClass` (null: all classes), highest confidence first. */
  mostConfident(runId: number, split: SplitName, trueClass: string | null, n: number): GalleryItem[] {
    return this.gallery(runId, split, trueClass, 'p.predicted_class = p.true_class', 'p.confidence DESC', n)
  }

  /**
   * Images of class `trueClass` nearest the decision boundary, right or wrong: smallest margin between the top-2
   * probabilities first (for 2 classes that is the same order as |p - 0.5|).
   */
  leastConfident(runId: number, split: SplitName, trueClass: string | null, n: number): GalleryItem[] {
    return this.gallery(runId, split, trueClass, '1', 'p.margin ASC', n)
  }

  /** Wrong predictions of images whose true class is `trueClass`, highest confidence in the wrong class first. */
  confidentlyWrong(runId: number, split: SplitName, trueClass: string | null, n: number): GalleryItem[] {
    return this.gallery(runId, split, trueClass, 'p.predicted_class <> p.true_class', 'p.confidence DESC', n)
  }

  /** Images of one confusion-matrix cell, highest confidence first. */
  confusionCellImages(
    runId: number,
    split: SplitName,
    trueClass: string,
    predictedClass: string,
    n = 1_000_000
  ): GalleryItem[] {
    return this.gallery(runId, split, trueClass, 'p.predicted_class = ?', 'p.confidence DESC', n, [predictedClass])
  }

  /** Non-empty cells of the confusion matrix of a split. */
  confusionMatrix(runId: number, split: SplitName): ConfusionCell[] {
    assertSplit(split, 'confusionMatrix')
    return this.s.all<ConfusionCell>(
      `SELECT true_class AS trueClass, predicted_class AS predictedClass, COUNT(*) AS count
       FROM predictions WHERE run_id = ? AND split = ? GROUP BY true_class, predicted_class ORDER BY true_class, predicted_class`,
      runId,
      split
    )
  }
}
