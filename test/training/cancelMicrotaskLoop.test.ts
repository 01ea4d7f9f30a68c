// A phase whose steps resolve without an event-loop turn (cached features on a synchronous backend) must still
// see a cancel that arrives as an event: in the app it is a worker 'message', here a timer.
import { describe, expect, it } from 'vitest'
import { runPhase } from '@core/training/epochLoop'
import { createRng } from '@core/util/rng'

describe('cancelling a phase of microtask-only steps', () => {
  it('stops soon after a cancel delivered by a timer, long before the planned epochs', async () => {
    const controller = new AbortController()
    setTimeout(() => controller.abort(), 20)
    let steps = 0
    const busy = (ms: number): void => {
      const end = performance.now() + ms
      while (performance.now() < end);
    }
    const result = await runPhase({
      phase: 'head',
      firstEpoch: 1,
      epochs: 100_000,
      trainCount: 16,
      batchSize: 8,
      random: createRng(1),
      lr: 0.1,
      vars: [],
      emit: () => undefined,
      validate: async () => null,
      step: async () => {
        busy(0.05)
        steps++
        return { loss: 0, correct: 0 }
      },
      signal: controller.signal
    })
    expect(result.cancelled).toBe(true)
    expect(steps).toBeLessThan(200_000)
  })
})
