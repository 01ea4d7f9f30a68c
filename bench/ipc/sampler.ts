// Round-trip latency sampler over a TuneLab API (serve-mode WebSocket or any transport): one request at a time,
// a short pause between, each sample tagged with the stage the caller says is going on. Used by bench/ipc/latency.ts'
// real-data sibling bench/screens/real.ts.
import type { TrainingProgressEvent } from '@shared/contract'

export interface LatencySampler {
  /** Tag for the samples taken from now on (e.g. "phase 1 training"). */
  setStage(stage: string): void
  stop(): Promise<void>
  /** Samples in ms per stage, in the order stages were first seen. */
  samples(): Map<string, number[]>
}

export function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN
}

export function formatLatency(xs: readonly number[]): string {
  if (xs.length === 0) return 'n=0'
  return `n=${xs.length} p50=${percentile(xs, 50).toFixed(2)} ms p99=${percentile(xs, 99).toFixed(2)} ms max=${Math.max(...xs).toFixed(2)} ms`
}

/** Starts sampling `request` every `pauseMs` until stop(). */
export function startLatencySampler(
  request: () => Promise<unknown>,
  initialStage: string,
  pauseMs = 20
): LatencySampler {
  const byStage = new Map<string, number[]>()
  let stage = initialStage
  let running = true
  const loop = (async () => {
    while (running) {
      const t = performance.now()
      await request()
      const ms = performance.now() - t
      const list = byStage.get(stage) ?? []
      list.push(ms)
      byStage.set(stage, list)
      await new Promise((r) => setTimeout(r, pauseMs))
    }
  })()
  return {
    setStage(s) {
      stage = s
    },
    async stop() {
      running = false
      await loop
    },
    samples: () => byStage
  }
}

/** The stage a training progress event announces, or null when it does not change the stage. */
export function stageOf(e: TrainingProgressEvent): string | null {
  switch (e.type) {
    case 'features':
      return 'phase 1: extracting features'
    case 'activations':
      return 'phase 2: frozen-layer activations'
    case 'batch':
      return e.phase === 'head' ? 'phase 1: head epochs' : 'phase 2: fine-tuning epochs'
    case 'done':
      return 'after the run'
    default:
      return null
  }
}
