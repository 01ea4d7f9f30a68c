import { defineConfig } from 'vitest/config'
import { fileURLToPath } from 'node:url'
import vue from '@vitejs/plugin-vue'

export default defineConfig({
  // .vue component tests (test/renderer) opt into happy-dom per file with `// @vitest-environment happy-dom`.
  plugins: [vue()],
  resolve: {
    alias: {
      '@shared': fileURLToPath(new URL('./src/shared', import.meta.url)),
      '@core': fileURLToPath(new URL('./src/main/core', import.meta.url))
    }
  },
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    pool: 'forks',
    reporters: ['default', './test/support/summaryReporter.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000
  }
})
