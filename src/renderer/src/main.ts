import { createApp, h } from 'vue'
import { createPinia } from 'pinia'
import type { TuneLabApi } from '@shared/contract/api'
import App from './App.vue'
import StartupReport from './components/StartupReport.vue'
import { setApi } from './stores/apiContext'
import { useAppStore } from './stores/app'
import { useProjectStore } from './stores/project'
import { errorMessage } from './lib/format'
import './styles.css'

// The api module connects at import (and throws without a serve-mode token): load it here so a failure shows a page.
async function boot(): Promise<void> {
  let api: TuneLabApi
  try {
    api = (await import('./api')).api
    setApi(api)
  } catch (e) {
    createApp({
      render: () =>
        h(
          'div',
          { class: 'banner error', role: 'alert', style: 'margin: 40px' },
          `TuneLab cannot start: ${errorMessage(e)}`
        )
    }).mount('#app')
    return
  }
  // Before any screen (so before any project opens): the native-module check. When SQLite cannot load, the window
  // shows which module, why and the fix instead of the app.
  const startup = await api.app.startupCheck().catch((e: unknown) => errorMessage(e))
  if (typeof startup !== 'string' && !startup.ok) {
    createApp(StartupReport, { report: startup }).mount('#app')
    return
  }
  const app = createApp(App)
  app.use(createPinia())
  app.mount('#app')
  const store = useAppStore()
  if (typeof startup === 'string') store.error = `The start-up check did not answer: ${startup}`
  else store.startup = startup
  await store.load()
  // Started with a folder (`npm run serve -- <folder>`, or the desktop app's argument): open it.
  const initial = store.info?.initialProject
  if (initial) await useProjectStore().open(initial)
}

void boot()
