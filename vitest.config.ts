import { defineConfig } from 'vitest/config'
import { sebs } from './plugin/index.ts'
import sebsConfig from './sebs.config.ts'

export default defineConfig({
  // In benchmark mode (`npx sebs bench`, `npx vitest bench`) the plugin turns
  // every benchmark directory into a bench suite; in test mode it stays out of the way.
  plugins: [sebs(sebsConfig)],
  test: {
    include: ['**/*.test.ts'],
    exclude: ['**/node_modules/**', 'results/**', '.sebs-cache/**'],
    testTimeout: 120_000,
    hookTimeout: 600_000,
  },
})
