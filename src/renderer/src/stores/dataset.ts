// Split, augmentation and resize settings of the open project, with the split's counts (previewed before anything
// runs, debounced) and augmented samples of a chosen image.
import { defineStore } from 'pinia'
import { ref, watch } from 'vue'
import type { AugmentSpec, ResizeMode, SplitStrategy } from '@shared/domain'
import type { ImageInfo, SplitPreview } from '@shared/contract/schemas'
import type { SplitFormState } from '../lib/splitForm'
import { errorMessage } from '../lib/format'
import { useApi } from './apiContext'
import { useProjectStore } from './project'

export const PREVIEW_DEBOUNCE_MS = 250
export const AUGMENT_SAMPLES = 8

export const useDatasetStore = defineStore('dataset', () => {
  const project = useProjectStore()

  const strategy = ref<SplitStrategy | null>(null)
  const splitError = ref<string | null>(null)
  /** The split form's fields as last typed (an invalid entry too), to show them again when the screen comes back. */
  const splitDraft = ref<SplitFormState | null>(null)
  const preview = ref<SplitPreview | null>(null)
  const previewLoading = ref(false)
  const previewError = ref<string | null>(null)

  /** null: the recipe's own (the TF tutorial's flip and rotation, none for auto); a spec: exactly that. */
  const augment = ref<AugmentSpec | null>(null)
  /** 'auto': left to the recipe (auto tries squash and pad on small projects; the others squash). */
  const resizeMode = ref<ResizeMode | 'auto'>('auto')
  const previewSize = ref(160)
  const sampleImage = ref<ImageInfo | null>(null)
  const samples = ref<string[]>([])
  const samplesLoading = ref(false)
  const samplesError = ref<string | null>(null)

  /** A few images per class (thumbnails and the choice of sample image). */
  const thumbnails = ref<Record<string, ImageInfo[]>>({})
  const thumbnailsError = ref<string | null>(null)

  let splitTimer: ReturnType<typeof setTimeout> | null = null
  let splitSeq = 0
  let sampleSeq = 0

  function setStrategy(s: SplitStrategy): void {
    strategy.value = s
    splitError.value = null
    schedulePreview()
  }

  function setSplitInvalid(message: string): void {
    splitError.value = message
    if (splitTimer) clearTimeout(splitTimer)
  }

  function schedulePreview(): void {
    if (splitTimer) clearTimeout(splitTimer)
    splitTimer = setTimeout(() => void previewSplit(), PREVIEW_DEBOUNCE_MS)
  }

  /** Asks the backend what the strategy would give; a late answer to an older strategy is dropped. */
  async function previewSplit(): Promise<void> {
    splitTimer = null
    const key = project.key
    const s = strategy.value
    if (!key || !s) return
    const seq = ++splitSeq
    previewLoading.value = true
    try {
      const p = await useApi().dataset.previewSplit({ projectKey: key, strategy: s })
      if (seq !== splitSeq) return
      preview.value = p
      previewError.value = null
    } catch (e) {
      if (seq === splitSeq) previewError.value = errorMessage(e)
    } finally {
      if (seq === splitSeq) previewLoading.value = false
    }
  }

  async function loadThumbnails(perClass = 6): Promise<void> {
    const key = project.key
    if (!key) return
    try {
      const api = useApi()
      const entries = await Promise.all(
        project.classes.map(
          async (c) =>
            [c, (await api.dataset.images({ projectKey: key, className: c, limit: perClass })).images] as const
        )
      )
      thumbnails.value = Object.fromEntries(entries)
      thumbnailsError.value = null
      const first = entries.find(([, imgs]) => imgs.length > 0)?.[1][0]
      // The sample stays unless its file is gone from the listing (moved by "apply to folders", say).
      const listed = entries.flatMap(([, imgs]) => imgs)
      const current = sampleImage.value
      const still = current && listed.some((i) => i.imageId === current.imageId && i.relPath === current.relPath)
      if (!still) sampleImage.value = first ?? null
    } catch (e) {
      thumbnailsError.value = errorMessage(e)
    }
  }

  async function refreshSamples(): Promise<void> {
    const key = project.key
    const img = sampleImage.value
    const spec = augment.value
    if (!key || !img) return
    const seq = ++sampleSeq
    if (spec === null) {
      // The recipe is chosen on the Training screen: there is no one augmentation to show.
      samples.value = []
      samplesError.value = null
      samplesLoading.value = false
      return
    }
    samplesLoading.value = true
    try {
      const r = await useApi().dataset.augmentPreview({
        projectKey: key,
        imageId: img.imageId,
        spec,
        n: AUGMENT_SAMPLES,
        seed: 1,
        size: previewSize.value,
        resizeMode: resizeMode.value === 'auto' ? 'squash' : resizeMode.value
      })
      if (seq !== sampleSeq) return
      samples.value = r.images
      samplesError.value = null
    } catch (e) {
      if (seq === sampleSeq) samplesError.value = errorMessage(e)
    } finally {
      if (seq === sampleSeq) samplesLoading.value = false
    }
  }

  let sampleTimer: ReturnType<typeof setTimeout> | null = null
  watch([augment, resizeMode, sampleImage, previewSize], () => {
    if (sampleTimer) clearTimeout(sampleTimer)
    sampleTimer = setTimeout(() => void refreshSamples(), 150)
  })

  /** Each project's augmentation and resize settings, kept while another project is open. */
  const perProject = new Map<string, { augment: AugmentSpec | null; resizeMode: ResizeMode | 'auto' }>()
  watch(
    () => project.key,
    (key, previous) => {
      if (previous) perProject.set(previous, { augment: augment.value, resizeMode: resizeMode.value })
      const kept = key ? perProject.get(key) : undefined
      augment.value = kept?.augment ?? null
      resizeMode.value = kept?.resizeMode ?? 'auto'
      strategy.value = null
      splitDraft.value = null
      splitError.value = null
      preview.value = null
      previewError.value = null
      thumbnails.value = {}
      sampleImage.value = null
      samples.value = []
    }
  )

  return {
    strategy,
    splitError,
    splitDraft,
    preview,
    previewLoading,
    previewError,
    augment,
    resizeMode,
    previewSize,
    sampleImage,
    samples,
    samplesLoading,
    samplesError,
    thumbnails,
    thumbnailsError,
    setStrategy,
    setSplitInvalid,
    previewSplit,
    loadThumbnails,
    refreshSamples
  }
})
