// Whether a training configuration fits this machine, checked before anything starts (and before anything is
// stored). The head's size is the one setting that grows without bound: --dense N gives a Dense layer of
// featureDim x N weights, and the engine keeps several copies of it (weights, gradients, optimizer slots and
// the temporaries of each update). Measured: --dense 65536 on MobileNetV2 (1280 features, 84 M parameters,
// 335 MB per copy) peaked at 4.7 GB, about 14 copies, and failed in the 4 GiB WebAssembly heap.
import { totalmem } from 'node:os'
import { parseBaseId } from '../models/baseId'

/** Copies of the head's parameters alive at the peak of a training step (measured, see above). */
export const HEAD_COPIES_AT_PEAK = 14
/** The WebAssembly heap's hard ceiling, less room for the frozen base, a batch and the features. */
export const WASM_BUDGET_BYTES = 4 * 1024 ** 3 - 512 * 1024 ** 2

export class TrainingLimitError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'TrainingLimitError'
  }
}

/** Width of the pooled features the head receives from a base (Keras Applications' no-top outputs). */
export function featureDimOf(baseId: string): number {
  const { family, alpha } = parseBaseId(baseId)
  if (family === 'resnet50_v2') return 2048
  if (family === 'mobilenet_v1') return Math.round(1024 * alpha)
  return alpha > 1 ? Math.round(1280 * alpha) : 1280
}

export function headParameters(featureDim: number, dense: number, classes: number): number {
  const outputs = classes === 2 ? 1 : classes
  return dense > 0 ? featureDim * dense + dense + dense * outputs + outputs : featureDim * outputs + outputs
}

export interface FitInput {
  baseId: string
  dense?: number
  classes: number
  backend?: string
}

/** The memory the head needs at its peak and what this backend has, in bytes. */
export function headMemoryEstimate(o: FitInput): { needed: number; budget: number; parameters: number } {
  const parameters = headParameters(featureDimOf(o.baseId), o.dense ?? 0, o.classes)
  const native = o.backend === 'tensorflow' || o.backend === 'tensorflow-gpu'
  return {
    needed: parameters * 4 * HEAD_COPIES_AT_PEAK,
    budget: native ? totalmem() / 2 : WASM_BUDGET_BYTES,
    parameters
  }
}

/** Throws a TrainingLimitError naming the setting when the head cannot fit; called before a run starts. */
export function checkTrainingFits(o: FitInput): void {
  const { needed, budget, parameters } = headMemoryEstimate(o)
  if (needed <= budget) return
  const dim = featureDimOf(o.baseId)
  const gb = (b: number): string => `${(b / 1024 ** 3).toFixed(1)} GB`
  const maxDense = Math.floor(budget / (4 * HEAD_COPIES_AT_PEAK) / (dim + 1 + (o.classes === 2 ? 1 : o.classes)))
  throw new TrainingLimitError(
    `--dense ${o.dense ?? 0} is too large for ${o.baseId}: a ${dim} x ${o.dense ?? 0} head (${(parameters / 1e6).toFixed(0)} M parameters) needs about ${gb(needed)} to train, ` +
      `and ${native(o.backend) ? 'half this machine’s memory' : 'the WebAssembly backend'} allows ${gb(budget)}; use --dense ${maxDense} or less`
  )
}

function native(backend: string | undefined): boolean {
  return backend === 'tensorflow' || backend === 'tensorflow-gpu'
}
