// Base models the backend offers and their weight downloads (the Training screen's base picker).
import { defineStore } from 'pinia'
import { ref } from 'vue'
import type { ModelDownloadProgress, ModelInfo } from '@shared/contract/schemas'
import { errorMessage } from '../lib/format'
import { useApi } from './apiContext'

export const useModelsStore = defineStore('models', () => {
  const models = ref<ModelInfo[]>([])
  const modelsError = ref<string | null>(null)
  const downloads = ref<Record<string, ModelDownloadProgress>>({})
  const downloadError = ref<string | null>(null)

  let unsubscribe: (() => void) | null = null

  function listen(): void {
    unsubscribe ??= useApi().models.onDownloadProgress((p) => {
      downloads.value = { ...downloads.value, [p.id]: p }
    })
  }

  function stopListening(): void {
    unsubscribe?.()
    unsubscribe = null
  }

  async function loadModels(): Promise<void> {
    try {
      models.value = (await useApi().models.list()).models
      modelsError.value = null
    } catch (e) {
      modelsError.value = errorMessage(e)
    }
  }

  async function download(id: string): Promise<void> {
    listen()
    downloadError.value = null
    downloads.value = { ...downloads.value, [id]: { id, bytes: 0, total: null, bytesPerSecond: 0, done: false } }
    try {
      await useApi().models.download({ id })
      await loadModels()
    } catch (e) {
      downloadError.value = `Download of ${id} failed: ${errorMessage(e)}`
    } finally {
      const rest = { ...downloads.value }
      delete rest[id]
      downloads.value = rest
    }
  }

  return { models, modelsError, downloads, downloadError, listen, stopListening, loadModels, download }
})
