// Which screen is shown, what the backend says about itself, and the app-wide error banner.
import { defineStore } from 'pinia'
import { ref } from 'vue'
import type { AppInfo } from '@shared/contract/schemas'
import type { StartupReport } from '@shared/contract/startupCheck'
import { errorMessage } from '../lib/format'
import { useApi } from './apiContext'

export type Screen = 'projects' | 'dataset' | 'training' | 'results' | 'audit' | 'runs'
export const SCREENS: readonly { id: Screen; label: string }[] = [
  { id: 'projects', label: 'Projects' },
  { id: 'dataset', label: 'Dataset' },
  { id: 'training', label: 'Training' },
  { id: 'results', label: 'Results' },
  { id: 'audit', label: 'Audit' },
  { id: 'runs', label: 'Runs' }
]

export const useAppStore = defineStore('app', () => {
  const screen = ref<Screen>('projects')
  const info = ref<AppInfo | null>(null)
  const error = ref<string | null>(null)
  /** The native-module check main.ts fetched before mounting (optional modules that are missing show as notes). */
  const startup = ref<StartupReport | null>(null)

  function go(s: Screen): void {
    screen.value = s
  }

  async function load(): Promise<void> {
    try {
      info.value = await useApi().app.info()
      error.value = null
    } catch (e) {
      error.value = `Cannot reach the TuneLab backend: ${errorMessage(e)}`
    }
  }

  /** Backend name as shown in the header (set by a training's 'backend' event too). */
  function setBackend(name: string, notes: string[]): void {
    if (!info.value) return
    info.value = {
      ...info.value,
      backend: { name, tfBackend: name, skipped: notes.map((n) => ({ name: n, reason: '' })) }
    }
  }

  return { screen, info, error, startup, go, load, setBackend }
})
