import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { ConfigError, ProviderError } from '../core/errors.ts'
import { createLogger } from '../core/logger.ts'
import type { ProviderContext } from './types.ts'
import { PROVIDER_NAMES, createProvider } from './registry.ts'

const ctx: ProviderContext = {
  runId: 'registry-test',
  cacheDir: '/nonexistent-cache',
  logger: createLogger('sebs', { quiet: true }),
  options: {},
}
const here = dirname(fileURLToPath(import.meta.url))

describe('provider registry', () => {
  it('lists the providers', () => {
    expect(PROVIDER_NAMES).toEqual(['local', 'aws', 'azure'])
  })

  it('an unknown name is a ConfigError that lists the choices', async () => {
    const err = await createProvider('gcp', ctx).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ConfigError)
    expect(err).toMatchObject({
      code: 'UNKNOWN_PROVIDER',
      message: "unknown provider 'gcp'; choose one of 'local', 'aws', 'azure'",
    })
  })

  it('creates the local provider lazily, without starting anything', async () => {
    const provider = await createProvider('local', ctx)
    expect(provider.name).toBe('local')
    await expect(provider.checkCredentials()).resolves.toBeUndefined()
    await provider.close()
  })

  it.each(['aws', 'azure'] as const)('%s: loads its provider, or says clearly which module is missing', async (name) => {
    const present = existsSync(join(here, name, 'index.ts'))
    const result = await createProvider(name, ctx).then(
      (provider) => ({ provider }),
      (error: unknown) => ({ error }),
    )
    if (present) {
      // The module exists: whatever it does, a missing-module message would be wrong.
      if ('error' in result) expect(String((result.error as Error).message)).not.toMatch(/cannot be found/)
      else expect(result.provider.name).toBe(name)
    } else {
      expect('error' in result && result.error).toBeInstanceOf(ProviderError)
      expect('error' in result && (result.error as Error).message).toContain(`providers/${name}/index.ts cannot be found`)
    }
  })
})
