// Terminal progress bar on stderr. On a TTY it redraws one line; otherwise it prints a line at most every few seconds.

export interface ProgressBar {
  update(done: number, extra?: string): void
  finish(extra?: string): void
}

function formatSeconds(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '--:--'
  const total = Math.round(s)
  const h = Math.floor(total / 3600)
  const m = Math.floor((total % 3600) / 60)
  const sec = total % 60
  const mm = String(m).padStart(2, '0')
  const ss = String(sec).padStart(2, '0')
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`
}

export function createProgressBar(
  label: string,
  total: number,
  stream: NodeJS.WriteStream = process.stderr
): ProgressBar {
  const started = Date.now()
  const tty = stream.isTTY === true
  let lastPrint = 0
  const render = (done: number, extra: string | undefined, final: boolean): string => {
    const frac = total > 0 ? Math.min(1, done / total) : 1
    const width = 24
    const filled = Math.round(frac * width)
    const elapsed = (Date.now() - started) / 1000
    const eta = done > 0 ? (elapsed / done) * (total - done) : Number.NaN
    const time = final ? `${formatSeconds(elapsed)}` : `ETA ${formatSeconds(eta)}`
    const bar = '█'.repeat(filled) + '░'.repeat(width - filled)
    return `${label} ${bar} ${done}/${total} ${(frac * 100).toFixed(0).padStart(3)}% ${time}${extra ? ' ' + extra : ''}`
  }
  return {
    update(done, extra) {
      const now = Date.now()
      if (tty) {
        if (now - lastPrint < 80 && done < total) return
        lastPrint = now
        stream.write('\r\x1b[2K' + render(done, extra, false))
      } else if (now - lastPrint > 5000) {
        lastPrint = now
        stream.write(render(done, extra, false) + '\n')
      }
    },
    finish(extra) {
      const line = render(total, extra, true)
      stream.write(tty ? '\r\x1b[2K' + line + '\n' : line + '\n')
    }
  }
}

export { formatSeconds }
