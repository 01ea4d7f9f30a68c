// Results of one run on one split: metrics, confusion matrix and its cells, galleries, threshold sweep, prediction.
import { defineStore } from 'pinia'
import { computed, ref, watch } from 'vue'
import type { SplitName } from '@shared/domain'
import { formatMegabytes, PREDICT_IMAGE_MAX_BYTES } from '@shared/contract/limits'
import type {
  ConfusionView,
  GalleryItemView,
  GalleryKind,
  PredictionView,
  RunDetail,
  ThresholdPointView
} from '@shared/contract/schemas'
import { errorMessage } from '../lib/format'
import { useApi } from './apiContext'
import { useProjectStore } from './project'

export const GALLERY_KINDS: readonly { kind: GalleryKind; label: string; empty: string }[] = [
  { kind: 'most-confident', label: 'Most confident', empty: 'No correct predictions for this class.' },
  { kind: 'least-confident', label: 'Least confident', empty: 'No predictions for this class.' },
  { kind: 'confidently-wrong', label: 'Confidently wrong', empty: 'Nothing wrong for this class.' }
]
export const GALLERY_SIZE = 12

export interface ClassRow {
  name: string
  precision: number | null
  recall: number | null
  f1: number | null
  support: number
}

/** Precision / recall / F1 / support per class, from the confusion matrix (rows: true, columns: predicted). */
export function perClassRows(c: ConfusionView): ClassRow[] {
  return c.classes.map((name, i) => {
    const row = c.matrix[i] ?? []
    const tp = row[i] ?? 0
    const support = row.reduce((a, b) => a + b, 0)
    const predicted = c.matrix.reduce((a, r) => a + (r[i] ?? 0), 0)
    const precision = predicted === 0 ? null : tp / predicted
    const recall = support === 0 ? null : tp / support
    const f1 =
      precision === null || recall === null || precision + recall === 0
        ? null
        : (2 * precision * recall) / (precision + recall)
    return { name, precision, recall, f1, support }
  })
}

/** Mean recall over the classes present (accuracy that each class counts for equally). */
export function balancedAccuracy(rows: readonly ClassRow[]): number | null {
  const recalls = rows.filter((r) => r.support > 0 && r.recall !== null).map((r) => r.recall as number)
  return recalls.length === 0 ? null : recalls.reduce((a, b) => a + b, 0) / recalls.length
}

/**
 * Every value the confidence slider can take (steps of 0.01 from chance level, 1/k, or 0.5 up to 1), so the figures
 * shown are those of the threshold shown, not of the nearest point of a coarser sweep.
 */
export function sliderThresholds(classCount = 2): number[] {
  const from = Math.floor(100 * Math.min(0.5, 1 / Math.max(2, classCount)))
  return Array.from({ length: 101 - from }, (_, i) => (from + i) / 100)
}

export const useResultsStore = defineStore('results', () => {
  const project = useProjectStore()

  const runId = ref<number | null>(null)
  const detail = ref<RunDetail | null>(null)
  const split = ref<SplitName>('test')
  const loading = ref(false)
  const error = ref<string | null>(null)

  const confusion = ref<ConfusionView | null>(null)
  const className = ref<string | null>(null)
  const galleries = ref<Partial<Record<GalleryKind, GalleryItemView[]>>>({})
  const galleriesLoading = ref(false)
  let galleryRequest = 0
  const cell = ref<{ trueClass: number; predictedClass: number; items: GalleryItemView[] } | null>(null)
  const sweep = ref<ThresholdPointView[]>([])
  const threshold = ref(0.75)
  const prediction = ref<(PredictionView & { name: string }) | null>(null)
  const predicting = ref(false)
  const predictError = ref<string | null>(null)

  const classRows = computed(() => (confusion.value ? perClassRows(confusion.value) : []))
  const balanced = computed(() => balancedAccuracy(classRows.value))
  const classes = computed(() => confusion.value?.classes ?? detail.value?.run.classes ?? [])

  // Another project: nothing of the previous one's run stays on screen (Results loads the new one's latest).
  watch(
    () => project.key,
    () => {
      galleryRequest++
      runId.value = null
      detail.value = null
      error.value = null
      confusion.value = null
      className.value = null
      galleries.value = {}
      cell.value = null
      sweep.value = []
      prediction.value = null
      predictError.value = null
    }
  )

  function need(): { projectKey: string; runId: number } {
    if (!project.key || runId.value === null) throw new Error('No run selected.')
    return { projectKey: project.key, runId: runId.value }
  }

  /** Loads a run (the latest completed one when no id is given) and everything the Results screen shows. */
  async function load(id?: number): Promise<void> {
    const key = project.key
    if (!key) return
    loading.value = true
    error.value = null
    try {
      const api = useApi()
      let target = id ?? null
      if (target === null) {
        const runs = (await api.runs.list({ projectKey: key })).runs
        target = runs.filter((r) => r.status === 'completed').sort((a, b) => b.runId - a.runId)[0]?.runId ?? null
      }
      if (project.key !== key) return // another project opened meanwhile
      if (target === null) {
        runId.value = null
        detail.value = null
        confusion.value = null
        return
      }
      runId.value = target
      const got = await api.runs.get({ projectKey: key, runId: target })
      if (project.key !== key) return
      detail.value = got
      const evaluated = got.evaluatedSplits
      if (!evaluated.includes(split.value))
        split.value = evaluated.includes('test') ? 'test' : (evaluated[0] ?? 'validation')
      if (evaluated.length === 0) {
        confusion.value = null
        return
      }
      await loadSplit()
    } catch (e) {
      error.value = errorMessage(e)
    } finally {
      loading.value = false
    }
  }

  async function loadSplit(): Promise<void> {
    const api = useApi()
    const ids = need()
    cell.value = null
    const [c, t] = await Promise.all([
      api.results.confusion({ ...ids, split: split.value }),
      api.results.threshold({
        ...ids,
        split: split.value,
        thresholds: sliderThresholds(detail.value?.run.classes.length)
      })
    ])
    if (ids.projectKey !== project.key) return
    confusion.value = c
    sweep.value = t.points
    if (className.value === null || !c.classes.includes(className.value)) className.value = c.classes[0] ?? null
    await loadGalleries()
  }

  async function setSplit(s: SplitName): Promise<void> {
    split.value = s
    try {
      await loadSplit()
      error.value = null
    } catch (e) {
      error.value = errorMessage(e)
    }
  }

  async function loadGalleries(): Promise<void> {
    const api = useApi()
    const ids = need()
    // Clicking through classes quickly: only the newest request's answer is shown.
    const request = ++galleryRequest
    galleriesLoading.value = true
    try {
      const entries = await Promise.all(
        GALLERY_KINDS.map(
          async (g) =>
            [
              g.kind,
              (
                await api.results.gallery({
                  ...ids,
                  split: split.value,
                  kind: g.kind,
                  className: className.value,
                  n: GALLERY_SIZE
                })
              ).items
            ] as const
        )
      )
      if (request === galleryRequest) galleries.value = Object.fromEntries(entries)
    } finally {
      if (request === galleryRequest) galleriesLoading.value = false
    }
  }

  async function setClass(name: string | null): Promise<void> {
    className.value = name
    try {
      await loadGalleries()
    } catch (e) {
      error.value = errorMessage(e)
    }
  }

  async function openCell(trueClass: number, predictedClass: number): Promise<void> {
    const names = confusion.value?.classes ?? []
    const t = names[trueClass]
    const p = names[predictedClass]
    if (t === undefined || p === undefined) return
    try {
      const r = await useApi().results.cell({ ...need(), split: split.value, trueClass: t, predictedClass: p, n: 200 })
      cell.value = { trueClass, predictedClass, items: r.items }
    } catch (e) {
      error.value = errorMessage(e)
    }
  }

  async function predictFile(file: File): Promise<void> {
    predictError.value = null
    if (file.size > PREDICT_IMAGE_MAX_BYTES) {
      predictError.value = `${file.name} is ${formatMegabytes(file.size)}: "Predict an image" takes images up to ${formatMegabytes(PREDICT_IMAGE_MAX_BYTES)}`
      return
    }
    predicting.value = true
    try {
      const base64 = await fileToBase64(file)
      const r = await useApi().predict.image({ ...need(), image: { kind: 'bytes', name: file.name, base64 } })
      prediction.value = { ...r, name: file.name }
    } catch (e) {
      predictError.value = `Could not predict ${file.name}: ${errorMessage(e)}`
    } finally {
      predicting.value = false
    }
  }

  return {
    runId,
    detail,
    split,
    loading,
    error,
    confusion,
    className,
    galleries,
    galleriesLoading,
    cell,
    sweep,
    threshold,
    prediction,
    predicting,
    predictError,
    classRows,
    balanced,
    classes,
    load,
    setSplit,
    setClass,
    openCell,
    predictFile
  }
})

async function fileToBase64(file: File): Promise<string> {
  const bytes = new Uint8Array(await file.arrayBuffer())
  let binary = ''
  const chunk = 0x8000
  for (let i = 0; i < bytes.length; i += chunk) binary += String.fromCharCode(...bytes.subarray(i, i + chunk))
  return btoa(binary)
}
