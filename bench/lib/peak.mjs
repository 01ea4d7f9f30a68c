// Loaded with `node --import` into a process we do not own (the CLI): on exit, writes its peak RSS
// (process.resourceUsage().maxRSS, KiB; includes the wasm heap and worker threads) to $BENCH_PEAK_FILE.
// With $BENCH_RSS_TRACE, also appends "<ms since start> <rss MiB>" every 200 ms to that file, to see when the
// peak happens (pair it with the CLI's --json events).
import { appendFileSync, writeFileSync } from 'node:fs'

const file = process.env.BENCH_PEAK_FILE
if (file) {
  process.on('exit', () => {
    try {
      writeFileSync(file, JSON.stringify({ maxrss_kib: process.resourceUsage().maxRSS }))
    } catch {
      // the measurement is optional; never change the CLI's exit
    }
  })
}

const trace = process.env.BENCH_RSS_TRACE
if (trace) {
  const t0 = performance.now()
  setInterval(() => {
    try {
      appendFileSync(
        trace,
        `${Math.round(performance.now() - t0)} ${Math.round(process.memoryUsage.rss() / 1024 ** 2)}\n`
      )
    } catch {
      // optional
    }
  }, 200).unref()
}
