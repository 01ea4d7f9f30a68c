// The CLI's view of a run: progress bars on stderr and one line per event on stdout (the words come from
// core/run/eventText.ts, shared with the app), or JSON lines with --json.
import type { RunEvent } from '@core/run/events'
import { describeRunEvent } from '@core/run/eventText'
import type { CommandContext } from './command'
import { createProgressBar, type ProgressBar } from './progress'

/** Renders run events as progress bars and lines on stderr/stdout, or as JSON lines. */
export function createRunReporter(ctx: CommandContext): (e: RunEvent) => void {
  let bar: ProgressBar | undefined
  let barKey = ''
  const barFor = (key: string, label: string, total: number): ProgressBar => {
    if (barKey !== key || !bar) {
      bar = createProgressBar(label, total)
      barKey = key
    }
    return bar
  }
  const endBar = (extra?: string): void => {
    bar?.finish(extra)
    bar = undefined
    barKey = ''
  }
  return (e) => {
    if (ctx.json) {
      if (
        e.type === 'scan-progress' ||
        e.type === 'download-progress' ||
        e.type === 'features' ||
        e.type === 'activations' ||
        e.type === 'evaluate-progress'
      )
        return
      const { type, ...rest } = e
      ctx.emit({ event: type, ...rest })
      return
    }
    switch (e.type) {
      case 'scan-progress':
        barFor('scan', 'scan    ', e.total).update(e.done)
        if (e.done === e.total) endBar()
        return
      case 'download-progress':
        barFor('download', 'download', e.total ?? 0).update(e.bytes, `${(e.bytesPerSecond / 1e6).toFixed(1)} MB/s`)
        return
      case 'features':
        barFor(`features-${e.split}`, `features ${e.split === 'train' ? 'train' : 'val  '}`, e.total).update(
          e.done,
          e.fromDisk ? `(${e.fromDisk} cached)` : ''
        )
        if (e.done === e.total) endBar()
        return
      case 'activations':
        barFor(`act-${e.split}`, `frozen part ${e.split === 'train' ? 'train' : 'val  '}`, e.total).update(e.done)
        if (e.done === e.total) endBar()
        return
      case 'batch':
        barFor(`epoch-${e.epoch}`, `epoch ${String(e.epoch).padStart(3)}`, e.batches).update(
          e.batch,
          `loss ${e.loss.toFixed(4)} acc ${e.accuracy.toFixed(3)} ${e.imagesPerSec.toFixed(0)} img/s`
        )
        return
      case 'epoch': {
        const val =
          e.valLoss !== null ? ` val_loss ${e.valLoss.toFixed(4)} val_acc ${(e.valAccuracy ?? 0).toFixed(4)}` : ''
        const line = `epoch ${String(e.epoch).padStart(3)} ${e.phase === 'head' ? 'p1' : 'p2'} loss ${e.loss.toFixed(4)} acc ${e.accuracy.toFixed(4)}${val} (${e.seconds.toFixed(1)} s, ${e.imagesPerSec.toFixed(0)} img/s)`
        if (bar && barKey === `epoch-${e.epoch}`) {
          bar = undefined
          barKey = ''
          process.stderr.write(process.stderr.isTTY ? '\r\x1b[2K' : '')
        }
        ctx.say(line)
        return
      }
      case 'evaluate-progress':
        barFor(`eval-${e.split}`, `eval ${e.split}`, e.total).update(e.done)
        return
      default: {
        const line = describeRunEvent(e)
        if (!line) return
        if (line.heading && bar) endBar()
        ctx.say(line.heading ? `» ${line.text}` : `  ${line.text}`)
      }
    }
  }
}
