// The core run events the Training screen depends on reach it as contract events.
import { describe, expect, it } from 'vitest'
import { trainingProgressSchema } from '@shared/contract/schemas'
import { toProgressEvent } from '@main/workers/trainingRunner'

const KEY = '0123456789abcdef'

describe('toProgressEvent', () => {
  it("maps phase 2's frozen-layer activations pass to an 'activations' event the contract accepts", () => {
    const e = toProgressEvent({ type: 'activations', split: 'train', done: 1234, total: 2000 })
    expect(e).toEqual({ type: 'activations', split: 'train', done: 1234, total: 2000 })
    expect(trainingProgressSchema.safeParse({ projectKey: KEY, runId: 1, event: e }).success).toBe(true)
  })

  it('maps the backend with the reasons the better ones were skipped', () => {
    const e = toProgressEvent({
      type: 'backend',
      info: {
        name: 'wasm',
        tfBackend: 'wasm',
        simd: true,
        threads: 1,
        skipped: [{ name: 'tensorflow', reason: 'not installed' }]
      }
    })
    expect(e).toEqual({ type: 'backend', name: 'wasm (SIMD)', notes: ['tensorflow: not installed'] })
    expect(trainingProgressSchema.safeParse({ projectKey: KEY, runId: 1, event: e }).success).toBe(true)
    const native = toProgressEvent({
      type: 'backend',
      info: {
        name: 'wasm',
        tfBackend: 'wasm',
        simd: true,
        threads: 1,
        native: { version: '2.6.3', threads: 2 },
        skipped: []
      }
    })
    expect(native).toMatchObject({ name: 'wasm (SIMD) + oneDNN 2.6.3 convolutions, 2 threads' })
  })
})
