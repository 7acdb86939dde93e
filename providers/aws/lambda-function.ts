/**
 * Deploying a code package as a Lambda function, and the live function
 * (`DeployedLambda`) on either side of the process boundary: invoke through
 * the SDK (`library`, REPORT line inline) or the Function URL (`http`),
 * force cold starts, update, read provider metrics, delete.
 *
 * The handle that reaches bench workers holds names, ARNs, the region and
 * endpoints only; the worker builds its own clients from the credential chain.
 */
import { createHash, randomBytes } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { Agent as HttpAgent, request as httpRequest } from 'node:http'
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https'
import { DeleteLogGroupCommand } from '@aws-sdk/client-cloudwatch-logs'
import { DeleteObjectCommand } from '@aws-sdk/client-s3'
import {
  AddPermissionCommand,
  CreateFunctionCommand,
  CreateFunctionUrlConfigCommand,
  DeleteFunctionCommand,
  DeleteFunctionUrlConfigCommand,
  type FunctionCode,
  type FunctionConfiguration,
  GetFunctionConfigurationCommand,
  GetFunctionUrlConfigCommand,
  InvokeCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
  type UpdateFunctionConfigurationRequest,
} from '@aws-sdk/client-lambda'
import { Upload } from '@aws-sdk/lib-storage'
import { isWrapperEnvelope } from '../../core/envelope.ts'
import { ProviderError, errorMessage } from '../../core/errors.ts'
import type { Logger } from '../../core/logger.ts'
import type { Architecture, InvocationRecord, WrapperEnvelope } from '../../core/types.ts'
import { checkPaddingBytes, withPaddedZip } from '../packaging/code-padding.ts'
import type {
  CodePackage,
  CodeUpdateResult,
  DeployOptions,
  DeployedFunction,
  FunctionHandle,
  InvokeOptions,
  InvokeResult,
  ProviderTimes,
} from '../types.ts'
import type { AwsClients, AwsEndpoints } from './clients.ts'
import { fillFromLogs } from './metrics.ts'
import { functionName as makeFunctionName, logGroupName, sebsTags, TAG_BENCHMARK } from './naming.ts'
import { decodeLogResult, findReportLine, reportToProviderTimes } from './report-line.ts'
import { packagedModules } from '../packaging/packaged-modules.ts'
import { checkRuntime, creatableRuntimes } from './runtimes.ts'
import {
  defaultRetryable,
  errorName,
  isConflict,
  isNotFound,
  isRolePropagation,
  isThrottle,
  sleep,
  waitForFunctionReady,
  withRetry,
} from './retry.ts'

/** Plain data in `FunctionHandle.data` for AWS functions. No credentials, ever. */
export interface AwsFunctionData {
  [key: string]: unknown
  functionName: string
  functionArn: string
  region: string
  endpoints: AwsEndpoints
  runtime: string
  arch: Architecture
  functionUrl?: string
  deployTimeoutMs: number
  metricsTimeoutMs: number
  /** The deployed zip on this machine, its content hash and size: what `updateCode` pads and restores. */
  packagePath?: string
  packageHash?: string
  packageSizeBytes?: number
}

/** Timing knobs; tests shrink them, production keeps the defaults. */
export interface LambdaTimings {
  /** GetFunctionConfiguration polling while Pending/InProgress. */
  pollMs: number
  /** Logs Insights GetQueryResults polling. */
  metricsPollMs: number
  /** Between Insights queries while REPORT lines are missing. */
  metricsRequeryMs: number
  /** First backoff step of retries. */
  retryBaseMs: number
  /** How long a throttled invoke or a fresh Function URL (403) is retried. */
  invokeRetryMs: number
}

export const DEFAULT_TIMINGS: LambdaTimings = {
  pollMs: 1000,
  metricsPollMs: 1000,
  metricsRequeryMs: 5000,
  retryBaseMs: 500,
  invokeRetryMs: 60_000,
}

/** Lambda's limits that a request would otherwise fail on. */
export const LIMITS = { memoryMin: 128, memoryMax: 10240, timeoutMin: 1, timeoutMax: 900, envBytes: 4096, payloadBytes: 6 * 1024 * 1024 }

export const LAMBDA_HANDLER = 'handler.handler'
export const COLD_START_VAR = 'SEBS_COLD_START'
/** Statement ids of the two public permissions a NONE-auth Function URL needs. */
export const URL_PERMISSION_IDS = { url: 'sebs-function-url-public', invoke: 'sebs-function-url-invoke' }

export function lambdaArchitecture(arch: Architecture): 'x86_64' | 'arm64' {
  return arch === 'arm64' ? 'arm64' : 'x86_64'
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

function envelopeResult(envelope: WrapperEnvelope, clientTimeUs: number, times: ProviderTimes): InvokeResult {
  if (envelope.error) {
    return { state: 'error', error: `${envelope.error.type}: ${envelope.error.message}`, envelope, clientTimeUs, ...times }
  }
  return { state: 'ok', envelope, clientTimeUs, ...times }
}

/**
 * Turns an InvokeCommand response into an InvokeResult: `FunctionError` with
 * a timeout message or `Status: timeout` → 'timeout'; other function errors
 * (crash, out of memory) → 'error'; a wrapper envelope with `error` (the
 * benchmark threw) → 'error' with the envelope; else 'ok'. Provider times
 * come from the REPORT line of the log tail.
 */
export function interpretInvokeResponse(
  res: { StatusCode?: number; FunctionError?: string; Payload?: Uint8Array; LogResult?: string },
  clientTimeUs: number,
): InvokeResult {
  const report = findReportLine(decodeLogResult(res.LogResult))
  const times: ProviderTimes = { memoryEnforced: true, ...(report ? reportToProviderTimes(report) : {}) }
  const text = res.Payload ? Buffer.from(res.Payload).toString('utf8') : ''
  if (res.FunctionError) {
    const err = parseJson(text) as { errorType?: string; errorMessage?: string } | undefined
    const message = err?.errorMessage ?? (text || res.FunctionError)
    const type = report?.errorType ?? err?.errorType ?? res.FunctionError
    if (report?.status === 'timeout' || type === 'Sandbox.Timedout' || /Task timed out after/i.test(message)) {
      return { state: 'timeout', error: `Lambda timeout: ${message}`, clientTimeUs, ...times }
    }
    return { state: 'error', error: `${type}: ${message}`, clientTimeUs, ...times }
  }
  if (res.StatusCode !== undefined && (res.StatusCode < 200 || res.StatusCode >= 300)) {
    return { state: 'error', error: `Lambda answered status ${res.StatusCode}: ${text.slice(0, 500)}`, clientTimeUs, ...times }
  }
  const parsed = parseJson(text)
  if (!isWrapperEnvelope(parsed)) {
    return {
      state: 'error',
      error: `The function returned no wrapper envelope (is handler.handler the sebs wrapper?): ${text.slice(0, 500)}`,
      clientTimeUs,
      ...times,
    }
  }
  return envelopeResult(parsed, clientTimeUs, times)
}

/**
 * Turns a Function URL response into an InvokeResult. A Function URL answers
 * 502 when the function failed or timed out (no REPORT line reaches the
 * client): it is a timeout when the round trip reached the configured timeout.
 */
export function interpretHttpResponse(
  status: number,
  body: string,
  clientTimeUs: number,
  timeoutSeconds: number,
): InvokeResult {
  const times: ProviderTimes = { memoryEnforced: true }
  if (status === 200) {
    const parsed = parseJson(body)
    if (!isWrapperEnvelope(parsed)) {
      return { state: 'error', error: `The Function URL returned no wrapper envelope: ${body.slice(0, 500)}`, clientTimeUs, ...times }
    }
    return envelopeResult(parsed, clientTimeUs, times)
  }
  if ((status === 502 || status === 504) && clientTimeUs >= timeoutSeconds * 1e6 * 0.95) {
    return { state: 'timeout', error: `Lambda timeout: no result within the function's ${timeoutSeconds} s (HTTP ${status})`, clientTimeUs, ...times }
  }
  return { state: 'error', error: `HTTP ${status} from the Function URL: ${body.slice(0, 500)}`, clientTimeUs, ...times }
}

/**
 * POSTs JSON with node:http(s) rather than fetch: fetch (undici) gives up
 * waiting for response headers after 300 s, while a function may run for
 * 900 s; and a socket of our own tells the connection setup time
 * (`connectTimeUs`, TCP + TLS), which is undefined when a kept-alive
 * connection was reused.
 */
export function postJson(
  url: string,
  body: Buffer,
  timeoutMs: number,
  agents: { http: HttpAgent; https: HttpsAgent },
): Promise<{ status: number; text: string; connectTimeUs?: number }> {
  const target = new URL(url)
  const secure = target.protocol === 'https:'
  const request = secure ? httpsRequest : httpRequest
  return new Promise((resolvePost, rejectPost) => {
    const t0 = performance.now()
    let connectTimeUs: number | undefined
    const req = request(
      target,
      {
        method: 'POST',
        agent: secure ? agents.https : agents.http,
        headers: { 'content-type': 'application/json', 'content-length': String(body.length) },
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => resolvePost({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), connectTimeUs }))
        res.on('error', rejectPost)
      },
    )
    req.on('socket', (socket) => {
      if (!socket.connecting) return // reused keep-alive connection
      socket.once(secure ? 'secureConnect' : 'connect', () => {
        connectTimeUs = Math.round((performance.now() - t0) * 1000)
      })
    })
    req.setTimeout(timeoutMs, () => {
      const err = new Error(`no response within ${timeoutMs} ms`)
      err.name = 'TimeoutError'
      req.destroy(err)
    })
    req.on('error', rejectPost)
    req.end(body)
  })
}

function envSize(vars: Record<string, string>): number {
  return Object.entries(vars).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0)
}

/** What sending code to Lambda needs besides the clients. */
export interface CodeUploadDeps {
  /** Zips up to this size go inline (ZipFile); bigger ones through S3. */
  directUploadLimit: number
  /** The bucket for zips over the direct-upload limit (created on first use). */
  codeBucket(): Promise<string>
  /** Where padded zips are written while they are sent (code-size sweeps); removed right after. */
  paddingTmpDir: string
}

export interface LambdaContext {
  clients: AwsClients
  logger: Logger
  timings: LambdaTimings
  /** Needed by `updateCode` only. */
  code?: CodeUploadDeps
}

/** A deployed Lambda function; built by `deployLambda` (main process) or from a handle (worker). */
export class DeployedLambda implements DeployedFunction {
  readonly handle: FunctionHandle
  private readonly data: AwsFunctionData
  private readonly ctx: LambdaContext
  /** Until one HTTP invocation got through, a 403 may be a fresh URL's permissions still propagating. */
  private urlConfirmed = false
  /** Keep-alive connections to the Function URL, reused by warm invocations. */
  private readonly agents = { http: new HttpAgent({ keepAlive: true, maxSockets: 64 }), https: new HttpsAgent({ keepAlive: true, maxSockets: 64 }) }

  constructor(handle: FunctionHandle, ctx: LambdaContext) {
    this.handle = handle
    this.data = handle.data as AwsFunctionData
    this.ctx = ctx
  }

  private get name(): string {
    return this.data.functionName
  }

  async invoke(payload: Record<string, unknown>, options: InvokeOptions = {}): Promise<InvokeResult> {
    const body = Buffer.from(JSON.stringify(payload))
    if (body.length > LIMITS.payloadBytes) {
      return { state: 'error', error: `Payload of ${body.length} bytes exceeds Lambda's 6 MB limit for synchronous invocations.`, clientTimeUs: 0 }
    }
    const trigger = options.trigger ?? this.handle.trigger
    return trigger === 'http' ? this.invokeHttp(body) : this.invokeLibrary(body)
  }

  private async invokeLibrary(body: Buffer): Promise<InvokeResult> {
    const started = Date.now()
    for (let attempt = 0; ; attempt++) {
      const t0 = performance.now()
      try {
        const res = await this.ctx.clients.invoke.send(
          new InvokeCommand({ FunctionName: this.name, InvocationType: 'RequestResponse', LogType: 'Tail', Payload: body }),
        )
        const clientTimeUs = Math.round((performance.now() - t0) * 1000)
        return interpretInvokeResponse(res, clientTimeUs)
      } catch (err) {
        const clientTimeUs = Math.round((performance.now() - t0) * 1000)
        // A throttled or not-yet-ready function never ran: wait and try again,
        // so the recorded attempt is one that did run.
        if ((isThrottle(err) || isConflict(err)) && Date.now() - started < this.ctx.timings.invokeRetryMs) {
          const delay = Math.min(10_000, this.ctx.timings.retryBaseMs * 2 ** attempt)
          this.ctx.logger.debug(`${this.name}: invoke ${errorName(err)}, retry in ${delay} ms`)
          await sleep(delay)
          continue
        }
        return { state: 'error', error: `Invoke of ${this.name} failed: ${errorName(err)}: ${errorMessage(err)}`, clientTimeUs }
      }
    }
  }

  private async invokeHttp(body: Buffer): Promise<InvokeResult> {
    const url = this.data.functionUrl ?? (await this.ensureUrl())
    const timeoutS = this.handle.timeout
    const started = Date.now()
    for (let attempt = 0; ; attempt++) {
      const t0 = performance.now()
      let status: number
      let text: string
      let connectTimeUs: number | undefined
      try {
        // The function's own timeout ends it first; this only guards a hung connection.
        ;({ status, text, connectTimeUs } = await postJson(url, body, timeoutS * 1000 + 30_000, this.agents))
      } catch (err) {
        const clientTimeUs = Math.round((performance.now() - t0) * 1000)
        if (errorName(err) === 'TimeoutError') {
          return { state: 'timeout', error: `Client timeout: no answer from the Function URL within ${timeoutS + 30} s`, clientTimeUs }
        }
        return { state: 'error', error: `Function URL request failed: ${errorMessage(err)}`, clientTimeUs }
      }
      const clientTimeUs = Math.round((performance.now() - t0) * 1000)
      // 429: throttled, the function did not run. 403 before any request got
      // through: a new URL's public permissions take a few seconds to apply.
      const retry = status === 429 || (status === 403 && !this.urlConfirmed)
      if (retry && Date.now() - started < this.ctx.timings.invokeRetryMs) {
        const delay = Math.min(10_000, this.ctx.timings.retryBaseMs * 2 ** attempt)
        this.ctx.logger.debug(`${this.name}: Function URL answered ${status}, retry in ${delay} ms`)
        await sleep(delay)
        continue
      }
      if (status !== 403) this.urlConfirmed = true
      const result = interpretHttpResponse(status, text, clientTimeUs, timeoutS)
      return connectTimeUs === undefined ? result : { ...result, connectTimeUs }
    }
  }

  /** The Function URL (AuthType NONE) with its two public permissions; created on first need. */
  async ensureUrl(): Promise<string> {
    const lambda = this.ctx.clients.lambda
    let url: string | undefined
    try {
      url = (await lambda.send(new GetFunctionUrlConfigCommand({ FunctionName: this.name }))).FunctionUrl
    } catch (err) {
      if (!isNotFound(err)) throw this.fail('read the Function URL of', err)
    }
    if (!url) {
      const created = await this.retry('create the Function URL of', () =>
        lambda.send(new CreateFunctionUrlConfigCommand({ FunctionName: this.name, AuthType: 'NONE', InvokeMode: 'BUFFERED' })),
      )
      url = created.FunctionUrl
      this.ctx.logger.debug(`${this.name}: created Function URL ${url}`)
    }
    if (!url) throw new ProviderError('aws', 'DEPLOY_FAILED', `Lambda returned no Function URL for ${this.name}.`)
    // Since October 2025 a public Function URL needs both permissions.
    await this.addPermission({
      StatementId: URL_PERMISSION_IDS.url,
      Action: 'lambda:InvokeFunctionUrl',
      Principal: '*',
      FunctionUrlAuthType: 'NONE',
    })
    await this.addPermission({
      StatementId: URL_PERMISSION_IDS.invoke,
      Action: 'lambda:InvokeFunction',
      Principal: '*',
      InvokedViaFunctionUrl: true,
    })
    this.data.functionUrl = url
    return url
  }

  private async addPermission(input: Omit<ConstructorParameters<typeof AddPermissionCommand>[0], 'FunctionName'>): Promise<void> {
    try {
      await this.retry('add a Function URL permission to', () =>
        this.ctx.clients.lambda.send(new AddPermissionCommand({ FunctionName: this.name, ...input })),
        // "The statement id (…) provided already exists": done before, keep it.
        (err) => defaultRetryable(err) && !/already exists/i.test(errorMessage(err)),
      )
    } catch (err) {
      const cause = (err as { cause?: unknown }).cause ?? err
      if (isConflict(cause) && /already exists/i.test(errorMessage(cause))) return
      throw err
    }
  }

  async forceColdStart(): Promise<void> {
    // Any configuration change retires the function's execution environments;
    // a counter in the environment is the change SeBS makes. RevisionId keeps
    // two workers from overwriting each other's change.
    await this.retry(
      'force a cold start of',
      async () => {
        const cfg = await this.configuration()
        const vars = { ...(cfg.Environment?.Variables ?? {}) }
        vars[COLD_START_VAR] = String((Number.parseInt(vars[COLD_START_VAR] ?? '0', 10) || 0) + 1)
        await this.ctx.clients.lambda.send(
          new UpdateFunctionConfigurationCommand({ FunctionName: this.name, Environment: { Variables: vars }, RevisionId: cfg.RevisionId }),
        )
      },
      (err) => defaultRetryable(err) || errorName(err) === 'PreconditionFailedException',
    )
    await this.waitReady()
  }

  async update(options: { memory?: number; timeout?: number; env?: Record<string, string> }): Promise<void> {
    checkLimits(options.memory, options.timeout)
    const input: UpdateFunctionConfigurationRequest = { FunctionName: this.name }
    if (options.memory !== undefined) input.MemorySize = options.memory
    if (options.timeout !== undefined) input.Timeout = options.timeout
    await this.retry(
      'update',
      async () => {
        const request = { ...input }
        if (options.env) {
          const cfg = await this.configuration()
          const vars = { ...(cfg.Environment?.Variables ?? {}), ...options.env }
          checkEnv(vars, this.name)
          request.Environment = { Variables: vars }
          request.RevisionId = cfg.RevisionId
        }
        await this.ctx.clients.lambda.send(new UpdateFunctionConfigurationCommand(request))
      },
      (err) => defaultRetryable(err) || errorName(err) === 'PreconditionFailedException',
    )
    await this.waitReady()
    if (options.memory !== undefined) this.handle.memory = options.memory
    if (options.timeout !== undefined) this.handle.timeout = options.timeout
  }

  /**
   * UpdateFunctionCode with the deployed zip plus `sebs-padding.bin` of
   * `paddingBytes` random bytes (0: the deployed zip itself), inline or
   * through the code bucket as at deploy, then waits until the update is
   * Successful. New code means new execution environments, so the next
   * invocation is cold; when the code did not change (restoring what already
   * runs) a cold start is forced. A padded zip uploaded to S3 is deleted once
   * Lambda has its copy.
   */
  async updateCode(options: { paddingBytes: number }): Promise<CodeUpdateResult> {
    const bytes = options.paddingBytes
    checkPaddingBytes('aws', bytes)
    const code = this.ctx.code
    const { packagePath, packageHash } = this.data
    if (!code || !packagePath || !packageHash) {
      throw new ProviderError(
        'aws',
        'NOT_SUPPORTED',
        `Cannot change the code package of ${this.name}: ${!code ? 'this connection has no code upload settings' : 'its handle names no package (deployed by an older version)'}. Deploy it again with this version to run code-package-size sweeps.`,
      )
    }
    const base = `sebs-code/${this.handle.benchmark}/${this.handle.language}-${this.data.arch}/${packageHash}`
    if (bytes === 0) return this.sendCode(packagePath, `${base}.zip`, 0, code, { keepObject: true })
    return withPaddedZip(packagePath, bytes, code.paddingTmpDir, (zip) =>
      this.sendCode(zip.path, `${base}-padding-${bytes}-${randomBytes(4).toString('hex')}.zip`, bytes, code, { keepObject: false }),
    )
  }

  private async sendCode(path: string, key: string, paddingBytes: number, code: CodeUploadDeps, opts: { keepObject: boolean }): Promise<CodeUpdateResult> {
    let zip: Buffer
    try {
      zip = await readFile(path)
    } catch (err) {
      throw new ProviderError('aws', 'DEPLOY_FAILED', `Cannot read the code package ${path} of ${this.name}: ${errorMessage(err)}. Build it again.`, { cause: err })
    }
    const sha = createHash('sha256').update(zip).digest('base64')
    const what = paddingBytes > 0 ? `deploy a package padded with ${paddingBytes} bytes to` : 'restore the deployed package of'
    const before = await this.waitReady()
    const source = await uploadCode({ path, zip, key, what: `${this.handle.benchmark} (${this.handle.language})` }, { ...this.ctx, ...code })
    try {
      await this.retry(what, () =>
        this.ctx.clients.lambda.send(new UpdateFunctionCodeCommand({ FunctionName: this.name, ...source, Architectures: [lambdaArchitecture(this.data.arch)] })),
      ).catch((err) => {
        throw err instanceof ProviderError ? err : this.fail(what, err)
      })
      await this.waitReady()
    } finally {
      if (source.S3Bucket && source.S3Key && !opts.keepObject) {
        // Lambda copied the code at the update: the padded object is not needed any more.
        await this.ctx.clients.s3.send(new DeleteObjectCommand({ Bucket: source.S3Bucket, Key: source.S3Key })).catch((err: unknown) =>
          this.ctx.logger.warn(`could not delete s3://${source.S3Bucket}/${source.S3Key}: ${errorMessage(err)}; 'npx sebs cleanup --provider aws' empties the bucket`),
        )
      }
    }
    // Lambda keeps warm environments when the code is the one they run.
    if (before.CodeSha256 === sha) await this.forceColdStart()
    this.ctx.logger.debug(`${this.name}: code updated, ${zip.length} bytes (${paddingBytes} bytes of padding)`)
    return { paddingBytes, packageSizeBytes: zip.length }
  }

  async metrics(records: InvocationRecord[]): Promise<InvocationRecord[]> {
    return fillFromLogs(this.ctx.clients.logs, this.name, records, {
      timeoutMs: this.data.metricsTimeoutMs,
      pollMs: this.ctx.timings.metricsPollMs,
      requeryMs: this.ctx.timings.metricsRequeryMs,
      logger: this.ctx.logger,
    })
  }

  /** Removes the function, its Function URL and its log group; missing pieces are fine. */
  async delete(): Promise<void> {
    await deleteLambdaResources(this.ctx, this.name, this.data.deployTimeoutMs)
  }

  async close(): Promise<void> {
    this.agents.http.destroy()
    this.agents.https.destroy()
    this.ctx.clients.destroy()
  }

  private configuration(): Promise<FunctionConfiguration> {
    return this.ctx.clients.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: this.name }))
  }

  private waitReady(): Promise<FunctionConfiguration> {
    return waitForFunctionReady(this.ctx.clients.lambda, this.name, {
      timeoutMs: this.data.deployTimeoutMs,
      pollMs: this.ctx.timings.pollMs,
      logger: this.ctx.logger,
    })
  }

  private retry<T>(what: string, fn: () => Promise<T>, isRetryable?: (err: unknown) => boolean): Promise<T> {
    return withRetry(fn, {
      what: `${what} ${this.name}`,
      deadlineMs: this.data.deployTimeoutMs,
      baseDelayMs: this.ctx.timings.retryBaseMs,
      logger: this.ctx.logger,
      isRetryable,
    })
  }

  private fail(what: string, err: unknown): ProviderError {
    return new ProviderError('aws', 'DEPLOY_FAILED', `Could not ${what} ${this.name}: ${errorName(err)}: ${errorMessage(err)}`, {
      cause: err,
    })
  }
}

function checkLimits(memory: number | undefined, timeout: number | undefined): void {
  if (memory !== undefined && (!Number.isInteger(memory) || memory < LIMITS.memoryMin || memory > LIMITS.memoryMax)) {
    throw new ProviderError(
      'aws',
      'CONFIG_INVALID',
      `Lambda memory must be a whole number of MB from ${LIMITS.memoryMin} to ${LIMITS.memoryMax}, got ${memory}.`,
    )
  }
  if (timeout !== undefined && (!Number.isInteger(timeout) || timeout < LIMITS.timeoutMin || timeout > LIMITS.timeoutMax)) {
    throw new ProviderError(
      'aws',
      'CONFIG_INVALID',
      `Lambda timeout must be a whole number of seconds from ${LIMITS.timeoutMin} to ${LIMITS.timeoutMax}, got ${timeout}.`,
    )
  }
}

function checkEnv(vars: Record<string, string>, name: string): void {
  const size = envSize(vars)
  if (size > LIMITS.envBytes) {
    throw new ProviderError(
      'aws',
      'DEPLOY_FAILED',
      `The environment of ${name} would be ${size} bytes; Lambda allows ${LIMITS.envBytes} (keys: ${Object.keys(vars).join(', ')}).`,
    )
  }
}

/** Deletes a function with its URL and log group (used by delete() and sweep). */
export async function deleteLambdaResources(ctx: LambdaContext, name: string, deadlineMs: number): Promise<void> {
  const { lambda, logs } = ctx.clients
  try {
    await lambda.send(new DeleteFunctionUrlConfigCommand({ FunctionName: name }))
  } catch (err) {
    if (!isNotFound(err)) ctx.logger.debug(`${name}: DeleteFunctionUrlConfig: ${errorName(err)} ${errorMessage(err)}`)
  }
  try {
    await withRetry(() => lambda.send(new DeleteFunctionCommand({ FunctionName: name })), {
      what: `delete Lambda function ${name}`,
      deadlineMs,
      baseDelayMs: ctx.timings.retryBaseMs,
      logger: ctx.logger,
    })
  } catch (err) {
    const cause = (err as { cause?: unknown }).cause ?? err
    if (!isNotFound(err) && !isNotFound(cause)) {
      throw new ProviderError('aws', 'DEPLOY_FAILED', `Could not delete Lambda function ${name}: ${errorMessage(err)}. Run 'npx sebs cleanup --provider aws'.`, {
        cause: err,
      })
    }
  }
  try {
    await logs.send(new DeleteLogGroupCommand({ logGroupName: logGroupName(name) }))
  } catch (err) {
    if (!isNotFound(err)) ctx.logger.debug(`${logGroupName(name)}: DeleteLogGroup: ${errorName(err)} ${errorMessage(err)}`)
  }
}

export interface DeployDeps extends LambdaContext {
  runId: string
  region: string
  endpoints: AwsEndpoints
  runtime: string
  deployTimeoutMs: number
  metricsTimeoutMs: number
  /** The direct-upload limit and the bucket for packages over it. */
  code: CodeUploadDeps
  /**
   * The execution role, checked for what the package's modules use
   * (`storage` → S3, `nosql` → DynamoDB; logs always); `young` (created in
   * the last minutes) lengthens the retry of "cannot be assumed".
   */
  role(needs: ReadonlySet<'storage' | 'nosql'>): Promise<{ arn: string; created: boolean; young?: boolean }>
}

/**
 * Lambda's answer to a create or update as a message that says what to do,
 * for the refusals a first run meets: a runtime Lambda no longer accepts, an
 * architecture it does not know, memory above the account's limit (new
 * accounts are often capped at 3,008 MB). Undefined for anything else.
 */
export function explainLambdaRefusal(err: unknown, ctx: { runtime: string; language: 'python' | 'nodejs'; memory?: number; architecture?: string }): string | undefined {
  const name = errorName(err)
  const text = errorMessage(err)
  if (name !== 'InvalidParameterValueException' && name !== 'ValidationException') return undefined
  if (/runtime/i.test(text) && (/no longer supported|enum value set|runtime parameter/i.test(text))) {
    return (
      `Lambda refused runtime ${ctx.runtime} (${name}: ${text}). ` +
      `Set aws.runtime.${ctx.language} to a runtime Lambda accepts, e.g. ${creatableRuntimes(ctx.language).slice(0, 2).join(' or ')}.`
    )
  }
  const mem = /MemorySize.*(?:less than or equal to|between \d+ and) (\d+)/i.exec(text)
  if (mem) {
    const max = Number(mem[1])
    return (
      `Lambda refused memory=${ctx.memory} MB: this account allows at most ${max} MB per function` +
      (max < 10_240 ? ' (new accounts are often capped at 3,008 MB until their usage grows; AWS Support can raise it)' : '') +
      `. Use --memory of at most ${max}, or set the benchmark's memory lower. (${name}: ${text})`
    )
  }
  if (/architecture/i.test(text)) {
    return `Lambda refused architecture ${ctx.architecture} (${name}: ${text}). Use aws.arch 'x64' (x86_64) or 'arm64'.`
  }
  return undefined
}

async function existingConfiguration(deps: DeployDeps, name: string): Promise<FunctionConfiguration | undefined> {
  try {
    return await deps.clients.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: name }))
  } catch (err) {
    if (isNotFound(err)) return undefined
    throw err
  }
}

/**
 * The Code of a CreateFunction/UpdateFunctionCode request: the zip inline up
 * to the direct-upload limit, else uploaded to the code bucket under `key`.
 */
async function uploadCode(
  source: { path: string; zip: Buffer; key: string; what: string },
  deps: Pick<LambdaContext, 'clients' | 'logger'> & CodeUploadDeps,
): Promise<FunctionCode> {
  const { zip, key } = source
  if (zip.length <= deps.directUploadLimit) return { ZipFile: zip }
  // Over 50 MB, CreateFunction refuses inline code: upload to S3 and point at it.
  const bucket = await deps.codeBucket()
  deps.logger.info(`uploading ${source.what} package, ${(zip.length / 1e6).toFixed(1)} MB, to s3://${bucket}/${key}`)
  try {
    await new Upload({
      client: deps.clients.s3,
      params: { Bucket: bucket, Key: key, Body: createReadStream(source.path), ContentLength: zip.length },
    }).done()
  } catch (err) {
    throw new ProviderError('aws', 'DEPLOY_FAILED', `Could not upload the code package to s3://${bucket}/${key}: ${errorMessage(err)}`, {
      cause: err,
    })
  }
  return { S3Bucket: bucket, S3Key: key }
}

/**
 * Creates the function (or updates the one this run already created under
 * the same name) and waits until it is Active with its last update
 * Successful. A function created here is deleted again when a later step
 * fails, so a failed deploy leaves nothing behind.
 */
export async function deployLambda(pkg: CodePackage, options: DeployOptions, deps: DeployDeps): Promise<DeployedLambda> {
  if (pkg.kind !== 'zip') {
    throw new ProviderError('aws', 'DEPLOY_FAILED', `Lambda needs a zip package; ${pkg.path} is a ${pkg.kind}. Build it with the aws provider.`)
  }
  checkLimits(options.memory, options.timeout)
  const name = makeFunctionName(options.runId, pkg.benchmark, pkg.language, pkg.arch)
  // A package built earlier (cached) may name a runtime AWS has blocked since: refuse before any call.
  const runtimeCheck = checkRuntime(deps.runtime, pkg.language)
  if (runtimeCheck.warning) deps.logger.warn(runtimeCheck.warning)
  const vars = { ...options.env }
  checkEnv(vars, name)
  let zip: Buffer
  try {
    zip = await readFile(pkg.path)
  } catch (err) {
    throw new ProviderError('aws', 'DEPLOY_FAILED', `Cannot read the code package ${pkg.path}: ${errorMessage(err)}. Build it again.`, {
      cause: err,
    })
  }
  const sha = createHash('sha256').update(zip).digest('base64')
  const architecture = lambdaArchitecture(pkg.arch)
  const retryOpts = (what: string, deadlineMs = deps.deployTimeoutMs) => ({
    what: `${what} ${name}`,
    deadlineMs,
    baseDelayMs: deps.timings.retryBaseMs,
    logger: deps.logger,
  })
  const fail = (what: string, err: unknown): ProviderError => {
    if (err instanceof ProviderError) return err
    const cause = (err as { cause?: unknown }).cause ?? err
    const explained = explainLambdaRefusal(cause, { runtime: deps.runtime, language: pkg.language, memory: options.memory, architecture })
    return new ProviderError('aws', 'DEPLOY_FAILED', `Could not ${what} Lambda function ${name}: ${explained ?? `${errorName(cause)}: ${errorMessage(cause)}`}`, {
      cause: err,
    })
  }

  let created = false
  try {
    const existing = await existingConfiguration(deps, name)
    const code = await uploadCode(
      { path: pkg.path, zip, key: `sebs-code/${pkg.benchmark}/${pkg.language}-${pkg.arch}/${pkg.hash}.zip`, what: `${pkg.benchmark} (${pkg.language})` },
      { ...deps, ...deps.code },
    )
    if (!existing) {
      const role = await deps.role(await packagedModules(pkg.path))
      await withRetry(
        () =>
          deps.clients.lambda.send(
            new CreateFunctionCommand({
              FunctionName: name,
              Runtime: deps.runtime as never,
              Role: role.arn,
              Handler: LAMBDA_HANDLER,
              Code: code,
              PackageType: 'Zip',
              Architectures: [architecture],
              MemorySize: options.memory,
              Timeout: options.timeout,
              Environment: { Variables: vars },
              Description: `sebs ${pkg.benchmark} (${pkg.language}), run ${options.runId}`,
              Tags: sebsTags(options.runId, { [TAG_BENCHMARK]: pkg.benchmark }),
            }),
          ),
        {
          ...retryOpts('create'),
          // A role created moments ago (by this run or a failed one minutes
          // earlier) takes IAM some seconds to reach Lambda ("cannot be
          // assumed"); for an older role that error is final.
          isRetryable: (err) => defaultRetryable(err) || ((role.created || role.young === true) && isRolePropagation(err)),
        },
      ).catch((err) => {
        throw fail('create', err)
      })
      created = true
      deps.logger.debug(`created ${name}`)
    } else {
      // The same run deploys again (another memory size, a rebuilt package).
      await waitForFunctionReady(deps.clients.lambda, name, { timeoutMs: deps.deployTimeoutMs, pollMs: deps.timings.pollMs, logger: deps.logger })
      if (existing.CodeSha256 !== sha || existing.Architectures?.[0] !== architecture) {
        await withRetry(
          () => deps.clients.lambda.send(new UpdateFunctionCodeCommand({ FunctionName: name, ...code, Architectures: [architecture] })),
          retryOpts('update the code of'),
        ).catch((err) => {
          throw fail('update the code of', err)
        })
        await waitForFunctionReady(deps.clients.lambda, name, { timeoutMs: deps.deployTimeoutMs, pollMs: deps.timings.pollMs, logger: deps.logger })
      }
      await withRetry(
        () =>
          deps.clients.lambda.send(
            new UpdateFunctionConfigurationCommand({
              FunctionName: name,
              Runtime: deps.runtime as never,
              Handler: LAMBDA_HANDLER,
              MemorySize: options.memory,
              Timeout: options.timeout,
              Environment: { Variables: vars },
            }),
          ),
        retryOpts('update the configuration of'),
      ).catch((err) => {
        throw fail('update the configuration of', err)
      })
    }
    const cfg = await waitForFunctionReady(deps.clients.lambda, name, {
      timeoutMs: deps.deployTimeoutMs,
      pollMs: deps.timings.pollMs,
      logger: deps.logger,
    })
    const data: AwsFunctionData = {
      functionName: name,
      functionArn: cfg.FunctionArn ?? '',
      region: deps.region,
      endpoints: { ...deps.endpoints },
      runtime: deps.runtime,
      arch: pkg.arch,
      deployTimeoutMs: deps.deployTimeoutMs,
      metricsTimeoutMs: deps.metricsTimeoutMs,
      packagePath: pkg.path,
      packageHash: pkg.hash,
      packageSizeBytes: zip.length,
    }
    const handle: FunctionHandle = {
      provider: 'aws',
      name,
      benchmark: pkg.benchmark,
      language: pkg.language,
      memory: options.memory,
      timeout: options.timeout,
      trigger: options.trigger,
      runId: options.runId,
      data,
    }
    const fn = new DeployedLambda(handle, deps)
    if (options.trigger === 'http') await fn.ensureUrl()
    return fn
  } catch (err) {
    if (created) {
      deps.logger.debug(`deploy of ${name} failed; deleting the partial function`)
      await deleteLambdaResources(deps, name, deps.deployTimeoutMs).catch((cleanupErr) =>
        deps.logger.warn(`could not remove the partially deployed ${name}: ${errorMessage(cleanupErr)}`),
      )
    }
    throw fail('deploy', err)
  }
}
