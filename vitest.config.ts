import { defineConfig } from 'vitest/config'
import { fileURLToPath } from 'node:url'
import vue from '@vitejs/plugin-vue'

export default defineConfig({
  // .vue component tests (test/renderer) opt into happy-dom per file with `// @vitest-environment happy-dom`.
  plugins: [vue()],
  resolve: {
    alias: {
      '@shared': fileURLToPath(new URL('./src/shared', import.meta.url)),
      '@core': fileURLToPath(new URL('./src/main/core', import.meta.url)),
      '@main': fileURLToPath(new URL('./src/main', import.meta.url)),
      '@server': fileURLToPath(new URL('./src/server', import.meta.url)),
      '@cli': fileURLToPath(new URL('./src/cli', import.meta.url)),
      '@preload': fileURLToPath(new URL('./src/preload', import.meta.url)),
      '@renderer': fileURLToPath(new URL('./src/renderer/src', import.meta.url)),
      '@test': fileURLToPath(new URL('./test', import.meta.url))
    }
  },
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    pool: 'forks',
    reporters: ['default', './test/helpers/summaryReporter.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000
  }
})
