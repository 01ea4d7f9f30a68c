// Label issues by confident learning (Northcutt et al. 2021). Per-class thresholds are the mean self-confidence of
// each class; an image whose given label is under its threshold while another class is over its own is counted in
// the confident joint C[given][suggested]. Two ways to turn that into issues:
// - 'confident-joint': exactly the images counted off the diagonal;
// - 'prune-by-noise-rate' (cleanlab's default): C is calibrated to the class sizes (images over no threshold are
//   not lost from the estimate), and for each off-diagonal cell (i, j) the round(C[i][j]) images labelled i with the
//   largest margin p_j - p_i are issues; an image the model predicts as its given label is never one.

export interface LabelIssue {
  /** Row index into the probabilities. */
  index: number
  given: number
  suggested: number
  /** Out-of-fold probability of the given label. */
  selfConfidence: number
  /** Probability of the suggested class minus that of the given one, in [-1, 1]. */
  margin: number
  /** Higher = more likely mislabelled: 1 - selfConfidence, or the margin rescaled to [0, 1]. */
  score: number
}

export type IssueRanking = 'self-confidence' | 'normalized-margin'
export type IssueMethod = 'confident-joint' | 'prune-by-noise-rate'

export interface LabelIssueOptions {
  ranking?: IssueRanking
  method?: IssueMethod
}

/** t_j = mean probability of class j over the images labelled j (NaN for a class without images). */
export function classThresholds(probs: Float32Array, labels: readonly number[], k: number): number[] {
  const sum = new Array<number>(k).fill(0)
  const count = new Array<number>(k).fill(0)
  labels.forEach((y, i) => {
    sum[y] = (sum[y] as number) + (probs[i * k + y] as number)
    count[y] = (count[y] as number) + 1
  })
  return sum.map((s, j) => (count[j] ? s / (count[j] as number) : Number.NaN))
}

/** For each image, the class it is confidently counted as (argmax among the classes over their thresholds), or -1. */
function confidentClass(probs: Float32Array, i: number, k: number, t: readonly number[]): number {
  let best = -1
  for (let j = 0; j < k; j++) {
    const p = probs[i * k + j] as number
    if (!(p >= (t[j] as number))) continue
    if (best < 0 || p > (probs[i * k + best] as number)) best = j
  }
  return best
}

/** Confident joint C[given][true], calibrated so that each row sums to the number of images with that label. */
export function calibratedConfidentJoint(probs: Float32Array, labels: readonly number[], k: number): number[][] {
  const t = classThresholds(probs, labels, k)
  const c = Array.from({ length: k }, () => new Array<number>(k).fill(0))
  const n = new Array<number>(k).fill(0)
  labels.forEach((y, i) => {
    n[y] = (n[y] as number) + 1
    const j = confidentClass(probs, i, k, t)
    if (j >= 0) (c[y] as number[])[j] = ((c[y] as number[])[j] as number) + 1
  })
  return c.map((row, y) => {
    const total = row.reduce((a, b) => a + b, 0)
    return row.map((v) => (total > 0 ? (v / total) * (n[y] as number) : 0))
  })
}

function issueOf(
  probs: Float32Array,
  i: number,
  given: number,
  suggested: number,
  k: number,
  ranking: IssueRanking
): LabelIssue {
  const self = probs[i * k + given] as number
  const margin = (probs[i * k + suggested] as number) - self
  const score = ranking === 'self-confidence' ? 1 - self : (margin + 1) / 2
  return { index: i, given, suggested, selfConfidence: self, margin, score }
}

function argmax(probs: Float32Array, i: number, k: number): number {
  let best = 0
  for (let j = 1; j < k; j++) if ((probs[i * k + j] as number) > (probs[i * k + best] as number)) best = j
  return best
}

/** Issues best first (most likely mislabelled first); each names the class it most likely belongs to. */
export function findLabelIssues(
  probs: Float32Array,
  labels: readonly number[],
  k: number,
  opts: LabelIssueOptions = {}
): LabelIssue[] {
  if (probs.length !== labels.length * k)
    throw new Error(`probabilities: expected ${labels.length} rows of ${k}, got ${probs.length} values`)
  const ranking = opts.ranking ?? 'self-confidence'
  const issues: LabelIssue[] = []
  if ((opts.method ?? 'prune-by-noise-rate') === 'confident-joint') {
    const t = classThresholds(probs, labels, k)
    labels.forEach((given, i) => {
      if (!((probs[i * k + given] as number) < (t[given] as number))) return
      const j = confidentClass(probs, i, k, t)
      if (j >= 0 && j !== given) issues.push(issueOf(probs, i, given, j, k, ranking))
    })
  } else {
    const joint = calibratedConfidentJoint(probs, labels, k)
    const taken = new Set<number>()
    for (let given = 0; given < k; given++) {
      const members = labels.flatMap((y, i) => (y === given ? [i] : []))
      for (let j = 0; j < k; j++) {
        if (j === given) continue
        const count = Math.round((joint[given] as number[])[j] as number)
        if (count <= 0) continue
        const byMargin = members
          .filter((i) => !taken.has(i))
          .map((i) => ({ i, m: (probs[i * k + j] as number) - (probs[i * k + given] as number) }))
          .sort((a, b) => b.m - a.m || a.i - b.i)
          .slice(0, count)
        for (const { i } of byMargin) {
          if (argmax(probs, i, k) === given) continue
          taken.add(i)
          issues.push(issueOf(probs, i, given, j, k, ranking))
        }
      }
    }
  }
  return issues.sort((a, b) => b.score - a.score || a.index - b.index)
}
