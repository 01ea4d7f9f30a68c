// The words for a run's events, shared by the CLI's reporter and the Training screen's messages, so both say
// the same thing. Events shown as bars or charts (progress, batches, epochs) have no line here.
import { describeBackend } from '../tf/describeBackend'
import type { RunEvent } from './events'

/** One line for people; null for events shown otherwise. Stages and phases are headings, the rest details. */
export function describeRunEvent(e: RunEvent): { text: string; heading: boolean } | null {
  switch (e.type) {
    case 'stage':
      return { text: `${e.stage}: ${e.detail}`, heading: true }
    case 'phase-start':
      return {
        text: `${e.phase === 'head' ? 'phase 1 (head, base frozen)' : `phase 2 (fine-tuning from layer ${e.fineTuneAt})`}: ${e.epochs} epoch(s), ${e.path}: ${e.detail}`,
        heading: true
      }
    case 'backend': {
      const skipped = e.info.skipped.map((s) => `${s.name} (${s.reason})`).join('; ')
      return { text: `backend: ${describeBackend(e.info)}${skipped ? `; not used: ${skipped}` : ''}`, heading: false }
    }
    case 'run-created':
      return {
        text: `run #${e.runId}: ${e.classes.length} classes (${e.classes.join(', ')}); train ${e.counts.train}, validation ${e.counts.validation}, test ${e.counts.test}`,
        heading: false
      }
    case 'early-stop':
      return {
        text: `early stop at epoch ${e.epoch}: best val_loss ${e.bestValLoss.toFixed(4)} at epoch ${e.bestEpoch}`,
        heading: false
      }
    case 'restored-best':
      return { text: `restored the weights of epoch ${e.bestEpoch}`, heading: false }
    case 'evaluation':
      return {
        text: `${e.split}: accuracy ${e.metrics.accuracy.toFixed(4)}, loss ${e.metrics.loss.toFixed(4)} (${e.metrics.count} images)`,
        heading: false
      }
    case 'info':
      return { text: e.message, heading: false }
    default:
      return null
  }
}
