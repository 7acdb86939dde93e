/**
 * One benchmark function on Azure Functions: deployed as a Linux Consumption
 * function app that runs its package from a URL, invoked over its anonymous
 * HTTP trigger, restarted for cold starts, measured, and deleted with its
 * resource group.
 *
 * Deploy, in order (each step waits for its long-running operation):
 *   resource group (tagged) → storage account → account key → package zip
 *   uploaded to the `sebs-packages` container with a read-only SAS URL →
 *   Consumption plan (Y1, Linux) → [Application Insights component] →
 *   function app with its app settings (WEBSITE_RUN_FROM_PACKAGE = the SAS
 *   URL, FUNCTIONS_* runtime, AzureWebJobsStorage, the function timeout, the
 *   harness's env) → syncfunctiontriggers → poll until the function answers.
 * A failed deploy deletes the resource group it created.
 *
 * Secrets (account keys, connection strings, the SAS URL) exist only in
 * memory and in the app's settings; the handle holds names and URLs.
 */
import { randomBytes } from 'node:crypto'
import { stat } from 'node:fs/promises'
import { BlobSASPermissions, BlobServiceClient } from '@azure/storage-blob'
import { delay } from '../../core/delay.ts'
import { ProviderError, SebsError, errorMessage } from '../../core/errors.ts'
import type { Logger } from '../../core/logger.ts'
import type { InvocationRecord, Language, WrapperEnvelope } from '../../core/types.ts'
import { checkPaddingBytes, withPaddedZip } from '../packaging/code-padding.ts'
import type { CodePackage, CodeUpdateResult, DeployOptions, DeployedFunction, FunctionHandle, InvokeOptions, InvokeResult } from '../types.ts'
import { describeConnectionString } from './blob-storage.ts'
import { type AzureClients, armErrorText, isNotFound, statusOf } from './clients.ts'
import { type AzureOptions, linuxFxVersion, runtimeVersionFor, workerRuntime } from './config.ts'
import { queryRequestDurations } from './app-insights.ts'
import { azureConsumptionCost } from './cost.ts'
import {
  FUNCTION_NAME,
  PACKAGE_CONTAINER,
  TAG_BENCHMARK,
  TAG_KIND,
  appInsightsName,
  functionAppName,
  functionResourceGroup,
  functionStorageAccount,
  packageBlobName,
  planName,
  sebsTags,
} from './naming.ts'

/** Poll intervals (tests shorten them). */
export interface AzureTimings {
  /** Long-running ARM operations. */
  lroPollMs: number
  /** Readiness probes of the function after a deploy or a settings change. */
  probeMs: number
  /** Application Insights queries while rows are still being ingested. */
  metricsPollMs: number
}

export const DEFAULT_TIMINGS: AzureTimings = { lroPollMs: 2000, probeMs: 2000, metricsPollMs: 15_000 }

/** Azure Functions' limits on a Consumption plan. */
export const LIMITS = { timeoutMinS: 1, timeoutMaxS: 600, memoryMb: 1536 }

/** What the handle carries (plain data, no secrets). */
export interface AzureFunctionData {
  subscriptionId: string
  region: string
  resourceGroup: string
  appName: string
  /** The anonymous HTTP trigger's URL (not a secret: no function key). */
  url: string
  management: string
  runtime: string
  packageBlob: string
  /** The deployed zip on this machine and its size: what `updateCode` pads and restores. */
  packagePath?: string
  packageSizeBytes?: number
  appInsights?: { appId: string; endpoint: string }
  deployTimeoutMs: number
  coldStartTimeoutMs: number
  metricsTimeoutMs: number
}

export interface FunctionContext {
  clients: () => Promise<AzureClients>
  logger: Logger
  timings: AzureTimings
  /**
   * The configured blob endpoint packages go to (`endpoints.blobConnectionString`);
   * unset: the app's own storage account, read from its AzureWebJobsStorage setting.
   */
  blobConnectionString?: string
  /** Where padded zips are written while they are uploaded (code-size sweeps); removed right after. */
  paddingTmpDir?: string
}

export interface DeployContext extends FunctionContext {
  options: AzureOptions
  subscriptionId: string
  /** Database of the harness's Cosmos DB tables, when NoSQL storage was set up. */
  nosqlDatabase?: string
}

// ---------------------------------------------------------------------------
// helpers

function fmtTimeout(seconds: number): string {
  const h = Math.floor(seconds / 3600)
  const m = Math.floor((seconds % 3600) / 60)
  const s = seconds % 60
  return [h, m, s].map((n) => String(n).padStart(2, '0')).join(':')
}

function checkTimeout(timeout: number | undefined): void {
  if (timeout !== undefined && (!Number.isInteger(timeout) || timeout < LIMITS.timeoutMinS || timeout > LIMITS.timeoutMaxS)) {
    throw new ProviderError(
      'azure',
      'DEPLOY_FAILED',
      `Azure Functions (Consumption) timeout must be a whole number of seconds from ${LIMITS.timeoutMinS} to ${LIMITS.timeoutMaxS}, got ${timeout}.`,
    )
  }
}


/** Wraps an SDK failure into a DEPLOY_FAILED error that names the step and resource. */
function stepError(step: string, err: unknown): ProviderError {
  if (err instanceof SebsError) return err as ProviderError
  const details = (err as { details?: unknown }).details
  let text = details && (details as { error?: unknown }).error ? armErrorText(details) : errorMessage(err)
  // RestErrors carry ARM's error code separately from the message.
  const code = (err as { code?: unknown }).code
  if (typeof code === 'string' && code && !text.includes(code)) text = `${code}: ${text}`
  const status = statusOf(err)
  return new ProviderError('azure', 'DEPLOY_FAILED', `${step} failed${status ? ` (HTTP ${status})` : ''}: ${text}`, { cause: err })
}

function accountConnectionString(account: string, key: string): string {
  return `DefaultEndpointsProtocol=https;AccountName=${account};AccountKey=${key};EndpointSuffix=core.windows.net`
}

/** POSTs a probe (`x-sebs-probe`): the wrapper answers without running the benchmark. */
async function probe(url: string): Promise<{ status: number; body?: { probe?: boolean; coldStartCounter?: string | null } }> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-sebs-probe': '1' },
      body: '{}',
      signal: AbortSignal.timeout(30_000),
    })
    const text = await res.text()
    try {
      return { status: res.status, body: JSON.parse(text) }
    } catch {
      return { status: res.status }
    }
  } catch (err) {
    return { status: 0, body: { probe: false, coldStartCounter: errorMessage(err) } }
  }
}

/**
 * Polls the function with probes until it answers as our wrapper (and, when
 * `counter` is given, from a worker started with SEBS_COLD_START=counter).
 */
export async function waitUntilServing(
  url: string,
  opts: { counter?: string; timeoutMs: number; pollMs: number; what: string },
): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs
  let last = 'no answer yet'
  for (;;) {
    const res = await probe(url)
    if (res.status === 200 && res.body?.probe === true) {
      if (opts.counter === undefined || res.body.coldStartCounter === opts.counter) return
      last = `a worker with SEBS_COLD_START=${res.body.coldStartCounter} answered (waiting for ${opts.counter})`
    } else {
      last = res.status === 0 ? `request failed: ${res.body?.coldStartCounter}` : `HTTP ${res.status}`
    }
    if (Date.now() + opts.pollMs > deadline) {
      throw new ProviderError('azure', 'TIMEOUT', `${opts.what}: the function at ${url} did not serve within ${Math.round(opts.timeoutMs / 1000)} s (last: ${last}).`)
    }
    await delay(opts.pollMs)
  }
}

/** A read-only SAS URL of a package blob, valid for as long as an app may live. */
function packageSasUrl(connectionString: string, blobName: string): Promise<string> {
  const blob = BlobServiceClient.fromConnectionString(connectionString).getContainerClient(PACKAGE_CONTAINER).getBlockBlobClient(blobName)
  return blob.generateSasUrl({
    permissions: BlobSASPermissions.parse('r'),
    startsOn: new Date(Date.now() - 5 * 60_000),
    // Instances fetch the package at every cold start, for as long as the app lives (--keep runs too).
    expiresOn: new Date(Date.now() + 90 * 24 * 3600_000),
  })
}

/** Uploads a zip to the `sebs-packages` container; returns its read-only SAS URL. */
async function uploadPackage(connectionString: string, blobName: string, path: string): Promise<string> {
  const container = BlobServiceClient.fromConnectionString(connectionString).getContainerClient(PACKAGE_CONTAINER)
  await container.createIfNotExists()
  await container.getBlockBlobClient(blobName).uploadFile(path, { blockSize: 4 * 1024 * 1024, maxSingleShotSize: 4 * 1024 * 1024, concurrency: 4 })
  return packageSasUrl(connectionString, blobName)
}

/** Run-from-URL apps must have their triggers synced for the platform to route to a new package. */
async function syncTriggers(c: AzureClients, resourceGroup: string, appName: string, deadlineMs: number, pollMs: number): Promise<void> {
  const deadline = Date.now() + deadlineMs
  for (;;) {
    try {
      await c.web.webApps.syncFunctionTriggers(resourceGroup, appName)
      return
    } catch (err) {
      const status = statusOf(err)
      // Right after creation or a restart the app may not accept the call yet (409/5xx); a 4xx otherwise is final.
      const transient = status === undefined || status === 409 || status === 429 || status >= 500
      if (!transient || Date.now() + pollMs > deadline) throw stepError(`Syncing the triggers of ${appName}`, err)
      await delay(pollMs)
    }
  }
}

// ---------------------------------------------------------------------------
// invocation results

function envelopeResult(envelope: WrapperEnvelope, clientTimeUs: number): InvokeResult {
  if (envelope.error) {
    return { state: 'error', error: `${envelope.error.type}: ${envelope.error.message}`, envelope, clientTimeUs }
  }
  return { state: 'ok', envelope, clientTimeUs }
}

function isEnvelope(v: unknown): v is WrapperEnvelope {
  return v !== null && typeof v === 'object' && 'begin' in v && 'end' in v && 'isCold' in v
}

/**
 * An HTTP answer of the function as an InvokeResult. The wrapper answers 200
 * for every benchmark outcome, so other statuses come from the platform: the
 * host answers 500 when the function exceeded its functionTimeout (a timeout
 * when the round trip reached the configured limit), 502/503/504 from the
 * front end; anything else is an error with the status and body.
 */
export function interpretResponse(status: number, body: string, clientTimeUs: number, timeoutSeconds: number): InvokeResult {
  if (status === 200) {
    let parsed: unknown
    try {
      parsed = JSON.parse(body)
    } catch {
      return { state: 'error', error: `The function answered 200 with a body that is not JSON: ${body.slice(0, 300)}`, clientTimeUs }
    }
    if (!isEnvelope(parsed)) return { state: 'error', error: `The function answered without a wrapper envelope: ${body.slice(0, 300)}`, clientTimeUs }
    return envelopeResult(parsed, clientTimeUs)
  }
  if ([500, 502, 503, 504].includes(status) && clientTimeUs >= timeoutSeconds * 1e6 * 0.95) {
    return { state: 'timeout', error: `Azure Functions timeout: the function ran past its ${timeoutSeconds} s limit (HTTP ${status})`, clientTimeUs }
  }
  let envelope: WrapperEnvelope | undefined
  try {
    const parsed = JSON.parse(body) as unknown
    if (isEnvelope(parsed)) envelope = parsed
  } catch {
    // Platform error pages are not JSON.
  }
  return { state: 'error', error: `HTTP ${status} from the function: ${body.slice(0, 300) || '(empty body)'}`, clientTimeUs, ...(envelope ? { envelope } : {}) }
}

// ---------------------------------------------------------------------------
// the deployed function

export class DeployedAzureFunction implements DeployedFunction {
  readonly handle: FunctionHandle
  private readonly ctx: FunctionContext

  constructor(handle: FunctionHandle, ctx: FunctionContext) {
    this.handle = handle
    this.ctx = ctx
  }

  private get data(): AzureFunctionData {
    return this.handle.data as unknown as AzureFunctionData
  }

  async invoke(payload: Record<string, unknown>, options: InvokeOptions = {}): Promise<InvokeResult> {
    if (options.trigger === 'library') {
      return { state: 'error', error: 'Azure Functions has no library trigger here; use --trigger http.', clientTimeUs: 0 }
    }
    const timeoutS = this.handle.timeout
    const body = JSON.stringify(payload)
    const t0 = performance.now()
    let status: number
    let text: string
    try {
      const res = await fetch(this.data.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        // The host's functionTimeout ends a long invocation first; this only guards a hung connection.
        signal: AbortSignal.timeout(timeoutS * 1000 + 30_000),
      })
      status = res.status
      text = await res.text()
    } catch (err) {
      const clientTimeUs = Math.round((performance.now() - t0) * 1000)
      if ((err as Error).name === 'TimeoutError') {
        return { state: 'timeout', error: `Client timeout: no answer from ${this.data.url} within ${timeoutS + 30} s`, clientTimeUs }
      }
      return { state: 'error', error: `Request to ${this.data.url} failed: ${errorMessage(err)}`, clientTimeUs }
    }
    const clientTimeUs = Math.round((performance.now() - t0) * 1000)
    return interpretResponse(status, text, clientTimeUs, timeoutS)
  }

  /**
   * Changes the app settings (always bumping SEBS_COLD_START, which restarts
   * the app on new workers) and waits until a worker with the new settings
   * serves. The wait probes the function (`x-sebs-probe`), which starts the
   * host and the language worker but neither imports the benchmark nor writes
   * the cold-start marker: the next invocation is still the instance's first.
   */
  private async changeSettings(
    change: (settings: Record<string, string>) => void | Promise<void>,
    what: string,
    opts: { syncTriggers?: boolean } = {},
  ): Promise<void> {
    const c = await this.ctx.clients()
    const { resourceGroup, appName } = this.data
    let settings: Record<string, string>
    try {
      settings = { ...((await c.web.webApps.listApplicationSettings(resourceGroup, appName)).properties ?? {}) }
    } catch (err) {
      throw stepError(`${what}: reading the app settings of ${appName}`, err)
    }
    await change(settings)
    const counter = String((Number.parseInt(settings.SEBS_COLD_START ?? '0', 10) || 0) + 1)
    settings.SEBS_COLD_START = counter
    try {
      // PUT replaces the whole set, so the current settings are sent back with the change.
      await c.web.webApps.updateApplicationSettings(resourceGroup, appName, { properties: settings })
    } catch (err) {
      throw stepError(`${what}: updating the app settings of ${appName}`, err)
    }
    if (opts.syncTriggers) await syncTriggers(c, resourceGroup, appName, Math.min(this.data.deployTimeoutMs, 120_000), this.ctx.timings.probeMs)
    await waitUntilServing(this.data.url, { counter, timeoutMs: this.data.coldStartTimeoutMs, pollMs: this.ctx.timings.probeMs, what })
    this.ctx.logger.debug(`${appName}: serving with SEBS_COLD_START=${counter}`)
  }

  forceColdStart(): Promise<void> {
    return this.changeSettings(() => {}, `forceColdStart of ${this.handle.name}`)
  }

  async update(options: { memory?: number; timeout?: number; env?: Record<string, string> }): Promise<void> {
    checkTimeout(options.timeout)
    if (options.memory !== undefined && options.memory !== this.handle.memory) {
      // Consumption apps have one fixed limit; the configured value is recorded, not applied.
      this.ctx.logger.warn(
        `${this.handle.name}: Azure Functions (Consumption) has no memory setting (every instance may use up to ${LIMITS.memoryMb} MB); memory=${options.memory} is recorded but not applied.`,
      )
    }
    if (options.timeout !== undefined || (options.env && Object.keys(options.env).length > 0)) {
      await this.changeSettings((s) => {
        if (options.timeout !== undefined) s.AzureFunctionsJobHost__functionTimeout = fmtTimeout(options.timeout)
        Object.assign(s, options.env ?? {})
      }, `update of ${this.handle.name}`)
    }
    if (options.memory !== undefined) this.handle.memory = options.memory
    if (options.timeout !== undefined) this.handle.timeout = options.timeout
  }

  /** The padded package blob the app runs now (this object uploaded it), with the connection it lives behind. */
  private padded: { blob: string; connectionString: string } | undefined

  /**
   * Runs the app from its deployed zip plus `sebs-padding.bin` of
   * `paddingBytes` random bytes (0: the deployed zip again), the deploy's
   * way: the zip is uploaded as a package blob, WEBSITE_RUN_FROM_PACKAGE is
   * set to its read-only SAS URL (with SEBS_COLD_START bumped, so new
   * workers start), the triggers are synced, and it returns once a worker
   * with the new settings answers; that worker has not run the benchmark,
   * so the next invocation is cold. The previous padded blob is deleted.
   */
  async updateCode(options: { paddingBytes: number }): Promise<CodeUpdateResult> {
    const bytes = options.paddingBytes
    checkPaddingBytes('azure', bytes)
    const { packagePath, packageBlob } = this.data
    if (!packagePath || !this.ctx.paddingTmpDir) {
      throw new ProviderError(
        'azure',
        'NOT_SUPPORTED',
        `Cannot change the code package of ${this.handle.name}: ${!packagePath ? 'its handle names no package (deployed by an older version)' : 'this connection has no temp dir for padded packages'}. Deploy it again with this version to run code-package-size sweeps.`,
      )
    }
    const what = bytes > 0 ? `Deploying a package padded with ${bytes} bytes to ${this.handle.name}` : `Restoring the deployed package of ${this.handle.name}`
    const apply = async (zip: { path: string; sizeBytes: number } | undefined): Promise<CodeUpdateResult> => {
      const blob = zip ? `${packageBlob.replace(/\.zip$/, '')}-padding-${bytes}-${randomBytes(4).toString('hex')}.zip` : undefined
      let connectionString: string | undefined
      let uploaded = false
      try {
        await this.changeSettings(
          async (settings) => {
            connectionString = this.ctx.blobConnectionString ?? settings.AzureWebJobsStorage
            if (!connectionString) throw new ProviderError('azure', 'DEPLOY_FAILED', `${what}: the app has no AzureWebJobsStorage setting to find its package storage in.`)
            try {
              if (blob && zip) {
                settings.WEBSITE_RUN_FROM_PACKAGE = await uploadPackage(connectionString, blob, zip.path)
                uploaded = true
              } else {
                settings.WEBSITE_RUN_FROM_PACKAGE = await packageSasUrl(connectionString, packageBlob)
              }
            } catch (err) {
              throw stepError(`${what}: uploading the package ${blob ?? packageBlob} to storage account ${describeConnectionString(connectionString).accountName}`, err)
            }
          },
          what,
          { syncTriggers: true },
        )
      } catch (err) {
        if (uploaded && blob && connectionString) await this.removePackageBlob(connectionString, blob)
        throw err
      }
      const previous = this.padded
      this.padded = blob && connectionString ? { blob, connectionString } : undefined
      if (previous) await this.removePackageBlob(previous.connectionString, previous.blob)
      const packageSizeBytes = zip ? zip.sizeBytes : (this.data.packageSizeBytes ?? (await stat(packagePath)).size)
      this.ctx.logger.debug(`${this.handle.name}: runs a ${packageSizeBytes}-byte package (${bytes} bytes of padding)`)
      return { paddingBytes: bytes, packageSizeBytes }
    }
    return bytes === 0 ? apply(undefined) : withPaddedZip(packagePath, bytes, this.ctx.paddingTmpDir, (zip) => apply(zip))
  }

  private async removePackageBlob(connectionString: string, blob: string): Promise<void> {
    try {
      await BlobServiceClient.fromConnectionString(connectionString).getContainerClient(PACKAGE_CONTAINER).deleteBlob(blob, { deleteSnapshots: 'include' })
    } catch (err) {
      if (statusOf(err) === 404) return
      this.ctx.logger.warn(`${this.handle.name}: could not delete the package blob ${blob}: ${errorMessage(err)} (it goes with the app's resource group, or 'npx sebs cleanup --provider=azure')`)
    }
  }

  /**
   * Billing (and, with Application Insights, the platform's request
   * durations) for this function's records. Records of other functions pass
   * through unchanged.
   */
  async metrics(records: InvocationRecord[]): Promise<InvocationRecord[]> {
    const mine = records.filter((r) => r.benchmark === this.handle.benchmark && r.language === this.handle.language && r.runId === this.handle.runId)
    let durations = new Map<string, number>()
    const ai = this.data.appInsights
    if (ai && mine.length > 0) {
      const c = await this.ctx.clients()
      try {
        durations = await queryRequestDurations({
          request: c.request,
          endpoint: ai.endpoint,
          appId: ai.appId,
          invocationIds: mine.map((r) => r.requestId).filter(Boolean),
          since: new Date(Math.min(...mine.map((r) => r.startedAt)) - 5 * 60_000),
          timeoutMs: this.data.metricsTimeoutMs,
          pollMs: this.ctx.timings.metricsPollMs,
          logger: this.ctx.logger,
        })
      } catch (err) {
        this.ctx.logger.warn(`${this.handle.name}: Application Insights metrics unavailable: ${errorMessage(err)}`)
      }
    }
    return records.map((r) => {
      if (!mine.includes(r)) return r
      const out: InvocationRecord = { ...r }
      const ms = durations.get(r.requestId)
      if (ms !== undefined) out.providerTimeUs = Math.round(ms * 1000)
      const durationMs = (out.providerTimeUs ?? (r.functionTimeUs > 0 ? r.functionTimeUs : r.clientTimeUs)) / 1000
      // Observed memory: the worker's peak RSS (the whole worker process, the closest the function can see).
      const observedMb = r.rssPeakKb !== undefined ? r.rssPeakKb / 1024 : 0
      const cost = azureConsumptionCost({ durationMs, memoryMb: observedMb })
      out.billedTimeMs = cost.billedDurationMs
      if (r.rssPeakKb !== undefined) out.memoryUsedMb = Math.ceil(observedMb)
      out.costUsd = cost.costUsd
      return out
    })
  }

  async delete(): Promise<void> {
    // A padded blob behind a configured endpoint outlives the resource group.
    if (this.padded) await this.removePackageBlob(this.padded.connectionString, this.padded.blob)
    this.padded = undefined
    const c = await this.ctx.clients()
    await deleteResourceGroup(c, this.data.resourceGroup, this.ctx)
    this.ctx.logger.debug(`deleted ${this.handle.name} (resource group ${this.data.resourceGroup})`)
  }
}

/** Deletes a resource group and waits for the operation; a group that is already gone is fine. */
export async function deleteResourceGroup(c: AzureClients, name: string, ctx: { timings: AzureTimings }): Promise<void> {
  try {
    await c.resources.resourceGroups.beginDeleteAndWait(name, { updateIntervalInMs: ctx.timings.lroPollMs })
  } catch (err) {
    if (isNotFound(err)) return
    throw new ProviderError('azure', 'DEPLOY_FAILED', `Deleting resource group ${name} failed: ${errorMessage(err)}`, { cause: err })
  }
}

// ---------------------------------------------------------------------------
// deploy

/** Creates everything one function needs and waits until it answers. */
export async function deployFunctionApp(pkg: CodePackage, options: DeployOptions, ctx: DeployContext): Promise<DeployedAzureFunction> {
  checkTimeout(options.timeout)
  if (pkg.kind !== 'zip') throw new ProviderError('azure', 'DEPLOY_FAILED', `Azure needs a zip package, got a ${pkg.kind} at ${pkg.path}.`)
  if (options.trigger === 'library') {
    throw new ProviderError('azure', 'NOT_SUPPORTED', 'Azure Functions is invoked over HTTP only (SeBS too); use --trigger http.')
  }
  const o = ctx.options
  const language: Language = pkg.language
  const appName = functionAppName(o.resourceGroupPrefix, options.runId, ctx.subscriptionId, pkg.benchmark, language)
  const resourceGroup = functionResourceGroup(o.resourceGroupPrefix, options.runId, appName)
  const account = functionStorageAccount(appName)
  const plan = planName(appName)
  const tags = sebsTags(options.runId, { [TAG_KIND]: 'function', [TAG_BENCHMARK]: pkg.benchmark })
  const version = runtimeVersionFor(o, language)
  const poll = { updateIntervalInMs: ctx.timings.lroPollMs }
  const c = await ctx.clients()
  const log = ctx.logger
  const started = Date.now()
  let groupCreated = false

  try {
    log.debug(`${appName}: resource group ${resourceGroup}`)
    try {
      await c.resources.resourceGroups.createOrUpdate(resourceGroup, { location: o.region, tags })
      groupCreated = true
    } catch (err) {
      throw stepError(`Creating resource group ${resourceGroup}`, err)
    }

    let accountKey: string
    try {
      await c.storage.storageAccounts.create(
        resourceGroup,
        account,
        {
          sku: { name: 'Standard_LRS' },
          kind: 'StorageV2',
          location: o.region,
          tags,
          minimumTlsVersion: 'TLS1_2',
          allowBlobPublicAccess: false,
          enableHttpsTrafficOnly: true,
        },
        poll,
      )
      const keys = await c.storage.storageAccounts.listKeys(resourceGroup, account)
      const key = keys.keys?.find((k) => k.value)?.value
      if (!key) throw new Error('listKeys returned no key')
      accountKey = key
    } catch (err) {
      throw stepError(`Creating storage account ${account}`, err)
    }
    const webJobsStorage = accountConnectionString(account, accountKey)

    // The package: uploaded to the app's own account (or the configured blob
    // endpoint), run from a read-only SAS URL.
    const blobName = packageBlobName(pkg.benchmark, language, pkg.hash)
    let packageUrl: string
    try {
      packageUrl = await uploadPackage(o.endpoints.blobConnectionString ?? webJobsStorage, blobName, pkg.path)
    } catch (err) {
      const where = describeConnectionString(o.endpoints.blobConnectionString ?? webJobsStorage).accountName
      throw stepError(`Uploading the package ${blobName} to storage account ${where}`, err)
    }

    let serverFarmId: string
    try {
      const farm = await c.web.appServicePlans.createOrUpdate(
        resourceGroup,
        plan,
        { location: o.region, kind: 'functionapp', reserved: true, sku: { name: 'Y1', tier: 'Dynamic' }, tags },
        poll,
      )
      if (!farm.id) throw new Error('the plan has no id')
      serverFarmId = farm.id
    } catch (err) {
      throw stepError(`Creating Consumption plan ${plan}`, err)
    }

    let appInsights: { appId: string; connectionString: string } | undefined
    if (o.appInsights) {
      const id = `/subscriptions/${ctx.subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.Insights/components/${appInsightsName(appName)}`
      try {
        const component = await c.resources.resources.beginCreateOrUpdateByIdAndWait(
          // The SDK's URL template is '/{resourceId}': without the leading slash the path has none doubled.
          id.replace(/^\//, ''),
          '2020-02-02',
          { location: o.region, kind: 'web', tags, properties: { Application_Type: 'web', IngestionMode: 'ApplicationInsights' } },
          poll,
        )
        const props = (component.properties ?? {}) as { AppId?: string; ConnectionString?: string }
        if (!props.AppId || !props.ConnectionString) throw new Error('the component has no AppId or ConnectionString')
        appInsights = { appId: props.AppId, connectionString: props.ConnectionString }
      } catch (err) {
        throw stepError(`Creating Application Insights component ${appInsightsName(appName)}`, err)
      }
    }

    const settings: Record<string, string> = {
      FUNCTIONS_EXTENSION_VERSION: '~4',
      FUNCTIONS_WORKER_RUNTIME: workerRuntime(language),
      AzureWebJobsStorage: webJobsStorage,
      WEBSITE_RUN_FROM_PACKAGE: packageUrl,
      // The package is built already: no remote build on deployment.
      SCM_DO_BUILD_DURING_DEPLOYMENT: 'false',
      ENABLE_ORYX_BUILD: 'false',
      AzureFunctionsJobHost__functionTimeout: fmtTimeout(options.timeout),
      SEBS_COLD_START: '0',
      SEBS_RUN_ID: options.runId,
      ...(appInsights ? { APPLICATIONINSIGHTS_CONNECTION_STRING: appInsights.connectionString } : {}),
      ...(ctx.nosqlDatabase && Object.keys(options.env).some((k) => k.startsWith('NOSQL_STORAGE_TABLE_')) ? { NOSQL_STORAGE_DATABASE: ctx.nosqlDatabase } : {}),
      ...options.env,
    }

    let defaultHostName: string | undefined
    try {
      const site = await c.web.webApps.createOrUpdate(
        resourceGroup,
        appName,
        {
          location: o.region,
          kind: 'functionapp,linux',
          reserved: true,
          serverFarmId,
          httpsOnly: true,
          tags,
          siteConfig: {
            linuxFxVersion: linuxFxVersion(language, version),
            appSettings: Object.entries(settings).map(([name, value]) => ({ name, value })),
            ftpsState: 'Disabled',
            minTlsVersion: '1.2',
          },
        },
        poll,
      )
      defaultHostName = site.defaultHostName
    } catch (err) {
      throw stepError(`Creating function app ${appName}`, err)
    }
    if (!defaultHostName && !o.endpoints.functions) {
      throw new ProviderError('azure', 'DEPLOY_FAILED', `Function app ${appName} was created without a default host name.`)
    }

    await syncTriggers(c, resourceGroup, appName, Math.min(o.deployTimeoutMs, 120_000), ctx.timings.probeMs)

    const base = o.endpoints.functions ? o.endpoints.functions.replace('{app}', appName) : `https://${defaultHostName}`
    const url = `${base}/api/${FUNCTION_NAME}`
    await waitUntilServing(url, {
      timeoutMs: Math.max(10_000, o.deployTimeoutMs - (Date.now() - started)),
      pollMs: ctx.timings.probeMs,
      what: `Deploying ${pkg.benchmark} (${language})`,
    })

    const data: AzureFunctionData = {
      subscriptionId: ctx.subscriptionId,
      region: o.region,
      resourceGroup,
      appName,
      url,
      management: o.endpoints.management,
      runtime: linuxFxVersion(language, version),
      packageBlob: blobName,
      packagePath: pkg.path,
      packageSizeBytes: pkg.sizeBytes,
      ...(appInsights ? { appInsights: { appId: appInsights.appId, endpoint: o.endpoints.appInsights } } : {}),
      deployTimeoutMs: o.deployTimeoutMs,
      coldStartTimeoutMs: o.coldStartTimeoutMs,
      metricsTimeoutMs: o.metricsTimeoutMs,
    }
    const handle: FunctionHandle = {
      provider: 'azure',
      name: appName,
      benchmark: pkg.benchmark,
      language,
      memory: options.memory,
      timeout: options.timeout,
      trigger: 'http',
      runId: options.runId,
      data: data as unknown as Record<string, unknown>,
    }
    log.debug(`${appName}: deployed in ${Date.now() - started} ms at ${url}`)
    if (options.memory > LIMITS.memoryMb) {
      log.warn(`${pkg.benchmark} (${language}): memory=${options.memory} MB exceeds the Consumption plan's ${LIMITS.memoryMb} MB; it is recorded, not applied.`)
    }
    return new DeployedAzureFunction(handle, ctx)
  } catch (err) {
    if (groupCreated) {
      // A failed deploy removes what it created (CONVENTIONS §9).
      await deleteResourceGroup(c, resourceGroup, ctx).catch((cleanupErr) =>
        log.warn(`could not remove resource group ${resourceGroup} after the failed deploy: ${errorMessage(cleanupErr)} ('npx sebs cleanup --provider=azure' removes it)`),
      )
    }
    throw err instanceof SebsError ? err : stepError(`Deploying ${pkg.benchmark} (${language})`, err)
  }
}
