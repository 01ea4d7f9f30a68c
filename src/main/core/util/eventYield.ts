// A loop whose awaits all resolve as microtasks (cached features on a synchronous backend) never lets the event
// loop run: a worker's 'cancel' message or a timer would wait for the loop to end. This gives them a turn.

/** An await that yields to queued events (setImmediate) at most every `everyMs`, else returns at once. */
export function eventYielder(everyMs = 50): () => Promise<void> {
  let last = performance.now()
  return async () => {
    if (performance.now() - last < everyMs) return
    await new Promise<void>((resolve) => setImmediate(resolve))
    last = performance.now()
  }
}
