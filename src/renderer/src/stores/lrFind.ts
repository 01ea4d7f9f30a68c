// The learning-rate finder of the Training screen: starts it with the form's settings, follows its progress
// events, keeps its curve and suggestion.
import { defineStore } from 'pinia'
import { computed, ref, watch } from 'vue'
import type { LrFindProgress, LrFindResultView, TrainingConfig } from '@shared/contract'
import { errorMessage } from '../lib/format'
import { useApi } from './apiContext'
import { useProjectStore } from './project'

export const useLrFindStore = defineStore('lrFind', () => {
  const project = useProjectStore()
  const running = ref(false)
  const cancelling = ref(false)
  const step = ref<{ step: number; steps: number; lr: number; loss: number } | null>(null)
  const features = ref<{ done: number; total: number } | null>(null)
  const message = ref<string | null>(null)
  const result = ref<LrFindResultView | null>(null)
  const error = ref<string | null>(null)
  const cancelled = ref(false)
  const shown = computed(() => running.value || result.value !== null || error.value !== null || cancelled.value)

  let unsubscribe: (() => void) | null = null

  function onProgress(p: LrFindProgress): void {
    if (p.projectKey !== project.key || !running.value) return
    const e = p.event
    switch (e.type) {
      case 'info':
        message.value = e.message
        break
      case 'features':
        features.value = { done: e.done, total: e.total }
        break
      case 'step':
        step.value = { step: e.step, steps: e.steps, lr: e.lr, loss: e.loss }
        features.value = null
        break
      case 'done':
        running.value = false
        cancelling.value = false
        result.value = e.result
        cancelled.value = e.status === 'cancelled'
        if (e.status === 'failed') error.value = e.error ?? 'the learning-rate finder failed'
        break
    }
  }

  async function start(config: TrainingConfig): Promise<void> {
    const key = project.key
    if (!key || running.value) return
    unsubscribe ??= useApi().training.onFindLrProgress(onProgress)
    result.value = null
    error.value = null
    cancelled.value = false
    step.value = null
    features.value = null
    message.value = null
    running.value = true
    try {
      await useApi().training.findLr({ projectKey: key, config })
    } catch (e) {
      running.value = false
      error.value = `Could not start the learning-rate finder: ${errorMessage(e)}`
    }
  }

  async function cancel(): Promise<void> {
    const key = project.key
    if (!key || !running.value) return
    cancelling.value = true
    try {
      await useApi().training.cancelFindLr({ projectKey: key })
    } catch (e) {
      error.value = `Could not cancel: ${errorMessage(e)}`
    }
  }

  function dismiss(): void {
    if (running.value) return
    result.value = null
    error.value = null
    cancelled.value = false
  }

  // Another project: a finder still going for the previous one is cancelled, its curve and suggestion forgotten.
  watch(
    () => project.key,
    (_key, previous) => {
      if (running.value && previous)
        void useApi()
          .training.cancelFindLr({ projectKey: previous })
          .catch(() => undefined)
      running.value = false
      cancelling.value = false
      step.value = null
      features.value = null
      message.value = null
      result.value = null
      error.value = null
      cancelled.value = false
    }
  )

  return {
    running,
    cancelling,
    step,
    features,
    message,
    result,
    error,
    cancelled,
    shown,
    onProgress,
    start,
    cancel,
    dismiss
  }
})
