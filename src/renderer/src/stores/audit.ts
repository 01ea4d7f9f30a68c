// The project's label audit: start / cancel with live progress, its findings, and "keep as is".
import { defineStore } from 'pinia'
import { ref, watch } from 'vue'
import type { AuditConfig, AuditFindingView, AuditProgress, AuditView } from '@shared/contract'
import { errorMessage } from '../lib/format'
import { formFromConfig } from '../lib/trainingForm'
import { useApi } from './apiContext'
import { useProjectStore } from './project'

export interface AuditForm {
  baseId: string
  weights: 'official' | 'file'
  weightsPath: string
  folds: number
}

export const useAuditStore = defineStore('audit', () => {
  const project = useProjectStore()
  const view = ref<AuditView | null>(null)
  const defaultForm = (): AuditForm => ({
    baseId: 'mobilenet_v2_1.0_160',
    weights: 'official',
    weightsPath: '',
    folds: 5
  })
  const form = ref<AuditForm>(defaultForm())
  const progress = ref<{ stage: string; detail: string; done: number; total: number } | null>(null)
  const running = ref(false)
  const loading = ref(false)
  const error = ref<string | null>(null)
  let unsubscribe: (() => void) | null = null

  // Another project: its own audit (loaded by the Audit screen) and a form prefilled from its own runs.
  watch(
    () => project.key,
    () => {
      view.value = null
      form.value = defaultForm()
      progress.value = null
      running.value = false
      error.value = null
    }
  )

  function onProgress(p: AuditProgress): void {
    if (p.projectKey !== project.key) return
    const e = p.event
    if (e.type === 'stage') progress.value = { stage: e.stage, detail: e.detail, done: 0, total: 0 }
    else if (e.type === 'progress')
      progress.value = { stage: e.stage, detail: progress.value?.detail ?? '', done: e.done, total: e.total }
    else {
      running.value = false
      progress.value = null
      if (e.status === 'failed') error.value = `The audit failed: ${e.error ?? 'unknown error'}`
      else if (e.status === 'cancelled') error.value = 'The audit was cancelled.'
      void load()
    }
  }

  /** The base and weights of the project's latest run, so the audit reads the features training cached. */
  async function prefill(): Promise<void> {
    const key = project.key
    if (!key) return
    try {
      const { runs } = await useApi().runs.list({ projectKey: key })
      const last = [...runs].reverse().find((r) => r.status === 'completed')
      if (!last) return
      const detail = await useApi().runs.get({ projectKey: key, runId: last.runId })
      const f = formFromConfig(detail.config)
      if (f && f.weights !== 'random')
        form.value = { ...form.value, baseId: f.baseId, weights: f.weights, weightsPath: f.weightsPath }
    } catch {
      // Prefilling is a convenience: the form keeps its defaults.
    }
  }

  async function load(): Promise<void> {
    const key = project.key
    if (!key) return
    unsubscribe ??= useApi().audit.onProgress(onProgress)
    loading.value = true
    try {
      view.value = await useApi().audit.get({ projectKey: key })
      running.value = view.value.running
    } catch (e) {
      error.value = errorMessage(e)
    } finally {
      loading.value = false
    }
  }

  async function start(): Promise<void> {
    const key = project.key
    if (!key) return
    const f = form.value
    const config: AuditConfig = {
      baseId: f.baseId,
      weights: f.weights === 'file' ? { path: f.weightsPath.trim() } : 'official',
      folds: f.folds
    }
    error.value = null
    unsubscribe ??= useApi().audit.onProgress(onProgress)
    try {
      await useApi().audit.start({ projectKey: key, config })
      running.value = true
      progress.value = { stage: 'starting', detail: '', done: 0, total: 0 }
    } catch (e) {
      error.value = errorMessage(e)
    }
  }

  async function cancel(): Promise<void> {
    const key = project.key
    if (key) await useApi().audit.cancel({ projectKey: key })
  }

  function without(f: AuditFindingView): void {
    const v = view.value
    if (!v) return
    const keep = (x: AuditFindingView): boolean =>
      !(x.kind === f.kind && x.image.imageId === f.image.imageId && x.other?.imageId === f.other?.imageId)
    view.value = {
      ...v,
      labelIssues: v.labelIssues.filter(keep),
      nearDuplicates: v.nearDuplicates.filter(keep),
      outliers: v.outliers.filter(keep)
    }
  }

  /** "Keep as is": not shown again until the file changes. */
  async function dismiss(f: AuditFindingView): Promise<void> {
    const key = project.key
    if (!key) return
    try {
      await useApi().audit.dismiss({
        projectKey: key,
        kind: f.kind,
        imageId: f.image.imageId,
        ...(f.other ? { otherImageId: f.other.imageId } : {})
      })
      without(f)
    } catch (e) {
      error.value = errorMessage(e)
    }
  }

  return { view, form, progress, running, loading, error, prefill, load, start, cancel, dismiss, without }
})
