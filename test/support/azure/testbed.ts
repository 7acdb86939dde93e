/**
 * One Azure test bed: Azurite (real blob storage), the fake Azure (ARM, the
 * function host running packaged wrappers, the Application Insights query
 * API), and an Azure provider pointed at both with a fake token credential.
 * Log lines the provider writes are collected (secret-scan tests read them).
 */
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { AccessToken, TokenCredential } from '@azure/identity'
import { createLogger, type Logger } from '../../../core/logger.ts'
import type { BuildContext, Provider } from '../../../providers/types.ts'
import { createAzureProvider } from '../../../providers/azure/index.ts'
import { startAzurite, type RunningAzurite } from './azurite.ts'
import { startFakeAzure, type FakeAzure, type FakeAzureOptions } from './fake-azure.ts'
import { startFakeCosmos, type FakeCosmos } from './fake-cosmos.ts'

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')

/** A token credential that hands out a fixed opaque token and counts its calls. */
export function fakeCredential(token = `fake-token-${randomBytes(6).toString('hex')}`): TokenCredential & { token: string; scopes: string[] } {
  const scopes: string[] = []
  return {
    token,
    scopes,
    async getToken(scope: string | string[]): Promise<AccessToken> {
      scopes.push(...(Array.isArray(scope) ? scope : [scope]))
      return { token, expiresOnTimestamp: Date.now() + 3600_000 }
    },
  }
}

export interface Testbed {
  azurite: RunningAzurite
  fake: FakeAzure
  cosmos: FakeCosmos
  provider: Provider
  credential: ReturnType<typeof fakeCredential>
  logger: Logger
  /** Every line the provider's logger wrote (info, warn; debug when DEBUG is set). */
  logLines: string[]
  buildContext: BuildContext
  runId: string
  options: Record<string, unknown>
  workDir: string
  close(): Promise<void>
}

export interface TestbedOptions {
  appInsights?: boolean
  ingestionDelayMs?: number
  runId?: string
  /** Extra `azure` options (`plan` defaults to the provider's default, Flex). */
  options?: Record<string, unknown>
  /** Options of the fake Azure (a fresh subscription's unregistered providers, package limits). */
  fake?: Partial<Omit<FakeAzureOptions, 'workDir' | 'cosmos'>>
}

/** Packages are cached under `<repo>/.sebs-cache/test` so that npm installs are reused across runs. */
export const TEST_BUILD_CACHE = join(REPO_ROOT, '.sebs-cache', 'test')

export async function startTestbed(opts: TestbedOptions = {}): Promise<Testbed> {
  const workDir = await mkdtemp(join(tmpdir(), 'sebs-azure-test-'))
  const azurite = await startAzurite()
  const cosmos = await startFakeCosmos()
  const fake = await startFakeAzure({ workDir, ingestionDelayMs: opts.ingestionDelayMs, cosmos: { endpoint: cosmos.endpoint, key: cosmos.key }, ...opts.fake })
  const logLines: string[] = []
  const logger = createLogger('sebs', { write: (line) => logLines.push(line) })
  const credential = fakeCredential()
  const runId = opts.runId ?? `test-${randomBytes(4).toString('hex')}`
  const options: Record<string, unknown> = {
    subscriptionId: fake.subscriptionId,
    region: 'westeurope',
    resourceId: 'test',
    appInsights: opts.appInsights ?? false,
    endpoints: {
      management: fake.managementEndpoint,
      blobConnectionString: azurite.connectionString,
      functions: fake.functionsEndpoint,
      appInsights: fake.appInsightsEndpoint,
      scm: fake.scmEndpoint,
    },
    deployTimeout: 120,
    coldStartTimeout: 60,
    metricsTimeout: 10,
    ...opts.options,
  }
  const provider = createAzureProvider(
    { runId, cacheDir: join(workDir, 'cache'), logger, options },
    { credential, timings: { lroPollMs: 20, probeMs: 50, metricsPollMs: 100, registrationPollMs: 20 }, env: {} },
  )
  return {
    azurite,
    fake,
    cosmos,
    provider,
    credential,
    logger,
    logLines,
    runId,
    options,
    workDir,
    buildContext: { cacheDir: TEST_BUILD_CACHE, logger, runtimes: { python: 'python3', node: process.execPath } },
    async close() {
      await provider.close().catch(() => {})
      await fake.close()
      await cosmos.close()
      await azurite.close()
      await rm(workDir, { recursive: true, force: true })
    },
  }
}
