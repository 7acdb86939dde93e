/**
 * One benchmark function on Azure Functions (main process deploys; bench
 * workers invoke, restart and measure through `connect`): a function app on
 * the Flex Consumption plan (default) or the legacy Linux Consumption plan,
 * invoked over its anonymous HTTP trigger, restarted for cold starts,
 * measured, and deleted with its resource group.
 *
 * Deploy, in order (each step waits for its long-running operation):
 *   resource group (tagged) → storage account → account key →
 *   [Log Analytics workspace → workspace-based Application Insights] →
 *   Flex (FC1): deployment container → plan FC1 → function app with
 *     `functionAppConfig` (deployment container, runtime name/version,
 *     instance memory) → the zip published through the app's deployment
 *     endpoint (`/api/publish`, One Deploy), which stores it in the container
 *     and syncs the triggers;
 *   Consumption (Y1): package zip uploaded to `sebs-packages` with a
 *     read-only SAS URL → plan Y1 → function app (WEBSITE_RUN_FROM_PACKAGE =
 *     the SAS URL, FUNCTIONS_WORKER_RUNTIME, linuxFxVersion) →
 *     syncfunctiontriggers;
 *   → poll until the function answers.
 * A failed deploy deletes the resource group it created.
 *
 * Secrets (account keys, connection strings, the SAS URL) exist only in
 * memory and in the app's settings; the handle holds names and URLs.
 */
import { randomBytes } from 'node:crypto'
import { stat } from 'node:fs/promises'
import { BlobSASPermissions, BlobServiceClient } from '@azure/storage-blob'
import { delay } from '../../core/delay.ts'
import { isWrapperEnvelope } from '../../core/envelope.ts'
import { ProviderError, SebsError, errorMessage } from '../../core/errors.ts'
import type { Logger } from '../../core/logger.ts'
import type { InvocationRecord, Language, WrapperEnvelope } from '../../core/types.ts'
import { checkPaddingBytes, withPaddedZip } from '../packaging/code-padding.ts'
import type { CodePackage, CodeUpdateResult, DeployOptions, DeployedFunction, FunctionHandle, InvokeOptions, InvokeResult } from '../types.ts'
import { describeConnectionString } from './blob-storage.ts'
import { type AzureClients, armErrorText, isNotFound, statusOf } from './clients.ts'
import { type AzureOptions, type AzurePlan, HTTP_RESPONSE_LIMIT_S, flexInstanceMemory, linuxFxVersion, runtimeVersionFor, workerRuntime } from './config.ts'
import { queryRequestDurations } from './app-insights.ts'
import {
  FUNCTION_NAME,
  PACKAGE_CONTAINER,
  TAG_BENCHMARK,
  TAG_KIND,
  appInsightsName,
  deploymentContainerName,
  functionAppName,
  logWorkspaceName,
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
  /** Registration state of resource providers on a fresh subscription. */
  registrationPollMs: number
}

export const DEFAULT_TIMINGS: AzureTimings = { lroPollMs: 2000, probeMs: 2000, metricsPollMs: 15_000, registrationPollMs: 5000 }

/**
 * Limits: the Consumption plan's fixed 1.5 GB per instance; the timeout is
 * capped by what an HTTP trigger can answer (230 s, both plans), not by
 * functionTimeout (600 s on Consumption, unbounded on Flex).
 */
export const LIMITS = { timeoutMinS: 1, timeoutMaxS: HTTP_RESPONSE_LIMIT_S, memoryMb: 1536 }

/** Minimum billed execution time per plan, ms (Consumption 100 ms; Flex on demand 1 s). */
const MIN_BILLED_MS: Record<AzurePlan, number> = { consumption: 100, flex: 1000 }

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
  /** Hosting plan; absent in handles written before Flex support (= consumption). */
  plan?: AzurePlan
  /** Flex: the instance memory the SeBS memory setting was mapped to, MB. */
  instanceMemoryMb?: number
  /** Flex: the app's deployment endpoint (One Deploy `…/api/publish`). */
  publishUrl?: string
  packageBlob: string
  /** The deployed zip on this machine and its size: what `updateCode` pads and restores. */
  packagePath?: string
  packageSizeBytes?: number
  /** Consumption: how long a (renewed) package SAS URL lives, days. */
  packageSasDays?: number
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
  if (timeout === undefined) return
  if (Number.isInteger(timeout) && timeout > LIMITS.timeoutMaxS) {
    throw new ProviderError(
      'azure',
      'DEPLOY_FAILED',
      `timeout=${timeout} s is refused on Azure Functions: an HTTP-triggered function must answer within ${HTTP_RESPONSE_LIMIT_S} s, ` +
        'after which the front end cuts the response (HTTP 502) while the function runs, and bills, on. ' +
        `Set the benchmark's timeout to at most ${HTTP_RESPONSE_LIMIT_S} s.`,
    )
  }
  if (!Number.isInteger(timeout) || timeout < LIMITS.timeoutMinS) {
    throw new ProviderError(
      'azure',
      'DEPLOY_FAILED',
      `Azure Functions timeout must be a whole number of seconds from ${LIMITS.timeoutMinS} to ${LIMITS.timeoutMaxS}, got ${timeout}.`,
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

const DAY_MS = 24 * 3600_000

/**
 * A read-only SAS URL of a package blob, valid for `days` (instances fetch
 * the package at every cold start, so it must outlive the run; with --keep
 * it is long, and forceColdStart/update renew it when it runs short).
 */
function packageSasUrl(connectionString: string, blobName: string, days: number): Promise<string> {
  const blob = BlobServiceClient.fromConnectionString(connectionString).getContainerClient(PACKAGE_CONTAINER).getBlockBlobClient(blobName)
  return blob.generateSasUrl({
    permissions: BlobSASPermissions.parse('r'),
    startsOn: new Date(Date.now() - 5 * 60_000),
    expiresOn: new Date(Date.now() + days * DAY_MS),
  })
}

/** When a SAS URL expires (its `se` parameter), or undefined when it is not a SAS URL. */
export function sasExpiry(url: string | undefined): Date | undefined {
  if (!url) return undefined
  try {
    const se = new URL(url).searchParams.get('se')
    const d = se ? new Date(se) : undefined
    return d && !Number.isNaN(d.getTime()) ? d : undefined
  } catch {
    return undefined
  }
}

/** Uploads a zip to the `sebs-packages` container; returns its read-only SAS URL. */
async function uploadPackage(connectionString: string, blobName: string, path: string, sasDays: number): Promise<string> {
  const container = BlobServiceClient.fromConnectionString(connectionString).getContainerClient(PACKAGE_CONTAINER)
  await container.createIfNotExists()
  await container.getBlockBlobClient(blobName).uploadFile(path, { blockSize: 4 * 1024 * 1024, maxSingleShotSize: 4 * 1024 * 1024, concurrency: 4 })
  return packageSasUrl(connectionString, blobName, sasDays)
}

/**
 * Publishes a zip to a Flex Consumption app through its deployment endpoint
 * (One Deploy: `POST <scm>/api/publish?RemoteBuild=false`, bearer token of
 * the management scope), then follows the deployment until it is complete.
 * The platform stores the zip in the app's deployment container and syncs
 * the triggers itself. Kudu's status codes: 4 = success, 3 = failed.
 */
export async function publishFlexPackage(
  c: AzureClients,
  publishUrl: string,
  zipPath: string,
  opts: { timeoutMs: number; pollMs: number; what: string },
): Promise<void> {
  const { readFile } = await import('node:fs/promises')
  const zip = await readFile(zipPath)
  const url = `${publishUrl}?RemoteBuild=false`
  const res = await c.request<{ status?: number; complete?: boolean; status_text?: string; Message?: string } | string>(url, managementScopeOf(c), {
    method: 'POST',
    rawBody: zip,
    contentType: 'application/zip',
    signal: AbortSignal.timeout(Math.max(60_000, opts.timeoutMs)),
  })
  if (res.status === 413) {
    throw new ProviderError(
      'azure',
      'DEPLOY_FAILED',
      `${opts.what}: the package ${zipPath} (${(zip.length / 1e6).toFixed(1)} MB) is larger than the deployment endpoint accepts (HTTP 413). ` +
        'Make it smaller: fewer or lighter dependencies in requirements.txt / package.json, or a smaller input size.',
    )
  }
  if (res.status !== 200 && res.status !== 202) {
    const text = typeof res.body === 'string' ? res.body : JSON.stringify(res.body ?? null)
    throw new ProviderError('azure', 'DEPLOY_FAILED', `${opts.what}: the deployment endpoint ${publishUrl} answered HTTP ${res.status}: ${text.slice(0, 300)}`)
  }
  const statusUrl = res.location ?? `${publishUrl.replace(/\/publish$/, '')}/deployments/latest`
  const deadline = Date.now() + opts.timeoutMs
  let last = 'no status yet'
  for (;;) {
    const st = await c.request<{ status?: number; complete?: boolean; status_text?: string }>(statusUrl, managementScopeOf(c), { method: 'GET' })
    if (st.status === 200 && st.body && typeof st.body === 'object') {
      if (st.body.status === 4 || (st.body.complete && st.body.status !== 3)) return
      if (st.body.status === 3) {
        throw new ProviderError('azure', 'DEPLOY_FAILED', `${opts.what}: the deployment failed: ${st.body.status_text ?? 'no reason given'}`)
      }
      last = `status ${st.body.status}${st.body.status_text ? ` (${st.body.status_text})` : ''}`
    } else {
      last = `HTTP ${st.status}`
    }
    if (Date.now() + opts.pollMs > deadline) {
      throw new ProviderError('azure', 'TIMEOUT', `${opts.what}: the deployment did not complete within ${Math.round(opts.timeoutMs / 1000)} s (last: ${last}).`)
    }
    await delay(opts.pollMs)
  }
}

function managementScopeOf(c: AzureClients): string {
  return c.managementScope
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
    if (!isWrapperEnvelope(parsed)) return { state: 'error', error: `The function answered without a wrapper envelope: ${body.slice(0, 300)}`, clientTimeUs }
    return envelopeResult(parsed, clientTimeUs)
  }
  if ([500, 502, 503, 504].includes(status) && clientTimeUs >= timeoutSeconds * 1e6 * 0.95) {
    return { state: 'timeout', error: `Azure Functions timeout: the function ran past its ${timeoutSeconds} s limit (HTTP ${status})`, clientTimeUs }
  }
  let envelope: WrapperEnvelope | undefined
  try {
    const parsed = JSON.parse(body) as unknown
    if (isWrapperEnvelope(parsed)) envelope = parsed
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
    const result = interpretResponse(status, text, clientTimeUs, timeoutS)
    // Flex: every record says which instance size the SeBS memory setting ran on.
    if (this.data.instanceMemoryMb !== undefined) result.providerMemoryMb = this.data.instanceMemoryMb
    return result
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
    await this.renewPackageSas(settings)
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

  /**
   * A Consumption app runs its package from a SAS URL that every cold start
   * fetches: one that expires within a day is replaced by a fresh one (same
   * blob, `packageSasDays` long) with the settings change being made anyway.
   */
  private async renewPackageSas(settings: Record<string, string>): Promise<void> {
    const url = settings.WEBSITE_RUN_FROM_PACKAGE
    const expiry = sasExpiry(url)
    if (!url || !expiry || expiry.getTime() - Date.now() > DAY_MS) return
    const connectionString = this.ctx.blobConnectionString ?? settings.AzureWebJobsStorage
    if (!connectionString) return
    const blob = decodeURIComponent(new URL(url).pathname.split('/').pop() ?? '')
    try {
      settings.WEBSITE_RUN_FROM_PACKAGE = await packageSasUrl(connectionString, blob, this.data.packageSasDays ?? 2)
      this.ctx.logger.debug(`${this.handle.name}: renewed the package SAS URL (it expired ${expiry.toISOString()})`)
    } catch (err) {
      this.ctx.logger.warn(`${this.handle.name}: could not renew the package SAS URL expiring ${expiry.toISOString()}: ${errorMessage(err)}`)
    }
  }

  forceColdStart(): Promise<void> {
    return this.changeSettings(() => {}, `forceColdStart of ${this.handle.name}`)
  }

  async update(options: { memory?: number; timeout?: number; env?: Record<string, string> }): Promise<void> {
    checkTimeout(options.timeout)
    if (options.memory !== undefined && options.memory !== this.handle.memory && this.data.plan === 'flex') {
      // The instance size is part of the app's functionAppConfig, fixed at creation here.
      const now = this.data.instanceMemoryMb
      if (flexInstanceMemory(options.memory) !== now) {
        this.ctx.logger.warn(
          `${this.handle.name}: memory=${options.memory} MB would need a ${flexInstanceMemory(options.memory)} MB Flex instance; the app keeps its ${now} MB instances (deploy again to change the size). Records carry providerMemoryMb=${now}.`,
        )
      }
    } else if (options.memory !== undefined && options.memory !== this.handle.memory) {
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
    if (this.data.plan === 'flex') {
      // Flex: publish the (padded) zip through the deployment endpoint, then restart on new instances.
      const publish = async (zip: { path: string; sizeBytes: number }): Promise<CodeUpdateResult> => {
        const c = await this.ctx.clients()
        await publishFlexPackage(c, this.data.publishUrl!, zip.path, { timeoutMs: this.data.deployTimeoutMs, pollMs: this.ctx.timings.probeMs, what })
        await this.changeSettings(() => {}, what)
        this.ctx.logger.debug(`${this.handle.name}: runs a ${zip.sizeBytes}-byte package (${bytes} bytes of padding)`)
        return { paddingBytes: bytes, packageSizeBytes: zip.sizeBytes }
      }
      if (bytes > 0) return withPaddedZip(packagePath, bytes, this.ctx.paddingTmpDir, publish)
      return publish({ path: packagePath, sizeBytes: this.data.packageSizeBytes ?? (await stat(packagePath)).size })
    }
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
                settings.WEBSITE_RUN_FROM_PACKAGE = await uploadPackage(connectionString, blob, zip.path, this.data.packageSasDays ?? 2)
                uploaded = true
              } else {
                settings.WEBSITE_RUN_FROM_PACKAGE = await packageSasUrl(connectionString, packageBlob, this.data.packageSasDays ?? 2)
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
   * Billing inputs (and, with Application Insights, the platform's request
   * durations) for this function's records: `billedTimeMs` by the plan's
   * rule, `memoryUsedMb` observed (the worker's peak RSS), and on Flex the
   * instance memory the app runs on as `providerMemoryMb`. The dollar figure
   * is left to the one price table (analysis/cost.ts, rows
   * `azure-consumption` and `azure-flex`). Records of other functions pass
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
      // Time is billed in whole ms, with a per-plan minimum.
      out.billedTimeMs = Math.max(MIN_BILLED_MS[this.data.plan ?? 'consumption'], Math.ceil(durationMs))
      // Observed memory: the worker's peak RSS (the whole worker process, the closest the function can see).
      if (r.rssPeakKb !== undefined) out.memoryUsedMb = Math.ceil(r.rssPeakKb / 1024)
      if (this.data.instanceMemoryMb !== undefined) out.providerMemoryMb = this.data.instanceMemoryMb
      return out
    })
  }

  async delete(): Promise<void> {
    // A padded blob behind a configured endpoint outlives the resource group.
    if (this.padded) await this.removePackageBlob(this.padded.connectionString, this.padded.blob)
    this.padded = undefined
    // So does a Flex deployment container in a configured blob endpoint (Azurite, a shared account).
    if (this.data.plan === 'flex' && this.ctx.blobConnectionString) {
      const container = deploymentContainerName(this.data.appName)
      try {
        await BlobServiceClient.fromConnectionString(this.ctx.blobConnectionString).getContainerClient(container).deleteIfExists()
      } catch (err) {
        this.ctx.logger.warn(`${this.handle.name}: could not delete the deployment container ${container}: ${errorMessage(err)}`)
      }
    }
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
  const flex = o.plan === 'flex'
  const language: Language = pkg.language
  const appName = functionAppName(o.resourceGroupPrefix, options.runId, ctx.subscriptionId, pkg.benchmark, language)
  const resourceGroup = functionResourceGroup(o.resourceGroupPrefix, options.runId, appName)
  const account = functionStorageAccount(appName)
  const plan = planName(appName)
  const tags = sebsTags(options.runId, { [TAG_KIND]: 'function', [TAG_BENCHMARK]: pkg.benchmark })
  const version = runtimeVersionFor(o, language)
  const instanceMemoryMb = flex ? flexInstanceMemory(options.memory) : undefined
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
    const packageStorage = o.endpoints.blobConnectionString ?? webJobsStorage
    const blobName = packageBlobName(pkg.benchmark, language, pkg.hash)

    // Flex: the container the platform deploys from. Consumption: the zip,
    // uploaded and run from a read-only SAS URL.
    let deploymentContainerUrl: string | undefined
    let packageUrl: string | undefined
    if (flex) {
      const containerName = deploymentContainerName(appName)
      try {
        const container = BlobServiceClient.fromConnectionString(packageStorage).getContainerClient(containerName)
        await container.createIfNotExists()
        deploymentContainerUrl = container.url
      } catch (err) {
        throw stepError(`Creating the deployment container ${containerName} in storage account ${describeConnectionString(packageStorage).accountName}`, err)
      }
    } else {
      try {
        packageUrl = await uploadPackage(packageStorage, blobName, pkg.path, o.packageSasDays)
      } catch (err) {
        throw stepError(`Uploading the package ${blobName} to storage account ${describeConnectionString(packageStorage).accountName}`, err)
      }
    }

    let serverFarmId: string
    try {
      const farm = await c.web.appServicePlans.createOrUpdate(
        resourceGroup,
        plan,
        {
          location: o.region,
          kind: 'functionapp',
          reserved: true,
          sku: flex ? { name: 'FC1', tier: 'FlexConsumption' } : { name: 'Y1', tier: 'Dynamic' },
          tags,
        },
        poll,
      )
      if (!farm.id) throw new Error('the plan has no id')
      serverFarmId = farm.id
    } catch (err) {
      throw stepError(`Creating ${flex ? 'Flex Consumption' : 'Consumption'} plan ${plan}`, err)
    }

    let appInsights: { appId: string; connectionString: string } | undefined
    if (o.appInsights) appInsights = await createAppInsights(c, { ...ctx, resourceGroup, appName, tags, poll })

    const settings: Record<string, string> = {
      // Flex refuses the runtime settings: runtime and version live in functionAppConfig.
      ...(flex
        ? { DEPLOYMENT_STORAGE_CONNECTION_STRING: packageStorage }
        : {
            FUNCTIONS_EXTENSION_VERSION: '~4',
            FUNCTIONS_WORKER_RUNTIME: workerRuntime(language),
            WEBSITE_RUN_FROM_PACKAGE: packageUrl!,
            // The package is built already: no remote build on deployment.
            SCM_DO_BUILD_DURING_DEPLOYMENT: 'false',
            ENABLE_ORYX_BUILD: 'false',
          }),
      AzureWebJobsStorage: webJobsStorage,
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
          ...(flex
            ? {
                functionAppConfig: {
                  deployment: {
                    storage: {
                      type: 'blobContainer',
                      value: deploymentContainerUrl,
                      authentication: { type: 'StorageAccountConnectionString', storageAccountConnectionStringName: 'DEPLOYMENT_STORAGE_CONNECTION_STRING' },
                    },
                  },
                  runtime: { name: workerRuntime(language), version },
                  scaleAndConcurrency: { maximumInstanceCount: 100, instanceMemoryMB: instanceMemoryMb },
                },
              }
            : {}),
          siteConfig: {
            ...(flex ? {} : { linuxFxVersion: linuxFxVersion(language, version) }),
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

    const publishUrl = flex ? `${o.endpoints.scm ? o.endpoints.scm.replace('{app}', appName) : `https://${appName}.scm.azurewebsites.net`}/api/publish` : undefined
    if (flex) {
      await publishFlexPackage(c, publishUrl!, pkg.path, {
        timeoutMs: Math.max(10_000, o.deployTimeoutMs - (Date.now() - started)),
        pollMs: ctx.timings.probeMs,
        what: `Publishing ${pkg.benchmark} (${language}) to ${appName}`,
      })
    } else {
      await syncTriggers(c, resourceGroup, appName, Math.min(o.deployTimeoutMs, 120_000), ctx.timings.probeMs)
    }

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
      plan: o.plan,
      ...(instanceMemoryMb !== undefined ? { instanceMemoryMb } : {}),
      ...(publishUrl ? { publishUrl } : {}),
      packageBlob: blobName,
      packagePath: pkg.path,
      packageSizeBytes: pkg.sizeBytes,
      packageSasDays: o.packageSasDays,
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
    if (flex && instanceMemoryMb !== options.memory) {
      log.info(`${pkg.benchmark} (${language}): memory=${options.memory} MB runs on a ${instanceMemoryMb} MB Flex Consumption instance (sizes: 512, 2048, 4096); records carry providerMemoryMb=${instanceMemoryMb}.`)
    }
    if (!flex && options.memory > LIMITS.memoryMb) {
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

/** Log Analytics API version (workspaces) and Application Insights API version (components). */
const WORKSPACE_API = '2022-10-01'
const COMPONENT_API = '2020-02-02'

/**
 * A Log Analytics workspace (tagged like the rest of the group) and a
 * workspace-based Application Insights component on it: classic components
 * (no workspace) were retired on 2024-02-29 and some regions refuse them.
 */
async function createAppInsights(
  c: AzureClients,
  p: { subscriptionId: string; options: AzureOptions; resourceGroup: string; appName: string; tags: Record<string, string>; poll: { updateIntervalInMs: number } },
): Promise<{ appId: string; connectionString: string }> {
  const groupId = `/subscriptions/${p.subscriptionId}/resourceGroups/${p.resourceGroup}`
  const workspaceId = `${groupId}/providers/Microsoft.OperationalInsights/workspaces/${logWorkspaceName(p.appName)}`
  let workspaceArmId: string
  try {
    const ws = await c.resources.resources.beginCreateOrUpdateByIdAndWait(
      // The SDK's URL template is '/{resourceId}': without the leading slash the path has none doubled.
      workspaceId.replace(/^\//, ''),
      WORKSPACE_API,
      // Pay-as-you-go, shortest retention that is free of charge.
      { location: p.options.region, tags: p.tags, properties: { sku: { name: 'PerGB2018' }, retentionInDays: 30 } },
      p.poll,
    )
    workspaceArmId = ws.id ?? workspaceId
  } catch (err) {
    throw stepError(`Creating Log Analytics workspace ${logWorkspaceName(p.appName)}`, err)
  }
  const id = `${groupId}/providers/Microsoft.Insights/components/${appInsightsName(p.appName)}`
  try {
    const component = await c.resources.resources.beginCreateOrUpdateByIdAndWait(
      id.replace(/^\//, ''),
      COMPONENT_API,
      {
        location: p.options.region,
        kind: 'web',
        tags: p.tags,
        properties: { Application_Type: 'web', IngestionMode: 'LogAnalytics', WorkspaceResourceId: workspaceArmId },
      },
      p.poll,
    )
    const props = (component.properties ?? {}) as { AppId?: string; ConnectionString?: string }
    if (!props.AppId || !props.ConnectionString) throw new Error('the component has no AppId or ConnectionString')
    return { appId: props.AppId, connectionString: props.ConnectionString }
  } catch (err) {
    throw stepError(`Creating Application Insights component ${appInsightsName(p.appName)}`, err)
  }
}
