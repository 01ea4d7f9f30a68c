// Scan benchmark: npx tsx bench/scan.ts [N=50000] [--classes 5] [--concurrency 4,8,16] [--dir existing-folder] [--keep]
// Generates N small JPEGs (64x64) in a temp folder (time printed separately), then scans it and prints
// scan time, images/s and peak RSS. With --dir, scans that folder instead (run in a fresh process to
// measure RSS of the scan alone).
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { mkdtemp } from 'node:fs/promises'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { defaultScanConcurrency, scanProject } from '../src/main/core/project/scan'
import { mapLimit } from '../src/main/core/util/pool'
import { createRng } from '../src/main/core/util/rng'
import { encodeRgb, syntheticRgb } from '../test/helpers/synthetic'

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? process.argv[i + 1] : undefined
}

const mb = (kb: number): string => `${(kb / 1024).toFixed(0)} MiB`

async function generate(dir: string, n: number, classes: number): Promise<void> {
  const names = Array.from({ length: classes }, (_, i) => `class${i}`)
  for (const c of names) mkdirSync(join(dir, c), { recursive: true })
  const rng = createRng(123)
  const indices = Array.from({ length: n }, (_, i) => i)
  let done = 0
  await mapLimit(indices, 8, async (i) => {
    const cls = i % classes
    const buf = await encodeRgb(syntheticRgb(64, cls, rng), 64, 64, 'jpg')
    writeFileSync(join(dir, names[cls] as string, `img${i}.jpg`), buf)
    if (++done % 10000 === 0) process.stdout.write(`  generated ${done}\n`)
  })
}

async function main(): Promise<void> {
  const positional = process.argv
    .slice(2)
    .filter((a, i, all) => !a.startsWith('--') && !(all[i - 1] ?? '').startsWith('--'))
  const n = Number(positional[0] ?? 50000)
  const classes = Number(arg('classes') ?? 5)
  const given = arg('dir')
  const concurrencies = (arg('concurrency') ?? String(defaultScanConcurrency())).split(',').map(Number)
  console.log(
    `cores: ${availableParallelism()}, UV_THREADPOOL_SIZE: ${process.env.UV_THREADPOOL_SIZE ?? '4 (default)'}`
  )

  let dir = given
  if (!dir) {
    dir = await mkdtemp(join(tmpdir(), 'tunelab-bench-scan-'))
    const t0 = performance.now()
    await generate(dir, n, classes)
    console.log(
      `generated ${n} 64x64 JPEGs in ${classes} classes: ${((performance.now() - t0) / 1000).toFixed(1)} s (${dir})`
    )
    console.log(`peak RSS after generation: ${mb(process.resourceUsage().maxRSS)}`)
  }
  try {
    for (const concurrency of concurrencies) {
      let lastPct = -1
      const t0 = performance.now()
      const scan = await scanProject(dir, {
        concurrency,
        onProgress: (d, t) => {
          const pct = Math.floor((100 * d) / Math.max(1, t))
          if (pct % 25 === 0 && pct !== lastPct) {
            lastPct = pct
            process.stdout.write(`  ${pct}%`)
          }
        }
      })
      const s = (performance.now() - t0) / 1000
      process.stdout.write('\n')
      console.log(
        `scan (concurrency ${concurrency}): ${scan.images.length} images, ${scan.unreadable.length} unreadable, ${scan.classes.length} classes in ${s.toFixed(1)} s = ${(scan.images.length / s).toFixed(0)} images/s; ` +
          `rss now ${mb(process.memoryUsage().rss / 1024)}, peak RSS ${mb(process.resourceUsage().maxRSS)}`
      )
    }
  } finally {
    if (!given && !process.argv.includes('--keep')) rmSync(dir, { recursive: true, force: true })
  }
}

await main()
