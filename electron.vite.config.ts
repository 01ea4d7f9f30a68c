import { defineConfig, externalizeDepsPlugin } from 'electron-vite'
import vue from '@vitejs/plugin-vue'
import { resolve } from 'node:path'

const alias = {
  '@shared': resolve(__dirname, 'src/shared'),
  '@core': resolve(__dirname, 'src/main/core')
}

export default defineConfig({
  main: {
    plugins: [externalizeDepsPlugin()],
    resolve: { alias },
    build: {
      rollupOptions: {
        // The worker threads the core starts find their scripts next to the chunk that starts them
        // (forwardPool.ts: ./forwardWorker.js, decodeThread.ts: ./decodeWorker.js), so they are entries of their own.
        input: {
          index: resolve(__dirname, 'src/main/index.ts'),
          forwardWorker: resolve(__dirname, 'src/main/core/parallel/forwardWorker.ts'),
          decodeWorker: resolve(__dirname, 'src/main/core/parallel/decodeWorker.ts')
        },
        output: { entryFileNames: '[name].js' }
      }
    }
  },
  preload: {
    plugins: [externalizeDepsPlugin()],
    resolve: { alias },
    build: { rollupOptions: { output: { format: 'cjs', entryFileNames: '[name].cjs' } } }
  },
  renderer: {
    root: resolve(__dirname, 'src/renderer'),
    resolve: { alias: { ...alias, '@renderer': resolve(__dirname, 'src/renderer/src') } },
    plugins: [vue()],
    build: { rollupOptions: { input: resolve(__dirname, 'src/renderer/index.html') } }
  }
})
