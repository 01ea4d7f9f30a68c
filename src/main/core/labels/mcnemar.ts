// McNemar's exact test: are b and c (the discordant pairs) more different than a fair coin would make them?

/** Two-sided exact p-value: 2 * P(X <= min(b, c)) for X ~ Binomial(b + c, 1/2), capped at 1; 1 when b + c = 0. */
export function mcnemarExact(b: number, c: number): number {
  if (!Number.isInteger(b) || !Number.isInteger(c) || b < 0 || c < 0)
    throw new RangeError(`mcnemarExact: counts must be non-negative integers, got ${b}, ${c}`)
  const n = b + c
  if (n === 0) return 1
  const k = Math.min(b, c)
  // Sum in log space: C(n, i) / 2^n underflows for large n.
  let logTerm = -n * Math.LN2 // i = 0: C(n,0) / 2^n
  let sum = Math.exp(logTerm)
  for (let i = 1; i <= k; i++) {
    logTerm += Math.log(n - i + 1) - Math.log(i)
    sum += Math.exp(logTerm)
  }
  return Math.min(1, 2 * sum)
}
