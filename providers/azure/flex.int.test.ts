/**
 * Azure Flex Consumption (the default plan) and the first run on a fresh
 * subscription, against the HTTP-level fake ARM and a real Azurite (vitest
 * worker): resource providers registered and waited for, a workspace-based
 * Application Insights component, the FC1 plan and a `functionAppConfig`
 * app, the zip published through the deployment endpoint into the
 * deployment container, SeBS memory mapped to an instance size and recorded,
 * invocations, forced cold starts, billing inputs, cleanup; and the refusals
 * (timeout over 230 s, registration refused or too slow, a taken site name,
 * an oversized package) as clear messages. The legacy plan's package SAS
 * renewal is here too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BlobServiceClient } from '@azure/storage-blob'
import { estimateCost } from '../../analysis/cost.ts'
import type { InvocationRecord, Language } from '../../core/types.ts'
import { loadFixtureBenchmark } from '../../test/support/conformance/fixtures.ts'
import { startTestbed, type Testbed } from '../../test/support/azure/testbed.ts'
import type { DeployedFunction, InvokeResult } from '../types.ts'
import { sasExpiry, type AzureFunctionData } from './function-app.ts'

const FRESH = ['Microsoft.Web', 'Microsoft.Storage', 'Microsoft.Insights', 'Microsoft.OperationalInsights']

async function deploy(tb: Testbed, language: Language, opts: { memory?: number; timeout?: number; benchmark?: string } = {}): Promise<DeployedFunction> {
  const benchmark = await loadFixtureBenchmark(opts.benchmark ?? '901.echo')
  const pkg = await tb.provider.package({ benchmark, language, arch: 'x64' }, tb.buildContext)
  return tb.provider.deploy(pkg, { runId: tb.runId, memory: opts.memory ?? 128, timeout: opts.timeout ?? 30, trigger: 'http', env: {} })
}

const dataOf = (fn: DeployedFunction) => fn.handle.data as unknown as AzureFunctionData

function ok(result: InvokeResult): Extract<InvokeResult, { state: 'ok' }> {
  if (result.state !== 'ok') throw new Error(`expected ok, got ${result.state}: ${'error' in result ? result.error : ''}`)
  return result
}

function record(fn: DeployedFunction, result: Extract<InvokeResult, { state: 'ok' }>, i: number): InvocationRecord {
  const e = result.envelope
  return {
    runId: fn.handle.runId,
    benchmark: fn.handle.benchmark,
    language: fn.handle.language,
    size: 'test',
    provider: 'azure',
    memory: fn.handle.memory,
    ...(result.providerMemoryMb !== undefined ? { providerMemoryMb: result.providerMemoryMb } : {}),
    trigger: 'http',
    phase: i === 0 ? 'cold' : 'warm',
    repetition: i,
    requestId: e.requestId,
    containerId: e.containerId,
    isCold: e.isCold,
    state: 'ok',
    outputValid: true,
    clientTimeUs: result.clientTimeUs,
    functionTimeUs: e.end - e.begin,
    rssPeakKb: e.rssPeakKb,
    startedAt: Date.now() - 1000,
  }
}

describe('Flex Consumption on a fresh subscription (python 901.echo, memory 1024)', () => {
  let tb: Testbed
  let fn: DeployedFunction
  let data: AzureFunctionData

  beforeAll(async () => {
    tb = await startTestbed({ appInsights: true, fake: { unregisteredProviders: FRESH, registrationPolls: 3 } })
    fn = await deploy(tb, 'python', { memory: 1024 })
    data = dataOf(fn)
  }, 300_000)

  afterAll(async () => {
    await tb?.close()
  }, 60_000)

  it('registers the resource providers and waits for Registered before creating anything', () => {
    const calls = tb.fake.calls.map((c) => `${c.method} ${c.path}`)
    const firstPut = calls.findIndex((c) => c.startsWith('PUT ') && c.includes('/providers/Microsoft.'))
    for (const ns of FRESH) {
      const register = calls.indexOf(`POST /subscriptions/${tb.fake.subscriptionId}/providers/${ns}/register`)
      expect(register, ns).toBeGreaterThanOrEqual(0)
      expect(register).toBeLessThan(firstPut)
      expect(tb.fake.registrations.get(ns.toLowerCase())!.state).toBe('Registered')
    }
    // Registering took polls: the wait read the state until it flipped, and said so.
    expect(calls.filter((c) => c.startsWith('GET ') && c.endsWith('/providers/Microsoft.Web')).length).toBeGreaterThanOrEqual(3)
    expect(tb.logLines.join('\n')).toMatch(/registering the resource provider Microsoft\.Web/)
    expect(tb.logLines.join('\n')).toMatch(/resource provider Microsoft\.Web registered after/)
  })

  it('creates an FC1 plan and an app with functionAppConfig: deployment container, runtime python 3.12, a 2048 MB instance', () => {
    const plan = tb.fake.calls.find((c) => c.method === 'PUT' && c.path.includes('/serverfarms/'))!
    expect(plan.body).toMatchObject({ sku: { name: 'FC1', tier: 'FlexConsumption' }, kind: 'functionapp', properties: { reserved: true } })
    const site = tb.fake.calls.find((c) => c.method === 'PUT' && c.path.endsWith(`/sites/${data.appName}`))!
    expect(site.apiVersion! >= '2023-12-01').toBe(true)
    const props = (site.body as { properties: Record<string, unknown> }).properties as {
      functionAppConfig: { deployment: { storage: { type: string; value: string; authentication: { type: string; storageAccountConnectionStringName: string } } }; runtime: unknown; scaleAndConcurrency: { instanceMemoryMB: number } }
      siteConfig: { linuxFxVersion?: string }
    }
    expect(props.functionAppConfig.runtime).toEqual({ name: 'python', version: '3.12' })
    expect(props.functionAppConfig.scaleAndConcurrency.instanceMemoryMB).toBe(2048)
    expect(props.functionAppConfig.deployment.storage).toMatchObject({
      type: 'blobContainer',
      authentication: { type: 'StorageAccountConnectionString', storageAccountConnectionStringName: 'DEPLOYMENT_STORAGE_CONNECTION_STRING' },
    })
    expect(props.siteConfig.linuxFxVersion).toBeUndefined()
    const settings = tb.fake.apps.get(data.appName)!.settings
    for (const refused of ['FUNCTIONS_WORKER_RUNTIME', 'FUNCTIONS_EXTENSION_VERSION', 'WEBSITE_RUN_FROM_PACKAGE']) expect(settings[refused], refused).toBeUndefined()
    expect(data).toMatchObject({ plan: 'flex', instanceMemoryMb: 2048 })
    expect(tb.logLines.join('\n')).toMatch(/memory=1024 MB runs on a 2048 MB Flex Consumption instance/)
  })

  it('publishes the zip through the deployment endpoint into the deployment container (Azurite)', async () => {
    expect([...tb.fake.deployments.values()].filter((d) => d.app === data.appName).map((d) => d.status)).toEqual([4])
    const url = (tb.fake.calls.find((c) => c.method === 'PUT' && c.path.endsWith(`/sites/${data.appName}`))!.body as {
      properties: { functionAppConfig: { deployment: { storage: { value: string } } } }
    }).properties.functionAppConfig.deployment.storage.value
    const container = BlobServiceClient.fromConnectionString(tb.azurite.connectionString).getContainerClient(url.split('/').pop()!)
    const props = await container.getBlobClient('released-package.zip').getProperties()
    expect(props.contentLength).toBe(tb.fake.deployments.get([...tb.fake.deployments.keys()][0]!)!.sizeBytes)
  })

  it('creates a tagged Log Analytics workspace and a workspace-based Application Insights component', () => {
    const ws = [...tb.fake.resources.values()].find((r) => r.type === 'Microsoft.OperationalInsights/workspaces')!
    expect(ws.tags).toMatchObject({ 'sebs-managed': 'true', 'sebs-run-id': tb.runId })
    const component = [...tb.fake.resources.values()].find((r) => r.type === 'Microsoft.Insights/components')!
    expect(component.properties).toMatchObject({ IngestionMode: 'LogAnalytics', WorkspaceResourceId: ws.id })
    expect(tb.fake.apps.get(data.appName)!.settings.APPLICATIONINSIGHTS_CONNECTION_STRING).toBe(component.properties.ConnectionString)
  })

  it('invokes, forces cold starts by restarting the app, and records the instance size with every result', async () => {
    const first = ok(await fn.invoke({ message: 'one' }))
    expect(first.envelope.result).toMatchObject({ echo: { message: 'one' } })
    expect(first.providerMemoryMb).toBe(2048)
    const warm = ok(await fn.invoke({ message: 'two' }))
    expect(warm.envelope.isCold).toBe(false)
    expect(warm.envelope.containerId).toBe(first.envelope.containerId)
    await fn.forceColdStart()
    const cold = ok(await fn.invoke({ message: 'three' }))
    expect(cold.envelope.isCold).toBe(true)
    expect(cold.envelope.containerId).not.toBe(first.envelope.containerId)
  })

  it('metrics: the platform durations, billed time of at least 1 s and the instance size; the azure-flex price row bills 2048 MB', async () => {
    const results = [ok(await fn.invoke({ message: 'a' })), ok(await fn.invoke({ sleep_ms: 1200 }))]
    const out = await fn.metrics!(results.map((r, i) => record(fn, r, i)))
    for (const r of out) {
      expect(r.providerTimeUs).toBeGreaterThan(0)
      expect(r.billedTimeMs).toBe(Math.max(1000, Math.ceil(r.providerTimeUs! / 1000)))
      expect(r.providerMemoryMb).toBe(2048)
      const cost = estimateCost(r, 'azure-flex')!
      expect(cost.billedMemoryMb).toBe(2048)
      expect(cost.usd).toBeCloseTo(0.4e-6 + (r.billedTimeMs! / 1000) * 2 * 0.000026, 15)
    }
    expect(out[1]!.billedTimeMs!).toBeGreaterThanOrEqual(1200)
  })

  it('delete() removes the group with the plan, app, workspace and component; the sweep finds nothing left', async () => {
    await fn.delete()
    expect(tb.fake.groups.has(data.resourceGroup.toLowerCase())).toBe(false)
    expect([...tb.fake.resources.keys()].some((k) => k.includes(data.resourceGroup.toLowerCase()))).toBe(false)
    const swept = await tb.provider.sweep!({ runId: tb.runId, dryRun: true })
    expect(swept.filter((s) => s.id.includes(data.resourceGroup))).toEqual([])
    // The deployment container lived in the configured blob endpoint (Azurite), outside the group: removed too.
    const { deploymentContainerName } = await import('./naming.ts')
    expect(await BlobServiceClient.fromConnectionString(tb.azurite.connectionString).getContainerClient(deploymentContainerName(data.appName)).exists()).toBe(false)
  })
})

describe('refusals, as clear messages', () => {
  let tb: Testbed

  beforeAll(async () => {
    tb = await startTestbed()
  }, 120_000)

  afterAll(async () => {
    await tb?.close()
  }, 60_000)

  it('a timeout over 230 s is refused before anything is created, saying why', async () => {
    const before = tb.fake.calls.length
    await expect(deploy(tb, 'nodejs', { timeout: 300 })).rejects.toThrow(/timeout=300 s is refused.*within 230 s.*front end cuts the response/)
    expect(tb.fake.calls.slice(before).filter((c) => c.method === 'PUT')).toEqual([])
  })

  it('a site name taken elsewhere: the deploy names the step and Azure\'s answer, and removes its group', async () => {
    const benchmark = await loadFixtureBenchmark('901.echo')
    const pkg = await tb.provider.package({ benchmark, language: 'nodejs', arch: 'x64' }, tb.buildContext)
    const runId = `${tb.runId}-taken`
    // Someone else's app with the name this deploy will pick, in another group.
    const { functionAppName } = await import('./naming.ts')
    const name = functionAppName('sebs', runId, tb.fake.subscriptionId, '901.echo', 'nodejs')
    tb.fake.apps.set(name, { id: 'x', name, resourceGroup: 'someone-else', plan: 'FC1', settings: {}, settingsVersion: 0, synced: false, instancesStarted: 0 } as never)
    const err = await tb.provider.deploy(pkg, { runId, memory: 128, timeout: 10, trigger: 'http', env: {} }).catch((e: Error) => e)
    expect(String(err)).toMatch(new RegExp(`Creating function app ${name} failed \\(HTTP 409\\).*Website with given name ${name} already exists`))
    expect([...tb.fake.groups.values()].some((g) => g.tags['sebs-run-id'] === runId)).toBe(false)
    tb.fake.apps.delete(name)
  })

  it('a refused registration names the namespace and the command that fixes it', async () => {
    const other = await startTestbed({ fake: { unregisteredProviders: ['Microsoft.Web'] } })
    try {
      other.fake.failures.push({ match: /^POST .*\/providers\/Microsoft\.Web\/register$/, status: 403, code: 'AuthorizationFailed', times: 1 })
      await expect(deploy(other, 'nodejs')).rejects.toThrow(/Resource provider Microsoft\.Web: the register call was refused.*az provider register --namespace Microsoft\.Web/)
      expect(other.fake.calls.some((c) => c.method === 'PUT')).toBe(false)
    } finally {
      await other.close()
    }
  })

  it('a registration that does not finish in time is an error naming the namespace', async () => {
    const other = await startTestbed({ fake: { unregisteredProviders: ['Microsoft.Storage'], registrationPolls: 1_000_000 }, options: { deployTimeout: 1 } })
    try {
      await expect(deploy(other, 'nodejs')).rejects.toThrow(/Microsoft\.Storage: still not Registered after 1 s/)
    } finally {
      await other.close()
    }
  })

  it('a package over the deployment endpoint\'s limit names the size and what to do', async () => {
    const other = await startTestbed({ fake: { maxPackageBytes: 1000 } })
    try {
      await expect(deploy(other, 'nodejs')).rejects.toThrow(/MB\) is larger than the deployment endpoint accepts \(HTTP 413\).*fewer or lighter dependencies/)
      // The failed deploy removed its group.
      expect(other.fake.groups.size).toBe(0)
    } finally {
      await other.close()
    }
  })
})

describe('legacy Consumption plan: package SAS URL', () => {
  let tb: Testbed

  beforeAll(async () => {
    tb = await startTestbed({ options: { plan: 'consumption', keep: true } })
  }, 120_000)

  afterAll(async () => {
    await tb?.close()
  }, 60_000)

  it('lives a year with keep, and a forced cold start renews one that expires within a day', async () => {
    const fn = await deploy(tb, 'nodejs')
    const app = tb.fake.apps.get(dataOf(fn).appName)!
    const expiry = sasExpiry(app.settings.WEBSITE_RUN_FROM_PACKAGE)!
    expect(expiry.getTime() - Date.now()).toBeGreaterThan(364 * 24 * 3600_000)
    // As if the app had been kept for a year: the URL now expires in an hour.
    const short = new URL(app.settings.WEBSITE_RUN_FROM_PACKAGE!)
    short.searchParams.set('se', new Date(Date.now() + 3600_000).toISOString().replace(/\.\d{3}Z$/, 'Z'))
    app.settings.WEBSITE_RUN_FROM_PACKAGE = short.toString()
    await fn.forceColdStart()
    const renewed = sasExpiry(tb.fake.apps.get(dataOf(fn).appName)!.settings.WEBSITE_RUN_FROM_PACKAGE)!
    expect(renewed.getTime() - Date.now()).toBeGreaterThan(364 * 24 * 3600_000)
    // The renewed URL is valid: the restarted app fetched its package with it.
    expect(ok(await fn.invoke({ message: 'after renewal' })).envelope.isCold).toBe(true)
    await fn.delete()
  })
})
