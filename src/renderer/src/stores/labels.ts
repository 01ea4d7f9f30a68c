// Label overrides of the open project: which images were relabelled or excluded, and the actions on them.
// Every change is stored by the backend at once; this store keeps the latest state for the galleries' marks.
import { defineStore } from 'pinia'
import { computed, ref, watch } from 'vue'
import type { LabelActionView, LabelOverrideView, LabelStateView } from '@shared/contract/labelSchemas'
import { errorMessage } from '../lib/format'
import { useApi } from './apiContext'
import { useProjectStore } from './project'

/** What a gallery card shows for an image with an override. */
export function overrideMark(o: LabelOverrideView | undefined): string | null {
  if (!o) return null
  return o.excluded ? 'excluded' : `→ ${o.newClass ?? '?'}`
}

export const useLabelsStore = defineStore('labels', () => {
  const project = useProjectStore()
  const state = ref<LabelStateView | null>(null)
  const busy = ref(false)
  const error = ref<string | null>(null)

  const byImage = computed(() => {
    const map = new Map<number, LabelOverrideView>()
    for (const o of state.value?.overrides ?? []) if (o.imageId !== null) map.set(o.imageId, o)
    return map
  })
  /** imageId (as a string, as galleries key them) -> mark text. */
  const marks = computed(() =>
    Object.fromEntries([...byImage.value].map(([id, o]) => [String(id), overrideMark(o) ?? '']))
  )
  const counts = computed(() => state.value?.counts ?? { relabelled: 0, excluded: 0 })

  function key(): string {
    if (!project.key) throw new Error('No project open.')
    return project.key
  }

  async function run(fn: () => Promise<LabelStateView>): Promise<boolean> {
    busy.value = true
    try {
      state.value = await fn()
      error.value = null
      return true
    } catch (e) {
      error.value = errorMessage(e)
      return false
    } finally {
      busy.value = false
    }
  }

  const load = (): Promise<boolean> => run(() => useApi().labels.list({ projectKey: key() }))
  const set = (imageIds: number[], action: LabelActionView, note?: string): Promise<boolean> =>
    run(() => useApi().labels.set({ projectKey: key(), imageIds, action, ...(note ? { note } : {}) }))
  const undo = (actionId?: number): Promise<boolean> =>
    run(() => useApi().labels.undo({ projectKey: key(), ...(actionId !== undefined ? { actionId } : {}) }))
  const clear = (): Promise<boolean> => run(() => useApi().labels.clear({ projectKey: key() }))

  watch(
    () => project.key,
    (k) => {
      state.value = null
      if (k) void load()
    },
    { immediate: true }
  )

  return { state, busy, error, byImage, marks, counts, load, set, undo, clear }
})
