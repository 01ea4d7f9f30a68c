// Evaluation rows and metrics. Plain JSON-serialisable data (stored in SQLite by the store).

export interface ImagePrediction {
  /** Caller's image id (e.g. content hash or relative path). */
  imageId: string
  /** Class indices into the run's class list. */
  trueClass: number
  predictedClass: number
  /** Full probability vector aligned with the class list (binary: [1-p, p]). */
  probs: number[]
  /** max(probs). */
  confidence: number
  /** -ln(p_true), clipped at 1e-7. */
  loss: number
}

export interface ClassMetrics {
  name: string
  precision: number
  recall: number
  f1: number
  /** Number of images whose true class is this one. */
  support: number
}

export interface SplitMetrics {
  count: number
  accuracy: number
  loss: number
  perClass: ClassMetrics[]
  /** confusion[true][predicted] = count. */
  confusion: number[][]
}
