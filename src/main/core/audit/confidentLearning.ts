// Label issues by confident learning (Northcutt et al. 2021): per-class thresholds are the mean self-confidence of
// each class; an image whose given label is under its threshold while another class is over its own is a candidate.

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

/** Candidates best first (most likely mislabelled first); each names the class it most likely belongs to. */
export function findLabelIssues(
  probs: Float32Array,
  labels: readonly number[],
  k: number,
  ranking: IssueRanking = 'self-confidence'
): LabelIssue[] {
  if (probs.length !== labels.length * k)
    throw new Error(`probabilities: expected ${labels.length} rows of ${k}, got ${probs.length} values`)
  const t = classThresholds(probs, labels, k)
  const issues: LabelIssue[] = []
  labels.forEach((given, i) => {
    const p = (j: number): number => probs[i * k + j] as number
    const self = p(given)
    if (!(self < (t[given] as number))) return
    let suggested = -1
    for (let j = 0; j < k; j++) {
      if (j === given || !(p(j) >= (t[j] as number))) continue
      if (suggested < 0 || p(j) > p(suggested)) suggested = j
    }
    if (suggested < 0) return
    const margin = p(suggested) - self
    const score = ranking === 'self-confidence' ? 1 - self : (margin + 1) / 2
    issues.push({ index: i, given, suggested, selfConfidence: self, margin, score })
  })
  return issues.sort((a, b) => b.score - a.score || a.index - b.index)
}
