/**
 * The Azure provider's control-plane path against the HTTP-level fake ARM,
 * with the package and SAS URL in a real Azurite: what a deploy creates (and
 * in which order, with which tags and settings), the zip the SAS URL serves,
 * update/connect/forceColdStart through settings, metrics from the
 * Application Insights query API, cleanup of a failed deploy, and sweeps.
 */
import { randomBytes } from 'node:crypto'
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { InvocationRecord, Language } from '../../core/types.ts'
import { loadFixtureBenchmark } from '../../test/support/conformance/fixtures.ts'
import type { DeployedFunction, InvokeResult } from '../types.ts'
import { estimateCost } from '../../analysis/cost.ts'
import type { AzureFunctionData } from './function-app.ts'
import { extractZip } from '../../test/support/azure/fake-azure.ts'
import { startTestbed, type Testbed } from '../../test/support/azure/testbed.ts'

function ok(result: InvokeResult): Extract<InvokeResult, { state: 'ok' }> {
  if (result.state !== 'ok') throw new Error(`expected ok, got ${result.state}: ${'error' in result ? result.error : ''}`)
  return result
}

async function deployEcho(
  tb: Testbed,
  language: Language,
  opts: { runId?: string; env?: Record<string, string>; benchmark?: string; timeout?: number } = {},
): Promise<DeployedFunction> {
  const benchmark = await loadFixtureBenchmark(opts.benchmark ?? '901.echo')
  const pkg = await tb.provider.package({ benchmark, language, arch: 'x64' }, tb.buildContext)
  return tb.provider.deploy(pkg, { runId: opts.runId ?? tb.runId, memory: 128, timeout: opts.timeout ?? 2, trigger: 'http', env: opts.env ?? {} })
}

function dataOf(fn: DeployedFunction): AzureFunctionData {
  return fn.handle.data as unknown as AzureFunctionData
}

function record(fn: DeployedFunction, result: Extract<InvokeResult, { state: 'ok' }>, i: number): InvocationRecord {
  const e = result.envelope
  return {
    runId: fn.handle.runId,
    benchmark: fn.handle.benchmark,
    language: fn.handle.language,
    size: 'test',
    provider: 'azure',
    memory: 128,
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

describe('deploy (nodejs 901.echo)', () => {
  let tb: Testbed
  let fn: DeployedFunction
  let data: AzureFunctionData

  beforeAll(async () => {
    tb = await startTestbed({ options: { plan: 'consumption' } })
    fn = await deployEcho(tb, 'nodejs', { env: { SEBS_TEST_VALUE: 'from-deploy' } })
    data = dataOf(fn)
  }, 300_000)

  afterAll(async () => {
    await tb?.close()
  }, 60_000)

  it('creates group → storage account → keys → plan → function app → trigger sync, in that order, with polling', () => {
    const kinds = tb.fake.calls.map((c) => {
      const p = c.path.toLowerCase()
      if (p.startsWith('/mock/')) return 'poll'
      if (p.endsWith('/listkeys')) return 'listKeys'
      if (p.endsWith('/syncfunctiontriggers')) return 'sync'
      if (p.includes('/microsoft.storage/')) return `${c.method} storage`
      if (p.includes('/microsoft.web/serverfarms/')) return `${c.method} plan`
      if (p.includes('/microsoft.web/sites/')) return `${c.method} site`
      if (p.includes('/resourcegroups/')) return `${c.method} group`
      return `${c.method} subscription`
    })
    const order = kinds.filter((k) => k !== 'poll' && !k.startsWith('GET '))
    expect(order).toEqual(['PUT group', 'PUT storage', 'listKeys', 'PUT plan', 'PUT site', 'sync'])
    // Every long-running create was polled to completion (lroPolls = 1 → two polls each).
    expect(kinds.filter((k) => k === 'poll').length).toBe(6)
  })

  it('tags every resource with the run id and sebs-managed', () => {
    const group = tb.fake.groups.get(data.resourceGroup.toLowerCase())!
    expect(group.tags).toEqual({ 'sebs-managed': 'true', 'sebs-run-id': tb.runId, 'sebs-kind': 'function', 'sebs-benchmark': '901.echo' })
    const created = [...tb.fake.resources.values()].filter((r) => r.id.toLowerCase().includes(`/resourcegroups/${data.resourceGroup.toLowerCase()}/`))
    expect(created.map((r) => r.type).sort()).toEqual(['Microsoft.Storage/storageAccounts', 'Microsoft.Web/serverfarms', 'Microsoft.Web/sites'])
    for (const r of created) expect(r.tags).toMatchObject({ 'sebs-managed': 'true', 'sebs-run-id': tb.runId })
  })

  it('a Linux Consumption plan and a Functions v4 node app with the expected settings', () => {
    const plan = tb.fake.calls.find((c) => c.method === 'PUT' && c.path.includes('/serverfarms/'))!.body as { sku: unknown; properties: { reserved: boolean }; kind: string }
    expect(plan).toMatchObject({ sku: { name: 'Y1', tier: 'Dynamic' }, properties: { reserved: true }, kind: 'functionapp' })
    const site = tb.fake.calls.find((c) => c.method === 'PUT' && c.path.endsWith(`/sites/${data.appName}`))!.body as {
      kind: string
      properties: { reserved: boolean; httpsOnly: boolean; siteConfig: { linuxFxVersion: string } }
    }
    expect(site).toMatchObject({ kind: 'functionapp,linux', properties: { reserved: true, httpsOnly: true, siteConfig: { linuxFxVersion: 'Node|22' } } })
    const settings = tb.fake.apps.get(data.appName)!.settings
    expect(settings).toMatchObject({
      FUNCTIONS_EXTENSION_VERSION: '~4',
      FUNCTIONS_WORKER_RUNTIME: 'node',
      AzureFunctionsJobHost__functionTimeout: '00:00:02',
      SEBS_COLD_START: '0',
      SEBS_RUN_ID: tb.runId,
      SEBS_TEST_VALUE: 'from-deploy',
    })
    expect(settings.AzureWebJobsStorage).toMatch(/^DefaultEndpointsProtocol=https;AccountName=sebsfn[0-9a-f]{16};AccountKey=/)
    // 901.echo declares no storage module: no data connection in its settings.
    expect(settings.STORAGE_CONNECTION_STRING).toBeUndefined()
  })

  it('WEBSITE_RUN_FROM_PACKAGE is a read-only SAS URL of the zip, in the Azure Functions layout', async () => {
    const url = tb.fake.apps.get(data.appName)!.settings.WEBSITE_RUN_FROM_PACKAGE!
    const sas = new URL(url)
    expect(sas.pathname).toBe(`/devstoreaccount1/sebs-packages/${data.packageBlob}`)
    expect(sas.searchParams.get('sp')).toBe('r')
    expect(sas.searchParams.get('sig')).toBeTruthy()
    // Read-only: the URL cannot overwrite the package.
    const put = await fetch(url, { method: 'PUT', headers: { 'x-ms-blob-type': 'BlockBlob' }, body: 'x' })
    expect(put.status).toBe(403)

    const res = await fetch(url)
    expect(res.status).toBe(200)
    const dir = await mkdtemp(join(tmpdir(), 'sebs-azure-zip-'))
    try {
      await extractZip(Buffer.from(await res.arrayBuffer()), dir)
      expect((await readdir(dir)).sort()).toEqual(['function', 'host.json'])
      expect((await readdir(join(dir, 'function'))).sort()).toEqual(['function.js', 'function.json', 'handler.js', 'sebs-core.js'])
      const host = JSON.parse(await readFile(join(dir, 'host.json'), 'utf8'))
      expect(host).toMatchObject({ version: '2.0', extensionBundle: { id: 'Microsoft.Azure.Functions.ExtensionBundle' } })
      const binding = JSON.parse(await readFile(join(dir, 'function', 'function.json'), 'utf8'))
      expect(binding).toEqual({
        scriptFile: 'handler.js',
        bindings: [
          { authLevel: 'anonymous', type: 'httpTrigger', direction: 'in', name: 'req', methods: ['post'] },
          { type: 'http', direction: 'out', name: '$return' },
        ],
      })
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('the handle is plain data: names and URLs, no keys, connection strings or SAS tokens', () => {
    expect(structuredClone(fn.handle)).toEqual(fn.handle)
    expect(fn.handle).toMatchObject({ provider: 'azure', name: data.appName, benchmark: '901.echo', language: 'nodejs', memory: 128, timeout: 2, trigger: 'http', runId: tb.runId })
    expect(data.url).toBe(`${tb.fake.functionsEndpoint.replace('{app}', data.appName)}/api/function`)
    const text = JSON.stringify(fn.handle)
    for (const secret of tb.fake.issuedSecrets) expect(text).not.toContain(secret)
    expect(text).not.toMatch(/AccountKey|sig=|SharedAccessSignature/i)
  })

  it('update({ timeout }) changes the host timeout setting and waits until the app serves with it', async () => {
    const slow = await fn.invoke({ sleep_ms: 2500 })
    expect(slow.state).toBe('timeout')
    await fn.update({ timeout: 5, memory: 256 })
    expect(tb.fake.apps.get(data.appName)!.settings.AzureFunctionsJobHost__functionTimeout).toBe('00:00:05')
    expect(fn.handle).toMatchObject({ timeout: 5, memory: 256 })
    expect(tb.logLines.join('\n')).toMatch(/no memory setting .* memory=256 is recorded but not applied/)
    ok(await fn.invoke({ sleep_ms: 2500 }))
    await expect(fn.update({ timeout: 601 })).rejects.toMatchObject({ code: 'DEPLOY_FAILED' })
  })

  it('connect(handle) in another process (a clone) invokes and forces cold starts through its own clients', async () => {
    const remote = tb.provider.connect(structuredClone(fn.handle))
    const warm = ok(await remote.invoke({ message: 'from a worker' }))
    const before = Number(tb.fake.apps.get(data.appName)!.settings.SEBS_COLD_START)
    await remote.forceColdStart()
    expect(Number(tb.fake.apps.get(data.appName)!.settings.SEBS_COLD_START)).toBe(before + 1)
    const cold = ok(await remote.invoke({ message: 'cold' }))
    expect(cold.envelope.isCold).toBe(true)
    expect((cold.envelope as unknown as { isColdWorker: boolean }).isColdWorker).toBe(true)
    expect(cold.envelope.containerId).not.toBe(warm.envelope.containerId)
    const again = ok(await remote.invoke({ message: 'warm' }))
    expect((again.envelope as unknown as { isColdWorker: boolean }).isColdWorker).toBe(false)
    expect(() => tb.provider.connect({ ...fn.handle, provider: 'aws' })).toThrow(/belongs to provider 'aws'/)
  })

  it('the library trigger is refused with a clear message', async () => {
    const res = await fn.invoke({}, { trigger: 'library' })
    expect(res).toMatchObject({ state: 'error', error: expect.stringContaining('--trigger http') })
    const benchmark = await loadFixtureBenchmark('901.echo')
    const pkg = await tb.provider.package({ benchmark, language: 'nodejs', arch: 'x64' }, tb.buildContext)
    await expect(tb.provider.deploy(pkg, { runId: tb.runId, memory: 128, timeout: 2, trigger: 'library', env: {} })).rejects.toMatchObject({ code: 'NOT_SUPPORTED' })
    await expect(tb.provider.package({ benchmark, language: 'nodejs', arch: 'arm64' }, tb.buildContext)).rejects.toMatchObject({ code: 'NOT_SUPPORTED' })
  })

  it('delete() removes the resource group (a long-running delete, polled) and stops the app', async () => {
    await fn.delete()
    expect(tb.fake.groups.has(data.resourceGroup.toLowerCase())).toBe(false)
    expect(tb.fake.apps.has(data.appName)).toBe(false)
    expect(tb.fake.liveWorkers(data.appName)).toBe(0)
    const res = await fn.invoke({ message: 'gone' })
    expect(res.state).toBe('error')
    // Deleting again is not an error.
    await fn.delete()
  })
})

describe('a failed deploy', () => {
  let tb: Testbed

  beforeAll(async () => {
    tb = await startTestbed({ options: { plan: 'consumption' } })
  }, 60_000)

  afterAll(async () => {
    await tb?.close()
  }, 60_000)

  it('names the step and removes the resource group it created', async () => {
    tb.fake.failures.push({ match: /^PUT .*\/Microsoft\.Web\/sites\//, status: 400, code: 'LinuxDynamicWorkersNotAllowedInResourceGroup', times: 1 })
    const err = await deployEcho(tb, 'python').catch((e) => e)
    expect(err).toMatchObject({ code: 'DEPLOY_FAILED' })
    expect(err.message).toMatch(/Creating function app sebs-901-echo-py-[0-9a-f]{8} failed \(HTTP 400\): LinuxDynamicWorkersNotAllowedInResourceGroup/)
    expect([...tb.fake.groups.values()].filter((g) => g.tags['sebs-run-id'] === tb.runId)).toEqual([])
    // Nothing is left for a sweep either.
    expect(await tb.provider.sweep({ runId: tb.runId, dryRun: true })).toEqual([])
  })

  it('a trigger sync refused right after creation (409) is retried; a final refusal fails the deploy and cleans up', async () => {
    tb.fake.failures.push({ match: /^POST .*\/syncfunctiontriggers$/, status: 409, code: 'Conflict', times: 2 })
    const fn = await deployEcho(tb, 'nodejs', { runId: 'sync-retry' })
    expect(tb.fake.calls.filter((c) => c.path.endsWith('/syncfunctiontriggers')).length).toBeGreaterThanOrEqual(3)
    ok(await fn.invoke({ message: 'synced' }))
    await fn.delete()

    tb.fake.failures.push({ match: /^POST .*\/syncfunctiontriggers$/, status: 400, code: 'BadRequest', times: 1 })
    await expect(deployEcho(tb, 'nodejs', { runId: 'sync-fail' })).rejects.toMatchObject({
      code: 'DEPLOY_FAILED',
      message: expect.stringMatching(/Syncing the triggers of .* failed \(HTTP 400\)/),
    })
    expect([...tb.fake.groups.values()].filter((g) => g.tags['sebs-run-id'] === 'sync-fail')).toEqual([])
  })
})

describe('sweep', () => {
  let tb: Testbed

  beforeAll(async () => {
    tb = await startTestbed({ options: { plan: 'consumption' } })
  }, 60_000)

  afterAll(async () => {
    await tb?.close()
  }, 60_000)

  it('lists and deletes only tagged groups of the requested run; dry runs change nothing', async () => {
    const a = await deployEcho(tb, 'nodejs', { runId: 'run-a' })
    const b = await deployEcho(tb, 'nodejs', { runId: 'run-b' })
    // A group that looks like ours but lacks the tag is never touched.
    tb.fake.groups.set('sebs-run-a-lookalike', { name: 'sebs-run-a-lookalike', location: 'westeurope', tags: {} })

    const dry = await tb.provider.sweep({ runId: 'run-a', dryRun: true })
    expect(dry).toEqual([{ kind: 'resource-group:function', id: dataOf(a).resourceGroup, runId: 'run-a', removed: false }])
    expect(tb.fake.groups.has(dataOf(a).resourceGroup.toLowerCase())).toBe(true)

    const real = await tb.provider.sweep({ runId: 'run-a', dryRun: false })
    expect(real).toEqual([{ kind: 'resource-group:function', id: dataOf(a).resourceGroup, runId: 'run-a', removed: true }])
    expect(tb.fake.groups.has(dataOf(a).resourceGroup.toLowerCase())).toBe(false)
    expect(tb.fake.liveWorkers(dataOf(a).appName)).toBe(0)

    const rest = await tb.provider.sweep({ dryRun: true })
    expect(rest.map((r) => r.id)).toEqual([dataOf(b).resourceGroup])
    await tb.provider.sweep({ dryRun: false })
    expect([...tb.fake.groups.keys()]).toEqual(['sebs-run-a-lookalike'])
    // The group filter went to ARM as a tag filter.
    expect(tb.fake.calls.some((c) => c.method === 'GET' && /\/resourcegroups$/i.test(c.path))).toBe(true)
  })
})

describe('metrics', () => {
  let tb: Testbed
  let fn: DeployedFunction

  beforeAll(async () => {
    tb = await startTestbed({ appInsights: true, ingestionDelayMs: 400, options: { plan: 'consumption' } })
    fn = await deployEcho(tb, 'python')
  }, 300_000)

  afterAll(async () => {
    await tb?.close()
  }, 60_000)

  it('creates an Application Insights component and wires its connection string into the app', () => {
    const component = [...tb.fake.resources.values()].find((r) => r.type === 'Microsoft.Insights/components')!
    expect(component.tags).toMatchObject({ 'sebs-run-id': tb.runId })
    expect(tb.fake.apps.get(dataOf(fn).appName)!.settings.APPLICATIONINSIGHTS_CONNECTION_STRING).toBe(component.properties.ConnectionString)
    expect(dataOf(fn).appInsights).toEqual({ appId: component.properties.AppId, endpoint: tb.fake.appInsightsEndpoint })
  })

  it('fills providerTimeUs from the requests table (waiting out the ingestion delay) and the Consumption billing inputs', async () => {
    const results = [ok(await fn.invoke({ message: 'a' })), ok(await fn.invoke({ message: 'b' })), ok(await fn.invoke({ sleep_ms: 150 }))]
    const records = results.map((r, i) => record(fn, r, i))
    const foreign: InvocationRecord = { ...records[0]!, benchmark: '999.other', requestId: 'not-mine' }
    const started = Date.now()
    const out = await fn.metrics!([...records, foreign])
    // Rows became visible only after the 400 ms ingestion delay: the query was repeated.
    expect(Date.now() - started).toBeGreaterThanOrEqual(200)
    expect(tb.fake.calls.length).toBeGreaterThan(0)
    expect(out[3]).toEqual(foreign)
    for (const [i, r] of out.slice(0, 3).entries()) {
      const row = tb.fake.rows.find((x) => x.invocationId === records[i]!.requestId)!
      expect(r.providerTimeUs).toBe(Math.round(row.durationMs * 1000))
      // The platform's time includes the wrapper's.
      expect(r.providerTimeUs!).toBeGreaterThanOrEqual(records[i]!.functionTimeUs * 0.9)
      // Billed: the platform's time in whole ms, at least 100 ms; observed memory (peak RSS) in whole MB.
      expect(r.billedTimeMs).toBe(Math.max(100, Math.ceil(r.providerTimeUs! / 1000)))
      expect(r.memoryUsedMb).toBe(Math.ceil(records[i]!.rssPeakKb! / 1024))
      // The one price table turns them into dollars: observed memory rounded up to 128 MB × billed time.
      const cost = estimateCost(r, 'azure-consumption')!
      expect(cost.durationSource).toBe('billed')
      expect(cost.billedMemoryMb).toBe(Math.max(128, Math.ceil(r.memoryUsedMb! / 128) * 128))
      expect(cost.usd).toBeCloseTo(0.2e-6 + (r.billedTimeMs! / 1000) * (cost.billedMemoryMb / 1024) * 0.000016, 15)
    }
    expect(out[2]!.billedTimeMs!).toBeGreaterThanOrEqual(150)
    // The query API was called with a token for its own scope.
    expect(tb.credential.scopes).toContain('https://api.applicationinsights.io/.default')
  })

  it('rows that never arrive leave providerTimeUs unset after the timeout; billed time falls back to function time', async () => {
    const r = record(fn, ok(await fn.invoke({ message: 'late' })), 1)
    const missing = { ...r, requestId: '00000000-0000-4000-8000-00000000dead' }
    const started = Date.now()
    const [out] = await fn.metrics!([missing])
    expect(Date.now() - started).toBeLessThan(15_000)
    expect(out!.providerTimeUs).toBeUndefined()
    expect(out!.billedTimeMs).toBe(Math.max(100, Math.ceil(r.functionTimeUs / 1000)))
  }, 30_000)
})

describe('secrets', () => {
  it('after a mocked run nothing secret is in the cache, the records, the handles or the log output', async () => {
    const savedDebug = process.env.DEBUG
    process.env.DEBUG = 'sebs:*'
    const stderr: string[] = []
    const write = process.stderr.write.bind(process.stderr)
    process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8')
      stderr.push(text)
      // Captured debug lines are not echoed; anything else still reaches the terminal.
      if (text.startsWith('sebs:')) return true
      return (write as (c: unknown, ...r: unknown[]) => boolean)(chunk, ...rest)
    }) as typeof process.stderr.write
    let tb: Testbed | undefined
    try {
      tb = await startTestbed({ appInsights: true, runId: `secrets-${randomBytes(3).toString('hex')}`, options: { plan: 'consumption' } })
      const storage = await tb.provider.storage()
      const nosql = await tb.provider.nosql!()
      await nosql.createTable('903.nosql-echo', 'items', 'id')
      // Every kind of secret in play: storage and Cosmos keys in app settings, a SAS URL, the token.
      const fns = [
        // A generous timeout: a loaded machine starts workers slowly, and this test is about secrets, not timeouts.
        await deployEcho(tb, 'nodejs', { benchmark: '902.storage-echo', timeout: 60 }),
        await deployEcho(tb, 'nodejs', { benchmark: '903.nosql-echo', timeout: 60 }),
        await deployEcho(tb, 'python', { timeout: 60 }),
      ]
      const sasSignatures = fns.map((f) => new URL(tb!.fake.apps.get(dataOf(f).appName)!.settings.WEBSITE_RUN_FROM_PACKAGE!).searchParams.get('sig')!)
      expect(sasSignatures.every(Boolean)).toBe(true)
      // Failing invocations too: their error traces are written to records.
      const results = [await fns[0]!.invoke({}), await fns[1]!.invoke({ id: 'missing', write_id: 'w' }), await fns[2]!.invoke({ message: 'x' })]
      expect(results.map((r) => r.state)).toEqual(['error', 'ok', 'ok'])
      const records = await fns[2]!.metrics!([record(fns[2]!, results[2] as Extract<InvokeResult, { state: 'ok' }>, 0)])
      for (const f of fns) await f.forceColdStart()
      for (const f of fns) await f.delete()
      await tb.provider.sweep({ dryRun: false })

      const secrets = [
        ...tb.fake.issuedSecrets,
        tb.cosmos.key,
        tb.credential.token,
        ...sasSignatures,
      ].filter(Boolean)
      // The deployed apps held them (so the scan is not vacuous)…
      expect(secrets.length).toBeGreaterThanOrEqual(3 * 2 + 1 + 1 + 3)
      // …and nothing the harness keeps does.
      const written: string[] = [tb.logLines.join('\n'), stderr.join(''), JSON.stringify(records), JSON.stringify(results), ...fns.map((f) => JSON.stringify(f.handle))]
      for (const dir of [tb.buildContext.cacheDir, join(tb.workDir, 'cache')]) {
        for (const file of await listFiles(dir)) {
          if ((await stat(file)).size < 5_000_000) written.push(await readFile(file, 'latin1'))
        }
      }
      for (const text of written) for (const s of secrets) expect(text.includes(s)).toBe(false)
      // The Azurite connection string came from the config; even it is never logged.
      expect(written.slice(0, 2).join('\n')).not.toContain('AccountKey=')
      void storage
    } finally {
      process.stderr.write = write
      if (savedDebug === undefined) delete process.env.DEBUG
      else process.env.DEBUG = savedDebug
      await tb?.close()
    }
  }, 300_000)
})

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = []
  let entries
  try {
    entries = await readdir(dir, { withFileTypes: true })
  } catch {
    return out
  }
  for (const e of entries) {
    const p = join(dir, e.name)
    if (e.isDirectory()) out.push(...(await listFiles(p)))
    else if (e.isFile()) out.push(p)
  }
  return out
}
