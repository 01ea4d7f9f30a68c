// The open project: its info, its latest scan (classes, unreadable files, leakage) and the recent list.
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import type { ProjectInfo, RecentProject, ScanView } from '@shared/contract/schemas'
import { errorMessage } from '../lib/format'
import { useApi } from './apiContext'

export const useProjectStore = defineStore('project', () => {
  const project = ref<ProjectInfo | null>(null)
  const scan = ref<ScanView | null>(null)
  const recent = ref<RecentProject[]>([])
  const busy = ref<'opening' | 'scanning' | null>(null)
  const error = ref<string | null>(null)

  const key = computed(() => project.value?.projectKey ?? null)
  const classes = computed(
    () => scan.value?.classes.map((c) => c.name) ?? project.value?.lastScan?.classes.map((c) => c.name) ?? []
  )
  const layout = computed(() => scan.value?.layout ?? project.value?.lastScan?.layout ?? null)
  /** Whether a pre-split folder has its own test/ folder. */
  const hasTestFolder = computed(
    () =>
      scan.value?.folderSplits.includes('test') ??
      project.value?.lastScan?.classes.some((c) => (c.counts.test ?? 0) > 0) ??
      false
  )

  async function loadRecent(): Promise<void> {
    try {
      recent.value = (await useApi().project.recent()).projects
    } catch (e) {
      error.value = errorMessage(e)
    }
  }

  /** Opens a folder and scans it (the scan lists unreadable files and leakage, which the stored summary does not). */
  async function open(path: string): Promise<boolean> {
    const trimmed = path.trim()
    if (!trimmed) {
      error.value = 'Type the path of a project folder first.'
      return false
    }
    busy.value = 'opening'
    error.value = null
    try {
      const info = await useApi().project.open({ path: trimmed })
      project.value = info
      scan.value = null
      // A read-only project cannot store a new scan: its stored summary and history are what there is to show.
      if (!info.stateReadOnly) await rescan()
      void loadRecent()
      return error.value === null
    } catch (e) {
      // The backend's reasons mostly name the folder already; say it once.
      const reason = errorMessage(e)
      error.value = reason.includes(trimmed)
        ? `Could not open the folder: ${reason}`
        : `Could not open ${trimmed}: ${reason}`
      return false
    } finally {
      busy.value = null
    }
  }

  async function pickAndOpen(): Promise<boolean> {
    try {
      const { path } = await useApi().app.pickFolder()
      return path === null ? false : await open(path)
    } catch (e) {
      error.value = errorMessage(e)
      return false
    }
  }

  async function rescan(): Promise<void> {
    if (!key.value) return
    busy.value = 'scanning'
    try {
      scan.value = await useApi().project.scan({ projectKey: key.value })
      error.value = null
    } catch (e) {
      error.value = `Scan failed: ${errorMessage(e)}`
    } finally {
      busy.value = null
    }
  }

  return {
    project,
    scan,
    recent,
    busy,
    error,
    key,
    classes,
    layout,
    hasTestFolder,
    loadRecent,
    open,
    pickAndOpen,
    rescan
  }
})
