// Loaded with `node --import` into a process we do not own (the CLI): on exit, writes its peak RSS
// (process.resourceUsage().maxRSS, KiB; includes the wasm heap and worker threads) to $BENCH_PEAK_FILE.
import { writeFileSync } from 'node:fs'

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
