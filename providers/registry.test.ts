import { describe, expect, it } from 'vitest'
import { ConfigError } from '../core/errors.ts'
import { createLogger } from '../core/logger.ts'
import type { ProviderContext } from './types.ts'
import { PROVIDER_NAMES, createProvider, loadProvider } from './registry.ts'

const ctx: ProviderContext = {
  runId: 'registry-test',
  cacheDir: '/nonexistent-cache',
  logger: createLogger('sebs', { quiet: true }),
  options: {},
}

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

  it.each(['local', 'aws', 'azure'] as const)('%s: its folder exports the descriptor the registry loads', async (name) => {
    const descriptor = await loadProvider(name)
    expect(descriptor.name).toBe(name)
    expect(typeof descriptor.create).toBe('function')
    expect(typeof descriptor.connectStorage).toBe('function')
  })

  it('the descriptors say what the code outside providers/ used to decide by name', async () => {
    const [local, aws, azure] = await Promise.all(PROVIDER_NAMES.map((n) => loadProvider(n)))
    expect(local!.defaultCostModel('x64')).toBe('aws-x86_64')
    expect(aws!.defaultCostModel('arm64')).toBe('aws-arm64')
    expect(aws!.defaultCostModel('x64')).toBe('aws-x86_64')
    expect(azure!.defaultCostModel('x64')).toBe('azure-flex')
    expect([local!.functionsOnThisMachine, aws!.functionsOnThisMachine, azure!.functionsOnThisMachine]).toEqual([true, false, false])
    expect([local!.remoteCredentials, aws!.remoteCredentials, azure!.remoteCredentials]).toEqual([false, true, true])
    const shared = { runtimes: { python: 'py', node: 'nd' }, runtime: 'docker' as const }
    expect(local!.options({ bucket: 'b' }, shared)).toEqual({ runtimes: shared.runtimes, runtime: 'docker', bucket: 'b' })
    expect(aws!.options({ region: 'eu-west-1' }, shared)).toEqual({ region: 'eu-west-1' })
  })

  it('each descriptor gives functions the environment of its own storage kind', async () => {
    const s3 = { kind: 's3' as const, endpoint: 'http://127.0.0.1:9000', bucket: 'b', accessKey: 'A', secretKey: 'S' }
    const nosql = { kind: 'dynamodb' as const, endpoint: 'http://127.0.0.1:8000', tables: { shopping_cart: 'run-cart' } }
    expect((await loadProvider('local')).functionEnv(s3, nosql)).toEqual({
      SEBS_STORAGE_BUCKET: 'b',
      SEBS_STORAGE_ENDPOINT: 'http://127.0.0.1:9000',
      SEBS_STORAGE_ACCESS_KEY: 'A',
      SEBS_STORAGE_SECRET_KEY: 'S',
      SEBS_NOSQL_ENDPOINT: 'http://127.0.0.1:8000',
      NOSQL_STORAGE_TABLE_shopping_cart: 'run-cart',
    })
    const blob = { kind: 'azure-blob' as const, endpoint: 'http://127.0.0.1:10000/acct', bucket: 'c', connectionString: 'UseDevelopmentStorage=true' }
    expect((await loadProvider('azure')).functionEnv(blob, undefined)).toEqual({ SEBS_STORAGE_BUCKET: 'c', STORAGE_CONNECTION_STRING: 'UseDevelopmentStorage=true' })
  })
})

describe('default cost models from the descriptors', () => {
  it('each provider names the price row it bills with; Azure follows its plan', async () => {
    const { loadProvider } = await import('./registry.ts')
    expect((await loadProvider('local')).defaultCostModel('x64')).toBe('aws-x86_64')
    expect((await loadProvider('aws')).defaultCostModel('arm64')).toBe('aws-arm64')
    expect((await loadProvider('aws')).defaultCostModel('x64')).toBe('aws-x86_64')
    const azure = await loadProvider('azure')
    expect(azure.defaultCostModel('x64')).toBe('azure-flex')
    expect(azure.defaultCostModel('x64', { plan: 'flex' })).toBe('azure-flex')
    expect(azure.defaultCostModel('x64', { plan: 'consumption' })).toBe('azure-consumption')
  })
})
