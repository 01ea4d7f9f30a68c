// audit.*: starts the label audit in a worker, reads its findings and remembers "keep as is".
import { DEFAULT_AUDIT_OPTIONS, type AuditOptions } from '@core/audit/runAudit'
import { dismissFinding, latestAudit, listFindings, type AuditFinding } from '@core/store/auditStore'
import type { AuditConfig, AuditFindingView } from '@shared/contract'
import type { SplitName } from '@shared/domain'
import type { PartialHandlers } from './context'

export function auditOptionsFrom(config: AuditConfig, weightsCacheDir: string): AuditOptions {
  return {
    ...DEFAULT_AUDIT_OPTIONS,
    baseId: config.baseId,
    weights:
      config.weights === 'official'
        ? { kind: 'download', cacheDir: weightsCacheDir }
        : { kind: 'file', path: config.weights.path },
    resizeMode: config.resizeMode ?? DEFAULT_AUDIT_OPTIONS.resizeMode,
    folds: config.folds ?? DEFAULT_AUDIT_OPTIONS.folds
  }
}

function view(f: AuditFinding): AuditFindingView {
  const image = (i: AuditFinding['image']): AuditFindingView['image'] => ({
    imageId: i.imageId,
    relPath: i.relPath,
    className: i.className,
    split: i.split as SplitName | null
  })
  return { ...f, image: image(f.image), other: f.other ? image(f.other) : null }
}

export const auditHandlers: PartialHandlers<'audit.start' | 'audit.cancel' | 'audit.get' | 'audit.dismiss'> = {
  'audit.start': async ({ projectKey, config }, ctx) => {
    const p = ctx.projects.get(projectKey)
    ctx.audits.start(projectKey, p.root, auditOptionsFrom(config, ctx.weightsCacheDir))
    return { started: true }
  },
  'audit.cancel': async ({ projectKey }, ctx) => ({ cancelled: ctx.audits.cancel(projectKey) }),
  'audit.get': async ({ projectKey, limit }, ctx) => {
    const p = ctx.projects.get(projectKey)
    const db = p.state.store.db
    const audit = latestAudit(db, p.state.project.id)
    const running = ctx.audits.isRunning(projectKey)
    if (!audit) return { audit: null, running, labelIssues: [], nearDuplicates: [], outliers: [] }
    const list = (kind: 'label' | 'duplicate' | 'outlier'): AuditFindingView[] =>
      listFindings(db, audit.id, kind, { limit: limit ?? 200 }).map(view)
    return {
      audit: {
        auditId: audit.id,
        createdAt: audit.createdAt,
        baseId: audit.baseId,
        folds: audit.folds,
        classes: audit.classes,
        seconds: audit.timings
      },
      running,
      labelIssues: list('label'),
      nearDuplicates: list('duplicate'),
      outliers: list('outlier')
    }
  },
  'audit.dismiss': async ({ projectKey, kind, imageId, otherImageId }, ctx) => {
    const p = ctx.projects.get(projectKey)
    dismissFinding(p.state.store.db, p.state.project.id, kind, imageId, otherImageId ?? null)
    return { dismissed: true }
  }
}
