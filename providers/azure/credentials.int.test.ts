/**
 * Credentials: which source is chosen, and checkCredentials() failing fast
 * and clearly — before anything is built or created — when credentials or
 * the subscription are missing, wrong or slow. ARM is the fake (loopback).
 */
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLogger } from '../../core/logger.ts'
import { chooseCredential } from './credentials.ts'
import { createAzureProvider } from './index.ts'
import { startFakeAzure, type FakeAzure } from '../../test/support/azure/fake-azure.ts'
import { fakeCredential } from '../../test/support/azure/testbed.ts'

let fake: FakeAzure
let work: string
let emptyPath: string
const logger = createLogger('sebs', { quiet: true })

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'sebs-azure-cred-'))
  emptyPath = join(work, 'bin-empty')
  await mkdir(emptyPath)
  fake = await startFakeAzure({ workDir: work })
})

afterAll(async () => {
  await fake?.close()
  if (work) await rm(work, { recursive: true, force: true })
})

function provider(env: NodeJS.ProcessEnv, options: Record<string, unknown> = {}, internals: Parameters<typeof createAzureProvider>[1] = {}) {
  return createAzureProvider(
    { runId: 'cred-test', cacheDir: work, logger, options: { endpoints: { management: fake.managementEndpoint }, credentialTimeout: 0.5, ...options } },
    { env, ...internals },
  )
}

describe('chooseCredential', () => {
  it('nothing configured: CREDENTIALS_MISSING saying what to set, without any network call', async () => {
    const started = Date.now()
    const err = await chooseCredential({ PATH: emptyPath }).catch((e) => e)
    expect(Date.now() - started).toBeLessThan(2000)
    expect(err).toMatchObject({ code: 'CREDENTIALS_MISSING' })
    expect(err.message).toContain('AZURE_SECRET_APPLICATION_ID')
    expect(err.message).toContain('AZURE_SUBSCRIPTION_ID')
    expect(err.message).toContain('az login')
  })

  it("SeBS's service principal variables make a ClientSecretCredential; the secret stays out of the description", async () => {
    const choice = await chooseCredential({ AZURE_SECRET_APPLICATION_ID: 'app-123', AZURE_SECRET_TENANT: 'tenant-1', AZURE_SECRET_PASSWORD: 'hunter2-secret', PATH: emptyPath })
    expect(choice.credential.constructor.name).toBe('ClientSecretCredential')
    expect(choice.source).toContain('app-123')
    expect(choice.source).not.toContain('hunter2-secret')
  })

  it('an incomplete service principal names the missing variables (and not the secret)', async () => {
    const err = await chooseCredential({ AZURE_SECRET_APPLICATION_ID: 'app-123', AZURE_SECRET_PASSWORD: 'hunter2-secret', PATH: emptyPath }).catch((e) => e)
    expect(err).toMatchObject({ code: 'CREDENTIALS_MISSING' })
    expect(err.message).toMatch(/AZURE_SECRET_TENANT not set/)
    expect(err.message).not.toContain('hunter2-secret')
  })

  it('the standard AZURE_CLIENT_* variables, then an az login, are used when SeBS’s are absent', async () => {
    const env = await chooseCredential({ AZURE_CLIENT_ID: 'c', AZURE_TENANT_ID: 't', AZURE_CLIENT_SECRET: 's', PATH: emptyPath })
    expect(env.credential.constructor.name).toBe('EnvironmentCredential')
    const binDir = join(work, 'bin-az')
    await mkdir(binDir, { recursive: true })
    await writeFile(join(binDir, 'az'), '#!/bin/sh\nexit 1\n')
    await chmod(join(binDir, 'az'), 0o755)
    const cli = await chooseCredential({ PATH: binDir })
    expect(cli.credential.constructor.name).toBe('AzureCliCredential')
  })
})

describe('checkCredentials()', () => {
  it('without a subscription: CREDENTIALS_MISSING within 2 s, and nothing reaches ARM', async () => {
    const started = Date.now()
    await expect(provider({ PATH: emptyPath }).checkCredentials()).rejects.toMatchObject({
      code: 'CREDENTIALS_MISSING',
      message: expect.stringContaining('AZURE_SUBSCRIPTION_ID'),
    })
    expect(Date.now() - started).toBeLessThan(2000)
    expect(fake.calls).toEqual([])
    expect(fake.groups.size).toBe(0)
  })

  it('with a subscription but no credentials: CREDENTIALS_MISSING within 2 s, and nothing reaches ARM', async () => {
    const started = Date.now()
    await expect(provider({ PATH: emptyPath, AZURE_SUBSCRIPTION_ID: fake.subscriptionId }).checkCredentials()).rejects.toMatchObject({
      code: 'CREDENTIALS_MISSING',
    })
    expect(Date.now() - started).toBeLessThan(2000)
    expect(fake.calls).toEqual([])
  })

  it('deploy() and storage() fail the same way before building or creating anything', async () => {
    const p = provider({ PATH: emptyPath })
    await expect(p.storage()).rejects.toMatchObject({ code: 'CREDENTIALS_MISSING' })
    await expect(p.sweep({ dryRun: true })).rejects.toMatchObject({ code: 'CREDENTIALS_MISSING' })
    expect(fake.calls).toEqual([])
  })

  it('a credential that cannot get a token: CREDENTIALS_INVALID naming the source', async () => {
    const bad = { getToken: async () => Promise.reject(new Error('AADSTS7000215: Invalid client secret provided.')) }
    await expect(provider({ PATH: emptyPath }, { subscriptionId: fake.subscriptionId }, { credential: bad }).checkCredentials()).rejects.toMatchObject({
      code: 'CREDENTIALS_INVALID',
      message: expect.stringContaining('Invalid client secret'),
    })
  })

  it('a credential that hangs: CREDENTIALS_INVALID after the credential timeout', async () => {
    const slow = { getToken: () => new Promise<never>(() => {}) }
    const started = Date.now()
    await expect(provider({ PATH: emptyPath }, { subscriptionId: fake.subscriptionId }, { credential: slow }).checkCredentials()).rejects.toMatchObject({
      code: 'CREDENTIALS_INVALID',
      message: expect.stringContaining('no token within 0.5 s'),
    })
    expect(Date.now() - started).toBeLessThan(2000)
  })

  it('an unknown subscription: CREDENTIALS_INVALID saying which', async () => {
    const other = '99999999-9999-4999-8999-999999999999'
    await expect(provider({ PATH: emptyPath }, { subscriptionId: other }, { credential: fakeCredential() }).checkCredentials()).rejects.toMatchObject({
      code: 'CREDENTIALS_INVALID',
      message: expect.stringContaining(`Subscription ${other} is not accessible`),
    })
  })

  it('working credentials: one token for ARM, one subscription read, nothing created', async () => {
    fake.calls.length = 0
    const cred = fakeCredential()
    await provider({ PATH: emptyPath }, { subscriptionId: fake.subscriptionId }, { credential: cred }).checkCredentials()
    expect(cred.scopes[0]).toBe('https://management.azure.com/.default')
    expect(fake.calls.map((c) => `${c.method} ${c.path}`)).toEqual([`GET /subscriptions/${fake.subscriptionId}`])
    expect(fake.tokens.has(cred.token)).toBe(true)
  })
})
