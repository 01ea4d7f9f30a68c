import { createApp, h } from 'vue'
import { createPinia } from 'pinia'
import App from './App.vue'
import { setApi } from './stores/apiContext'
import { useAppStore } from './stores/app'
import { errorMessage } from './lib/format'
import './styles.css'

// The api module connects at import (and throws without a serve-mode token): load it here so a failure shows a page.
async function boot(): Promise<void> {
  try {
    const { api } = await import('./api')
    setApi(api)
  } catch (e) {
    createApp({ render: () => h('div', { class: 'banner error', role: 'alert', style: 'margin: 40px' }, `TuneLab cannot start: ${errorMessage(e)}`) }).mount('#app')
    return
  }
  const app = createApp(App)
  app.use(createPinia())
  app.mount('#app')
  await useAppStore().load()
}

void boot()
