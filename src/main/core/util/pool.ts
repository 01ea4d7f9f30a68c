/**
 * Runs fn over items with at most `limit` calls in flight; results keep the input order.
 * The first rejection stops new work and is rethrown once in-flight calls settle.
 */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>
): Promise<R[]> {
  if (!Number.isInteger(limit) || limit < 1)
    throw new RangeError(`concurrency must be a positive integer, got ${limit}`)
  const results = new Array<R>(items.length)
  let nextIndex = 0
  let failed = false
  let firstError: unknown
  const worker = async (): Promise<void> => {
    while (!failed) {
      const i = nextIndex++
      if (i >= items.length) return
      try {
        results[i] = await fn(items[i] as T, i)
      } catch (err) {
        if (!failed) firstError = err
        failed = true
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  if (failed) throw firstError
  return results
}
