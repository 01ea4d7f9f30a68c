// Two runs image by image: on the images both evaluated, which went wrong→right and right→wrong, per-class
// accuracy deltas, and McNemar's exact test on the flipped pairs. An image relabelled in between is listed on its
// own and left out of those: its answer changed, so "right" in one run and "wrong" in the other says nothing about
// the model (a fixed label under an unchanged prediction would otherwise count as the model getting worse).
import type { SplitName } from '@shared/domain'
import type { ProjectStore } from '../store/projectStore'
import type { PredictionRow } from '../store/rows'
import { mcnemarExact } from './mcnemar'

export interface DiffImage {
  imageId: number
  relPath: string
  split: SplitName
  trueA: string
  predictedA: string
  confidenceA: number
  trueB: string
  predictedB: string
  confidenceB: number
}

export interface RunDiff {
  runA: number
  runB: number
  splits: SplitName[]
  /** Images both runs evaluated (the relabelled ones included). */
  common: number
  /** Of those, the ones with the same label in both runs: what the accuracies, flips and test compare. */
  sameLabel: number
  accuracyA: number | null
  accuracyB: number | null
  wrongToRight: DiffImage[]
  rightToWrong: DiffImage[]
  relabelled: DiffImage[]
  onlyA: { imageId: number; relPath: string; trueClass: string; excluded: boolean }[]
  onlyB: { imageId: number; relPath: string; trueClass: string }[]
  perClass: {
    className: string
    countA: number
    accuracyA: number | null
    countB: number
    accuracyB: number | null
    delta: number | null
  }[]
  mcnemar: { b: number; c: number; pValue: number }
}

const ratio = (a: number, n: number): number | null => (n === 0 ? null : a / n)

/**
 * Compares run B with run A. `split` limits it to one evaluated split; by default every split both runs
 * evaluated. Images are matched by image id (the same file at the same path).
 */
export function diffRuns(
  store: ProjectStore,
  runA: number,
  runB: number,
  split?: SplitName,
  excludedInB: ReadonlySet<string> = new Set()
): RunDiff {
  const a = store.getRun(runA)
  const b = store.getRun(runB)
  if (!a) throw new RangeError(`diff: no run ${runA}`)
  if (!b) throw new RangeError(`diff: no run ${runB}`)
  if (a.projectId !== b.projectId) throw new RangeError(`diff: runs ${runA} and ${runB} belong to different projects`)
  const predsA = store.getPredictions(runA, split ? { split } : {})
  const predsB = store.getPredictions(runB, split ? { split } : {})
  const splitsOf = (rows: PredictionRow[]): Set<SplitName> => new Set(rows.map((r) => r.split))
  const sa = splitsOf(predsA)
  const sb = splitsOf(predsB)
  const splits = [...sa].filter((s) => sb.has(s))
  if (splits.length === 0) {
    throw new RangeError(
      `diff: runs ${runA} and ${runB} have no evaluated split in common${split ? ` (asked: ${split})` : ''}: run ${runA} has [${[...sa].join(', ')}], run ${runB} [${[...sb].join(', ')}]`
    )
  }
  const inSplits = (r: PredictionRow): boolean => splits.includes(r.split)
  const mapB = new Map(predsB.filter(inSplits).map((r) => [r.imageId, r]))
  const mapA = new Map(predsA.filter(inSplits).map((r) => [r.imageId, r]))
  const pathOf = (id: number): string => store.getImage(id)?.relPath ?? `#${id}`
  // A file moved between the runs ("apply to folders") is a new image row with the same content: the same image,
  // compared under its new row (whose path is the file's current one).
  const hashOf = (id: number): string | null => store.getImage(id)?.contentHash ?? null
  const unpairedB = new Map<string, number>()
  for (const id of mapB.keys()) {
    const h = mapA.has(id) ? null : hashOf(id)
    if (h !== null && !unpairedB.has(h)) unpairedB.set(h, id)
  }
  const movedTo = new Map<number, number>()
  for (const id of mapA.keys()) {
    const h = mapB.has(id) ? null : hashOf(id)
    const to = h === null ? undefined : unpairedB.get(h)
    if (h !== null && to !== undefined) {
      movedTo.set(id, to)
      unpairedB.delete(h)
    }
  }
  const pairedB = new Set(movedTo.values())

  const wrongToRight: DiffImage[] = []
  const rightToWrong: DiffImage[] = []
  const relabelled: DiffImage[] = []
  const perClass = new Map<string, { nA: number; rA: number; nB: number; rB: number }>()
  const tally = (cls: string): { nA: number; rA: number; nB: number; rB: number } => {
    let t = perClass.get(cls)
    if (!t) perClass.set(cls, (t = { nA: 0, rA: 0, nB: 0, rB: 0 }))
    return t
  }
  let common = 0
  let sameLabel = 0
  let rightA = 0
  let rightB = 0
  for (const [idA, pa] of mapA) {
    const id = movedTo.get(idA) ?? idA
    const pb = mapB.get(id)
    if (!pb) continue
    common++
    const row: DiffImage = {
      imageId: id,
      relPath: pathOf(id),
      split: pb.split,
      trueA: pa.trueClass,
      predictedA: pa.predictedClass,
      confidenceA: pa.confidence,
      trueB: pb.trueClass,
      predictedB: pb.predictedClass,
      confidenceB: pb.confidence
    }
    if (pa.trueClass !== pb.trueClass) {
      relabelled.push(row)
      continue
    }
    sameLabel++
    if (pa.correct) rightA++
    if (pb.correct) rightB++
    const ta = tally(pa.trueClass)
    ta.nA++
    if (pa.correct) ta.rA++
    const tb = tally(pb.trueClass)
    tb.nB++
    if (pb.correct) tb.rB++
    if (!pa.correct && pb.correct) wrongToRight.push(row)
    if (pa.correct && !pb.correct) rightToWrong.push(row)
  }
  const byConfidence = (x: DiffImage, y: DiffImage): number => y.confidenceB - x.confidenceB || x.imageId - y.imageId
  wrongToRight.sort(byConfidence)
  rightToWrong.sort(byConfidence)
  const onlyA = [...mapA.values()]
    .filter((p) => !mapB.has(p.imageId) && !movedTo.has(p.imageId))
    .map((p) => {
      const relPath = pathOf(p.imageId)
      return { imageId: p.imageId, relPath, trueClass: p.trueClass, excluded: excludedInB.has(relPath) }
    })
  const onlyB = [...mapB.values()]
    .filter((p) => !mapA.has(p.imageId) && !pairedB.has(p.imageId))
    .map((p) => ({ imageId: p.imageId, relPath: pathOf(p.imageId), trueClass: p.trueClass }))
  const classes = [...new Set([...a.classes, ...b.classes])]
  return {
    runA,
    runB,
    splits,
    common,
    sameLabel,
    accuracyA: ratio(rightA, sameLabel),
    accuracyB: ratio(rightB, sameLabel),
    wrongToRight,
    rightToWrong,
    relabelled,
    onlyA,
    onlyB,
    perClass: classes.map((className) => {
      const t = perClass.get(className) ?? { nA: 0, rA: 0, nB: 0, rB: 0 }
      const accA = ratio(t.rA, t.nA)
      const accB = ratio(t.rB, t.nB)
      return {
        className,
        countA: t.nA,
        accuracyA: accA,
        countB: t.nB,
        accuracyB: accB,
        delta: accA === null || accB === null ? null : accB - accA
      }
    }),
    mcnemar: {
      b: rightToWrong.length,
      c: wrongToRight.length,
      pValue: mcnemarExact(rightToWrong.length, wrongToRight.length)
    }
  }
}
