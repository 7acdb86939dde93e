/**
 * Which Vite config loader `sebs bench` asks Vitest for (test process): the
 * module runner for ES-module config files in this package's own checkout,
 * Vitest's default (the bundle) otherwise and in every user's project.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { configLoaderOption } from './cli.ts'

const dirs: string[] = []
/** A folder with the given config files; by default shaped like this package's checkout (package.json and plugin/cli.ts). */
function project(files: string[], kind: 'checkout' | 'user' = 'checkout'): string {
  const dir = mkdtempSync(join(tmpdir(), 'sebs-config-loader-'))
  dirs.push(dir)
  for (const f of files) writeFileSync(join(dir, f), 'export default {}\n')
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: kind === 'checkout' ? 'serverless-benchmarks' : 'my-faas-benchmarks', type: 'module' }))
  if (kind === 'checkout') {
    mkdirSync(join(dir, 'plugin'))
    writeFileSync(join(dir, 'plugin', 'cli.ts'), '')
  }
  return dir
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

describe('configLoaderOption', () => {
  it('asks for the module runner for a TypeScript or .mjs config found the way Vitest finds it', () => {
    expect(configLoaderOption(project(['vitest.config.ts']), {})).toEqual({ configLoader: 'runner' })
    expect(configLoaderOption(project(['vite.config.mts']), {})).toEqual({ configLoader: 'runner' })
    // vitest.config.* comes before vite.config.*, as in Vitest.
    expect(configLoaderOption(project(['vitest.config.mjs', 'vite.config.cjs']), {})).toEqual({ configLoader: 'runner' })
    expect(configLoaderOption(project(['vitest.config.cjs', 'vite.config.ts']), {})).toEqual({})
  })

  it('leaves CommonJS and .js configs, a missing config and --config=false to Vitest', () => {
    expect(configLoaderOption(project(['vitest.config.cjs']), {})).toEqual({})
    expect(configLoaderOption(project(['vitest.config.cts']), {})).toEqual({})
    expect(configLoaderOption(project(['vitest.config.js']), {})).toEqual({})
    expect(configLoaderOption(project([]), {})).toEqual({})
    expect(configLoaderOption(project(['vitest.config.ts']), { config: false })).toEqual({})
  })

  it("leaves a user's project to Vitest's default (the bundle keeps the installed package external)", () => {
    expect(configLoaderOption(project(['vitest.config.ts'], 'user'), {})).toEqual({})
    expect(configLoaderOption(project(['vite.config.mts'], 'user'), { config: 'vite.config.mts' })).toEqual({})
    // A package.json of ours without the sources (an installed copy) is not the checkout either.
    const installed = project(['vitest.config.ts'], 'user')
    writeFileSync(join(installed, 'package.json'), JSON.stringify({ name: 'serverless-benchmarks' }))
    expect(configLoaderOption(installed, {})).toEqual({})
  })

  it('follows --config and never overrides the loader the user chose', () => {
    const dir = project(['vitest.config.ts', 'custom.config.cjs', 'other.config.mts'])
    expect(configLoaderOption(dir, { config: 'custom.config.cjs' })).toEqual({})
    expect(configLoaderOption(dir, { config: 'other.config.mts' })).toEqual({ configLoader: 'runner' })
    expect(configLoaderOption(dir, { configLoader: 'bundle' })).toEqual({})
    expect(configLoaderOption(dir, { configLoader: 'native' })).toEqual({})
  })
})
