// Run history of the open project, and two runs' curves side by side.
import { defineStore } from 'pinia'
import { ref, watch } from 'vue'
import type { RunDetail, RunSummary } from '@shared/contract/schemas'
import { errorMessage } from '../lib/format'
import { useApi } from './apiContext'
import { useProjectStore } from './project'

export const useRunsStore = defineStore('runs', () => {
  const project = useProjectStore()
  const runs = ref<RunSummary[]>([])
  const loading = ref(false)
  const error = ref<string | null>(null)
  /** Up to two runs chosen for comparison, in the order they were picked. */
  const compare = ref<number[]>([])
  const details = ref<Record<number, RunDetail>>({})

  watch(
    () => project.key,
    () => {
      runs.value = []
      compare.value = []
      details.value = {}
      error.value = null
    }
  )

  async function load(): Promise<void> {
    const key = project.key
    if (!key) return
    loading.value = true
    try {
      runs.value = (await useApi().runs.list({ projectKey: key })).runs.slice().sort((a, b) => b.runId - a.runId)
      error.value = null
      // Configs for the table: the newest runs only, so a long history stays one cheap call each.
      await Promise.all(runs.value.slice(0, 20).map((r) => detail(r.runId)))
    } catch (e) {
      error.value = errorMessage(e)
    } finally {
      loading.value = false
    }
  }

  async function detail(runId: number): Promise<RunDetail | null> {
    const key = project.key
    if (!key) return null
    const cached = details.value[runId]
    if (cached && cached.run.status !== 'running') return cached
    try {
      const d = await useApi().runs.get({ projectKey: key, runId })
      details.value = { ...details.value, [runId]: d }
      return d
    } catch (e) {
      error.value = errorMessage(e)
      return null
    }
  }

  /** Adds or removes a run from the comparison; a third pick replaces the oldest. */
  async function toggleCompare(runId: number): Promise<void> {
    if (compare.value.includes(runId)) {
      compare.value = compare.value.filter((id) => id !== runId)
      return
    }
    compare.value = [...compare.value, runId].slice(-2)
    await detail(runId)
  }

  return { runs, loading, error, compare, details, load, detail, toggleCompare }
})
