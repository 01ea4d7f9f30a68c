// The live state of a training run, fed by 'training.progress' events (base models and downloads: models.ts).
import { defineStore } from 'pinia'
import { computed, ref, watch } from 'vue'
import type { TrainingConfig, TrainingProgress } from '@shared/contract/schemas'
import type { RunStatus } from '@shared/domain'
import type { EpochPoint } from '../components/LearningCurves.vue'
import { errorMessage } from '../lib/format'
import { loadDraft, saveDraft } from '../lib/formDrafts'
import {
  formFromConfig,
  isSet,
  plannedEpochs as plannedEpochsOf,
  trainingOptions,
  type TrainingFormValue
} from '../lib/trainingForm'
import type { RunChoice } from '@shared/runConfig'
import { useApi } from './apiContext'
import { useAppStore } from './app'
import { useDatasetStore } from './dataset'
import { useModelsStore } from './models'
import { useProjectStore } from './project'

export interface BatchProgress {
  phase: 'head' | 'fine-tune'
  epoch: number
  batch: number
  batches: number
  loss: number
  accuracy: number
  imagesPerSec: number
  etaSeconds: number
}

export const useTrainingStore = defineStore('training', () => {
  const project = useProjectStore()
  const dataset = useDatasetStore()
  const app = useAppStore()
  const models = useModelsStore()

  const runId = ref<number | null>(null)
  const status = ref<RunStatus | null>(null)
  const starting = ref(false)
  const error = ref<string | null>(null)
  const epochs = ref<EpochPoint[]>([])
  const fineTuneStart = ref<number | null>(null)
  const phase = ref<{ phase: 'head' | 'fine-tune'; epochs: number; detail: string } | null>(null)
  const features = ref<{ split: string; done: number; total: number } | null>(null)
  /** Phase 2's one-time pass of the frozen layers over every image. */
  const activations = ref<{ split: string; done: number; total: number } | null>(null)
  const batch = ref<BatchProgress | null>(null)
  const backend = ref<{ name: string; notes: string[] } | null>(null)
  const messages = ref<string[]>([])
  /**
   * The form as the user left it, per project (edits survive leaving the screen; another project has its own),
   * else the settings of the run last started or reattached here.
   */
  const drafts = ref<Record<string, TrainingFormValue | null>>({})
  const lastForm = computed<TrainingFormValue | null>({
    get: () => {
      const key = project.key
      if (!key) return null
      return key in drafts.value ? (drafts.value[key] ?? null) : loadDraft(key)
    },
    set: (form) => {
      const key = project.key
      if (!key) return
      drafts.value = { ...drafts.value, [key]: form ? { ...form } : null }
      saveDraft(key, form)
    }
  })
  /** Planned total epochs (phase 1 + phase 2) of the current run. */
  const plannedEpochs = ref(0)
  /** What the run's recipe chose from the data (auto), with the reasons; filled when the run is known. */
  const choices = ref<RunChoice[]>([])
  /** The epoch whose weights the model holds when that is not the last one (early stopping, the kept phase). */
  const keptEpoch = ref<number | null>(null)

  const running = computed(() => status.value === 'running' || starting.value)
  const lastEpoch = computed(() => epochs.value[epochs.value.length - 1] ?? null)

  let unsubscribe: (() => void) | null = null

  // A run that downloads its base reports the download on the models store.
  function listen(): void {
    unsubscribe ??= useApi().training.onProgress(onProgress)
    models.listen()
  }

  function stopListening(): void {
    unsubscribe?.()
    unsubscribe = null
    models.stopListening()
  }

  function reset(): void {
    epochs.value = []
    fineTuneStart.value = null
    phase.value = null
    features.value = null
    activations.value = null
    batch.value = null
    backend.value = null
    messages.value = []
    choices.value = []
    keptEpoch.value = null
    error.value = null
  }

  async function loadChoices(id: number): Promise<void> {
    const key = project.key
    if (!key) return
    try {
      const detail = await useApi().runs.get({ projectKey: key, runId: id })
      if (runId.value === id) choices.value = detail.config?.choices ?? []
    } catch {
      // The choices are also in the log; a failed lookup only leaves the list empty.
    }
  }

  /**
   * Events that arrive while training.start has not answered yet. The backend sends its answer (the run id, which
   * exists before the worker starts) ahead of the run's first event; this only guards a transport that reorders.
   */
  const pending: TrainingProgress[] = []

  // Another project: the previous one's run (which goes on in the backend) leaves this screen; the Training
  // screen reattaches to the new project's own run, if it has one going.
  watch(
    () => project.key,
    () => {
      reset()
      runId.value = null
      status.value = null
      starting.value = false
      pending.length = 0
      plannedEpochs.value = 0
    }
  )

  function onProgress(p: TrainingProgress): void {
    if (p.projectKey !== project.key) return
    if (runId.value === null) {
      if (starting.value) pending.push(p)
      return
    }
    if (p.runId === runId.value) apply(p.event)
  }

  function apply(e: TrainingProgress['event']): void {
    switch (e.type) {
      case 'phase':
        phase.value = { phase: e.phase, epochs: e.epochs, detail: e.detail }
        // How the phase computes (cached features or activations, augmented passes) stays readable in the log.
        messages.value = [...messages.value.slice(-19), e.line]
        // The previous phase's last batch would otherwise stay on screen while the new phase prepares.
        batch.value = null
        features.value = null
        activations.value = null
        if (e.phase === 'fine-tune') fineTuneStart.value = (lastEpoch.value?.epoch ?? 0) + 1
        // A recipe may size the phases from the data (auto): the phase says how many epochs it plans.
        plannedEpochs.value =
          e.phase === 'head' ? Math.max(plannedEpochs.value, e.epochs) : (lastEpoch.value?.epoch ?? 0) + e.epochs
        break
      case 'features':
        features.value = { split: e.split, done: e.done, total: e.total }
        break
      case 'activations':
        activations.value = { split: e.split, done: e.done, total: e.total }
        break
      case 'batch':
        batch.value = { ...e }
        // After a reload no 'phase' event comes again: the first fine-tuning batch places the marker.
        if (e.phase === 'fine-tune' && fineTuneStart.value === null) fineTuneStart.value = e.epoch
        features.value = null
        activations.value = null
        break
      case 'epoch': {
        const { epoch, loss, accuracy, valLoss, valAccuracy } = e.epoch
        epochs.value = [
          ...epochs.value.filter((x) => x.epoch !== epoch),
          { epoch, loss, accuracy, valLoss, valAccuracy }
        ]
        if (e.epoch.phase === 2 && fineTuneStart.value === null) fineTuneStart.value = epoch
        break
      }
      case 'info':
        messages.value = [...messages.value.slice(-19), e.message]
        break
      case 'kept':
        keptEpoch.value = e.epoch
        messages.value = [...messages.value.slice(-19), e.message]
        break
      case 'backend':
        backend.value = { name: e.name, notes: e.notes }
        app.setBackend(e.name, e.notes)
        break
      case 'done':
        status.value = e.status
        if (e.error) error.value = e.error
        // Nothing is in progress any more: no stage of it stays on screen, and the log says how it ended.
        batch.value = null
        features.value = null
        activations.value = null
        messages.value = [...messages.value.slice(-19), `run ${e.status}${e.error ? `: ${e.error}` : ''}`]
        void app.load() // the backend of the finished run shows in the header
        if (runId.value !== null) void loadChoices(runId.value)
        break
    }
  }

  function buildConfig(form: TrainingFormValue): TrainingConfig {
    return {
      ...trainingOptions(form),
      ...(dataset.resizeMode !== 'auto' ? { resizeMode: dataset.resizeMode } : {}),
      // Left to the recipe (null): its own applies (the TF tutorial flips and rotates, auto has none); "None" is none.
      ...(dataset.augment ? { augment: dataset.augment } : {}),
      ...(dataset.strategy ? { split: dataset.strategy } : {})
    }
  }

  async function start(form: TrainingFormValue): Promise<boolean> {
    const key = project.key
    if (!key) {
      error.value = 'Open a project first.'
      return false
    }
    listen()
    reset()
    runId.value = null
    status.value = null
    pending.length = 0
    starting.value = true
    plannedEpochs.value =
      (isSet(form.epochs) ? form.epochs : 0) +
      (form.fineTune === true && isSet(form.fineTuneEpochs) ? form.fineTuneEpochs : 0)
    lastForm.value = { ...form }
    try {
      const r = await useApi().training.start({ projectKey: key, config: buildConfig(form) })
      runId.value = r.runId
      status.value = 'running'
      void loadChoices(r.runId)
      for (const p of pending.splice(0)) if (p.runId === r.runId) apply(p.event)
      return true
    } catch (e) {
      error.value = `Could not start training: ${errorMessage(e)}`
      status.value = null
      return false
    } finally {
      starting.value = false
    }
  }

  async function cancel(): Promise<void> {
    if (runId.value === null) return
    try {
      await useApi().training.cancel({ runId: runId.value })
    } catch (e) {
      error.value = `Could not cancel: ${errorMessage(e)}`
    }
  }

  /** After a reload: picks up a run of this project still going in the backend, with its epochs so far. */
  async function reattach(): Promise<void> {
    const key = project.key
    if (!key) return
    try {
      const api = useApi()
      const active = (await api.training.active()).runs.find((r) => r.projectKey === key && r.status === 'running')
      if (!active) return
      listen()
      reset()
      runId.value = active.runId
      status.value = 'running'
      const detail = await api.runs.get({ projectKey: key, runId: active.runId })
      epochs.value = detail.epochs.map((x) => ({
        epoch: x.epoch,
        loss: x.loss,
        accuracy: x.accuracy,
        valLoss: x.valLoss,
        valAccuracy: x.valAccuracy
      }))
      const firstPhase2 = detail.epochs.find((x) => x.phase === 2)
      fineTuneStart.value = firstPhase2?.epoch ?? null
      plannedEpochs.value = plannedEpochsOf(detail.config) ?? Math.max(0, ...epochs.value.map((x) => x.epoch))
      lastForm.value = formFromConfig(detail.config) ?? lastForm.value
      choices.value = detail.config?.choices ?? []
    } catch (e) {
      error.value = errorMessage(e)
    }
  }

  return {
    runId,
    status,
    starting,
    error,
    epochs,
    fineTuneStart,
    phase,
    features,
    activations,
    batch,
    backend,
    messages,
    plannedEpochs,
    choices,
    keptEpoch,
    lastForm,
    running,
    lastEpoch,
    onProgress,
    listen,
    stopListening,
    buildConfig,
    start,
    cancel,
    reattach
  }
})
