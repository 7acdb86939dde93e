/**
 * The AWS provider against the fake control plane (testing/fake-aws.ts),
 * s3rver (S3) and dynalite (DynamoDB): what the conformance suite does not
 * look at — the exact requests sent to AWS, the library trigger with its
 * REPORT line, CloudWatch Logs metrics, retries on throttling and conflicts,
 * the IAM role, big packages through S3, worker handles, and sweeping.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { IAMServiceException } from '@aws-sdk/client-iam'
import { ResourceConflictException } from '@aws-sdk/client-lambda'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { createLogger, type Logger } from '../../core/logger.ts'
import type { BenchmarkDefinition, InvocationRecord } from '../../core/types.ts'
import { loadFixtureBenchmark } from '../../test/support/conformance/fixtures.ts'
import { type DynaliteServer, startDynalite } from '../storage/nosql/dynalite-server.ts'
import { type RunningS3rver, startS3rver } from '../storage/s3rver-server.ts'
import type { BuildContext, CodePackage, DeployedFunction, InvokeResult, Provider } from '../types.ts'
import { createAwsProvider } from './index.ts'
import { type AwsFunctionData, interpretInvokeResponse } from './lambda-function.ts'
import { BUCKET_MARKER_KEY, ROLE_NAME, functionName } from './naming.ts'
import { parseReportLine } from './report-line.ts'
import { FakeAws } from '../../test/support/aws/fake-aws.ts'
import { FAST_TIMINGS } from '../../test/support/aws/timings.ts'

let work: string
let s3: RunningS3rver
let dynamo: DynaliteServer
let fake: FakeAws
let build: BuildContext
let echo: BenchmarkDefinition
const warnings: string[] = []

function captureLogger(): Logger {
  const make = (): Logger => ({
    info: () => {},
    warn: (m) => warnings.push(m),
    debug: () => {},
    child: () => make(),
  })
  return make()
}

function makeProvider(runId: string, options: Record<string, unknown> = {}): Provider {
  return createAwsProvider(
    {
      runId,
      cacheDir: build.cacheDir,
      logger: captureLogger(),
      options: { region: 'us-east-1', endpoints: { s3: s3.endpoint, dynamodb: dynamo.endpoint }, ...options },
    },
    { timings: FAST_TIMINGS },
  )
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'sebs-aws-int-'))
  s3 = await startS3rver({ directory: join(work, 's3') })
  dynamo = await startDynalite({})
  vi.stubEnv('AWS_ACCESS_KEY_ID', s3.accessKey)
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', s3.secretKey)
  vi.stubEnv('AWS_REGION', 'us-east-1')
  fake = await new FakeAws({
    workDir: join(work, 'lambda'),
    roleCredentials: { accessKeyId: s3.accessKey, secretAccessKey: s3.secretKey },
    s3: { endpoint: s3.endpoint, accessKeyId: s3.accessKey, secretAccessKey: s3.secretKey },
    logDelayMs: 150,
    pageSize: 2,
  }).start()
  build = {
    cacheDir: join(work, 'cache'),
    logger: createLogger('sebs', { quiet: true, write: () => {} }),
    runtimes: { python: 'python3', node: process.execPath },
  }
  echo = await loadFixtureBenchmark('901.echo')
}, 60_000)

afterAll(async () => {
  await fake?.stop()
  await s3?.close()
  await dynamo?.close()
  vi.unstubAllEnvs()
  if (work) await rm(work, { recursive: true, force: true })
})

function okEnvelope(r: InvokeResult) {
  if (r.state !== 'ok') throw new Error(`expected ok, got ${r.state}: ${'error' in r ? r.error : ''}`)
  return r.envelope
}

function toRecord(fn: DeployedFunction, r: InvokeResult, startedAt: number, repetition: number): InvocationRecord {
  const envelope = r.state === 'timeout' ? undefined : r.envelope
  const base = {
    runId: fn.handle.runId,
    benchmark: fn.handle.benchmark,
    language: fn.handle.language,
    size: 'test' as const,
    provider: 'aws',
    memory: fn.handle.memory,
    trigger: fn.handle.trigger,
    phase: repetition === 0 ? 'cold' : 'warm',
    repetition,
    requestId: envelope?.requestId ?? '',
    containerId: envelope?.containerId ?? '',
    isCold: envelope?.isCold ?? false,
    outputValid: r.state === 'ok',
    clientTimeUs: r.clientTimeUs,
    functionTimeUs: envelope ? envelope.end - envelope.begin : 0,
    startedAt,
  }
  return r.state === 'ok' ? { ...base, state: 'ok' } : { ...base, state: r.state, error: r.error }
}

describe('library trigger (InvokeCommand with LogType Tail)', () => {
  let provider: Provider
  let fn: DeployedFunction
  let pkg: CodePackage

  beforeAll(async () => {
    provider = makeProvider('lib-run')
    await provider.checkCredentials()
    pkg = await provider.package({ benchmark: echo, language: 'python', arch: 'x64' }, build)
    fn = await provider.deploy(pkg, { runId: 'lib-run', memory: 128, timeout: 2, trigger: 'library', env: { GREETING: 'hi' } })
  }, 120_000)
  afterAll(async () => {
    await fn?.delete()
    await provider?.close()
  })

  it('sent a CreateFunction shaped for Lambda, after creating and propagating the role', () => {
    const create = fake.calls.filter((c) => c.command === 'CreateFunction')
    // The first attempt hit IAM's propagation delay ("cannot be assumed") and was retried.
    expect(create.length).toBeGreaterThanOrEqual(2)
    const input = create.at(-1)!.input as Record<string, unknown>
    expect(input).toMatchObject({
      FunctionName: functionName('lib-run', '901.echo', 'python', 'x64'),
      Runtime: 'python3.11',
      Handler: 'handler.handler',
      PackageType: 'Zip',
      Architectures: ['x86_64'],
      MemorySize: 128,
      Timeout: 2,
      Role: `arn:aws:iam::${fake.accountId}:role/${ROLE_NAME}`,
      Environment: { Variables: { GREETING: 'hi' } },
      Tags: { 'sebs:managed': 'true', 'sebs:run-id': 'lib-run', 'sebs:benchmark': '901.echo' },
    })
    expect((input.Code as { ZipFile?: Uint8Array }).ZipFile?.length).toBe(pkg.sizeBytes)
    const role = fake.roles.get(ROLE_NAME)!
    expect([...role.attached].sort()).toEqual([
      'arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess',
      'arn:aws:iam::aws:policy/AmazonS3FullAccess',
      'arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole',
    ])
    expect(role.tags).toEqual(expect.arrayContaining([{ Key: 'sebs:managed', Value: 'true' }]))
    // It waited for Active through GetFunctionConfiguration polls.
    expect(fake.functions.get(fn.handle.name)!.config.State).toBe('Active')
  })

  it('the handle holds names, ARN, region, endpoints and the package path only', () => {
    const data = fn.handle.data as AwsFunctionData
    expect(data.functionArn).toBe(`arn:aws:lambda:us-east-1:${fake.accountId}:function:${fn.handle.name}`)
    expect(data.region).toBe('us-east-1')
    expect(data.endpoints).toEqual({ s3: s3.endpoint, dynamodb: dynamo.endpoint })
    expect(Object.keys(data).sort()).toEqual(
      ['arch', 'deployTimeoutMs', 'endpoints', 'functionArn', 'functionName', 'metricsTimeoutMs', 'region', 'runtime', 'packagePath', 'packageHash', 'packageSizeBytes'].sort(),
    )
    // What updateCode pads and restores (code-package-size sweeps): the zip this machine built.
    expect(data).toMatchObject({ packagePath: pkg.path, packageHash: pkg.hash, packageSizeBytes: pkg.sizeBytes })
  })

  it('cold then warm, with provider times from the REPORT line of the log tail', async () => {
    const cold = await fn.invoke({ message: 'hello' })
    const warm = await fn.invoke({ message: 'again' })
    const c = okEnvelope(cold)
    const w = okEnvelope(warm)
    expect(c.isCold).toBe(true)
    expect(w.isCold).toBe(false)
    expect(w.containerId).toBe(c.containerId)
    // The fake wrote these REPORT lines; the provider must have read them back exactly.
    const reports = fake.logGroups
      .get(`/aws/lambda/${fn.handle.name}`)!
      .events.map((e) => parseReportLine(e.message))
      .filter((r) => r !== undefined)
    const coldReport = reports.find((r) => r.requestId === c.requestId)!
    const warmReport = reports.find((r) => r.requestId === w.requestId)!
    expect(cold).toMatchObject({
      providerTimeUs: Math.round(coldReport.durationMs * 1000),
      initTimeUs: Math.round(coldReport.initDurationMs! * 1000),
      billedTimeMs: coldReport.billedDurationMs,
      memoryUsedMb: coldReport.maxMemoryUsedMb,
      memoryEnforced: true,
    })
    expect(coldReport.initDurationMs).toBeGreaterThan(0)
    expect(warm).toMatchObject({ providerTimeUs: Math.round(warmReport.durationMs * 1000), billedTimeMs: warmReport.billedDurationMs })
    expect('initTimeUs' in warm).toBe(false)
    // The client round trip contains the function's run.
    expect(cold.clientTimeUs).toBeGreaterThanOrEqual(cold.providerTimeUs ?? 0)
    expect(fake.calls.filter((x) => x.command === 'Invoke').every((x) => (x.input as { LogType?: string }).LogType === 'Tail')).toBe(true)
  })

  it('a thrown exception is an error carrying the envelope; Lambda itself saw no FunctionError', async () => {
    const r = await fn.invoke({ fail: 'boom' })
    expect(r.state).toBe('error')
    if (r.state !== 'error') return
    expect(r.error).toBe('Exception: boom')
    expect(r.envelope?.result).toBeNull()
    expect(r.providerTimeUs).toBeGreaterThan(0)
  })

  it('a timeout is reported from Lambda\'s "Task timed out" answer, with Status: timeout', async () => {
    const r = await fn.invoke({ sleep_ms: 10_000 })
    expect(r.state).toBe('timeout')
    if (r.state !== 'timeout') return
    expect(r.error).toMatch(/Task timed out after 2\.00 seconds/)
    expect(r.providerTimeUs).toBe(2_000_000)
    expect(r.clientTimeUs).toBeGreaterThanOrEqual(1_900_000)
    expect(r.clientTimeUs).toBeLessThan(8_000_000)
    const after = await fn.invoke({ message: 'after' })
    expect(okEnvelope(after).isCold).toBe(true)
  }, 30_000)

  it('a runtime crash (process exit) is an error with Runtime.ExitError', async () => {
    const r = await fn.invoke({ exit_code: 3 })
    expect(r.state).toBe('error')
    expect(r.state === 'error' && r.error).toMatch(/Runtime\.ExitError: .*exit status 3/)
  })

  it('running out of memory is an error with Runtime.OutOfMemory', async () => {
    // Room for a slow allocation on a loaded machine: this is about memory, not time.
    await fn.update({ timeout: 20 })
    const r = await fn.invoke({ allocate_mb: 200 })
    await fn.update({ timeout: 2 })
    expect(r.state).toBe('error')
    expect(r.state === 'error' && r.error).toMatch(/^Runtime\.OutOfMemory/)
    expect(r.memoryUsedMb).toBe(128)
  }, 60_000)

  it('a throttled invoke is retried and recorded once', async () => {
    const before = fake.commandCount('Lambda', 'Invoke')
    fake.failNext('Invoke', FakeAws.throttle, 2)
    const r = await fn.invoke({ message: 'throttled' })
    expect(okEnvelope(r).result).toMatchObject({ echo: { message: 'throttled' } })
    expect(fake.commandCount('Lambda', 'Invoke') - before).toBe(3)
  })

  it('two concurrent forceColdStart() calls both apply (conflicts and revision checks are retried)', async () => {
    await fn.invoke({ message: 'warm' })
    const before = Number(fake.functions.get(fn.handle.name)!.config.Environment!.Variables!.SEBS_COLD_START ?? '0')
    await Promise.all([fn.forceColdStart(), fn.forceColdStart()])
    const vars = fake.functions.get(fn.handle.name)!.config.Environment!.Variables!
    expect(Number(vars.SEBS_COLD_START)).toBe(before + 2)
    expect(vars.GREETING).toBe('hi')
    const rejected = fake.calls.filter((c) => c.command === 'UpdateFunctionConfiguration').length
    expect(rejected).toBeGreaterThanOrEqual(2)
    expect(okEnvelope(await fn.invoke({ message: 'cold' })).isCold).toBe(true)
  })

  it('update() changes memory and timeout, waits, and keeps the environment', async () => {
    fake.failNext('UpdateFunctionConfiguration', () =>
      new ResourceConflictException({
        message: `The operation cannot be performed at this time. An update is in progress for resource: arn:aws:lambda:us-east-1:${fake.accountId}:function:${fn.handle.name}`,
        $metadata: { httpStatusCode: 409 },
      }),
    )
    await fn.update({ memory: 256, timeout: 5 })
    const cfg = fake.functions.get(fn.handle.name)!.config
    expect(cfg).toMatchObject({ MemorySize: 256, Timeout: 5, LastUpdateStatus: 'Successful' })
    expect(cfg.Environment!.Variables!.GREETING).toBe('hi')
    expect(fn.handle).toMatchObject({ memory: 256, timeout: 5 })
    await expect(fn.update({ memory: 64 })).rejects.toMatchObject({ code: 'CONFIG_INVALID' })
  })

  it('a worker rebuilds the function from a cloned handle and invokes it', async () => {
    const handle = structuredClone(fn.handle)
    const worker = makeProvider('lib-run').connect(handle)
    const r = await worker.invoke({ message: 'from worker' })
    expect(okEnvelope(r).result).toMatchObject({ echo: { message: 'from worker' } })
    await worker.close?.()
  })

  it('deploying the same function again updates it instead of creating it', async () => {
    const creates = fake.commandCount('Lambda', 'CreateFunction')
    const codeUpdates = fake.commandCount('Lambda', 'UpdateFunctionCode')
    const again = await provider.deploy(pkg, { runId: 'lib-run', memory: 512, timeout: 3, trigger: 'library', env: {} })
    expect(again.handle.name).toBe(fn.handle.name)
    expect(fake.commandCount('Lambda', 'CreateFunction')).toBe(creates)
    // Same zip (same CodeSha256): no code upload.
    expect(fake.commandCount('Lambda', 'UpdateFunctionCode')).toBe(codeUpdates)
    expect(fake.functions.get(fn.handle.name)!.config).toMatchObject({ MemorySize: 512, Timeout: 3 })
  })
})

describe('http trigger (Function URL) and CloudWatch Logs metrics', () => {
  let provider: Provider
  let fn: DeployedFunction

  beforeAll(async () => {
    provider = makeProvider('http-run')
    const pkg = await provider.package({ benchmark: echo, language: 'nodejs', arch: 'arm64' }, build)
    fn = await provider.deploy(pkg, { runId: 'http-run', memory: 256, timeout: 2, trigger: 'http', env: {} })
  }, 120_000)
  afterAll(async () => {
    await fn?.delete()
    await provider?.close()
  })

  it('created a NONE-auth Function URL with both public permissions', () => {
    const data = fn.handle.data as AwsFunctionData
    expect(data.functionUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/[0-9a-f]+\/$/)
    const f = fake.functions.get(fn.handle.name)!
    expect(f.url?.AuthType).toBe('NONE')
    expect(f.config.Architectures).toEqual(['arm64'])
    expect(f.config.Runtime).toBe('nodejs22.x')
    expect(f.policy).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Action: 'lambda:InvokeFunctionUrl', Principal: '*', FunctionUrlAuthType: 'NONE' }),
        expect.objectContaining({ Action: 'lambda:InvokeFunction', Principal: '*', InvokedViaFunctionUrl: true }),
      ]),
    )
  })

  it('invokes through the URL; metrics() fills provider times from Logs Insights by request id', async () => {
    const results: Array<{ r: InvokeResult; at: number }> = []
    for (let i = 0; i < 3; i++) {
      const at = Date.now()
      results.push({ r: await fn.invoke({ message: `m${i}` }), at })
    }
    const envelopes = results.map(({ r }) => okEnvelope(r))
    expect(envelopes.map((e) => e.isCold)).toEqual([true, false, false])
    // No REPORT line reaches an HTTP client.
    expect(results.every(({ r }) => r.providerTimeUs === undefined)).toBe(true)
    // A new connection reports its setup time; kept-alive ones are reused and do not.
    expect(results[0].r.connectTimeUs).toBeGreaterThan(0)
    expect(results[0].r.connectTimeUs!).toBeLessThan(results[0].r.clientTimeUs)
    expect(results[1].r.connectTimeUs).toBeUndefined()
    const records = results.map(({ r, at }, i) => toRecord(fn, r, at, i))
    const filled = await fn.metrics!(records)
    const reports = new Map(
      fake.logGroups
        .get(`/aws/lambda/${fn.handle.name}`)!
        .events.map((e) => parseReportLine(e.message))
        .filter((r) => r !== undefined)
        .map((r) => [r.requestId, r]),
    )
    for (const rec of filled) {
      const report = reports.get(rec.requestId)!
      expect(rec.providerTimeUs).toBe(Math.round(report.durationMs * 1000))
      expect(rec.billedTimeMs).toBe(report.billedDurationMs)
      expect(rec.memoryUsedMb).toBe(report.maxMemoryUsedMb)
    }
    expect(filled[0].initTimeUs).toBeGreaterThan(0)
    expect(filled[1].initTimeUs).toBeUndefined()
    const queries = fake.calls.filter((c) => c.command === 'StartQuery')
    expect(queries.at(-1)!.input).toMatchObject({ logGroupName: `/aws/lambda/${fn.handle.name}` })
    expect((queries.at(-1)!.input as { queryString: string }).queryString).toMatch(/filter @message like \/\^REPORT\//)
  })

  it('metrics() gives up at its deadline and leaves unknown request ids empty, with a warning', async () => {
    const fnQuick = makeProvider('http-run', { metricsTimeout: 0 }).connect(structuredClone(fn.handle))
    ;(fnQuick.handle.data as AwsFunctionData).metricsTimeoutMs = 300
    const r = await fn.invoke({ message: 'x' })
    const rec = toRecord(fn, r, Date.now(), 1)
    const ghost = { ...rec, requestId: '00000000-0000-4000-8000-000000000000' }
    warnings.length = 0
    const [, ghostOut] = await fnQuick.metrics!([rec, ghost])
    expect(ghostOut.providerTimeUs).toBeUndefined()
    expect(warnings.join('\n')).toMatch(/no REPORT line in CloudWatch Logs for 1 of 2/)
    await fnQuick.close?.()
  })

  it('a timeout through the URL (502 at the function timeout) is a timeout', async () => {
    const r = await fn.invoke({ sleep_ms: 8000 })
    expect(r.state).toBe('timeout')
    expect(r.clientTimeUs).toBeGreaterThanOrEqual(1_900_000)
  }, 30_000)

  it('a crash through the URL (502 before the timeout) is an error', async () => {
    const r = await fn.invoke({ exit_code: 2 })
    expect(r.state).toBe('error')
    expect(r.state === 'error' && r.error).toMatch(/HTTP 502/)
  })

  it('a fresh URL answering 403 while its permissions propagate is retried', async () => {
    const worker = makeProvider('http-run').connect(structuredClone(fn.handle))
    fake.urlPropagationDenials = 2
    const r = await worker.invoke({ message: 'after 403' })
    expect(okEnvelope(r).result).toMatchObject({ echo: { message: 'after 403' } })
    expect(fake.urlPropagationDenials).toBe(0)
    // Once a request got through, a 403 is an answer, not a delay.
    fake.urlPropagationDenials = 1
    const denied = await worker.invoke({ message: 'denied' })
    expect(denied.state).toBe('error')
    expect(denied.state === 'error' && denied.error).toMatch(/HTTP 403/)
    await worker.close?.()
  })

  it('the library trigger can be chosen per invocation', async () => {
    const r = await fn.invoke({ message: 'lib' }, { trigger: 'library' })
    expect(okEnvelope(r).result).toMatchObject({ echo: { message: 'lib' } })
    expect(r.providerTimeUs).toBeGreaterThan(0)
  })
})

describe('deploy failures and retries', () => {
  it('throttled CreateFunction calls are retried until they pass', async () => {
    const provider = makeProvider('throttle-run')
    const pkg = await provider.package({ benchmark: echo, language: 'nodejs', arch: 'x64' }, build)
    fake.failNext('CreateFunction', FakeAws.throttle, 2)
    const fn = await provider.deploy(pkg, { runId: 'throttle-run', memory: 128, timeout: 2, trigger: 'library', env: {} })
    expect(okEnvelope(await fn.invoke({ message: 'ok' })).isCold).toBe(true)
    await fn.delete()
    await provider.close()
  })

  it('IAM throttling while creating the role is retried', async () => {
    // Start from an account without the role.
    fake.roles.delete(ROLE_NAME)
    const provider = makeProvider('iam-run')
    const pkg = await provider.package({ benchmark: echo, language: 'nodejs', arch: 'x64' }, build)
    const throttling = () =>
      new IAMServiceException({ name: 'Throttling', $fault: 'client', message: 'Rate exceeded', $metadata: { httpStatusCode: 400 } })
    fake.failNext('CreateRole', throttling, 2)
    fake.failNext('AttachRolePolicy', throttling, 1)
    const fn = await provider.deploy(pkg, { runId: 'iam-run', memory: 128, timeout: 2, trigger: 'library', env: {} })
    expect(fake.commandCount('IAM', 'CreateRole')).toBeGreaterThanOrEqual(3)
    expect(fake.roles.get(ROLE_NAME)!.attached.size).toBe(3)
    await fn.delete()
    await provider.close()
  })

  it('a function that ends in State Failed fails the deploy with Lambda\'s reason and is removed again', async () => {
    const provider = makeProvider('failed-run')
    const pkg = await provider.package({ benchmark: echo, language: 'nodejs', arch: 'x64' }, build)
    fake.failNextActivation = { reasonCode: 'InvalidZipFileException', reason: 'Could not unzip uploaded file.' }
    const err = await provider.deploy(pkg, { runId: 'failed-run', memory: 128, timeout: 2, trigger: 'library', env: {} }).catch((e) => e)
    expect(err).toMatchObject({ code: 'DEPLOY_FAILED' })
    expect(String(err.message)).toMatch(/InvalidZipFileException Could not unzip uploaded file/)
    expect(fake.functions.has(functionName('failed-run', '901.echo', 'nodejs', 'x64'))).toBe(false)
    await provider.close()
  })

  it('a configured role is used as is, and an unusable one fails without waiting for IAM propagation', async () => {
    const roleArn = `arn:aws:iam::${fake.accountId}:role/not-there`
    const provider = makeProvider('role-run', { roleArn })
    const pkg = await provider.package({ benchmark: echo, language: 'nodejs', arch: 'x64' }, build)
    const started = Date.now()
    const err = await provider.deploy(pkg, { runId: 'role-run', memory: 128, timeout: 2, trigger: 'library', env: {} }).catch((e) => e)
    expect(err).toMatchObject({ code: 'DEPLOY_FAILED' })
    expect(String(err.message)).toMatch(/cannot be assumed by Lambda/)
    expect(Date.now() - started).toBeLessThan(5000)
    await provider.close()
  })

  it('invoking a deleted function is an error state (ResourceNotFoundException)', async () => {
    const provider = makeProvider('gone-run')
    const pkg = await provider.package({ benchmark: echo, language: 'nodejs', arch: 'x64' }, build)
    const fn = await provider.deploy(pkg, { runId: 'gone-run', memory: 128, timeout: 2, trigger: 'library', env: {} })
    await fn.delete()
    const r = await fn.invoke({ message: 'x' })
    expect(r.state).toBe('error')
    expect(r.state === 'error' && r.error).toMatch(/ResourceNotFoundException: Function not found/)
    // delete() of something already gone is fine.
    await fn.delete()
    await provider.close()
  })

  it('rejects memory and timeouts Lambda would refuse before calling AWS', async () => {
    const provider = makeProvider('limits-run')
    const pkg = await provider.package({ benchmark: echo, language: 'nodejs', arch: 'x64' }, build)
    const before = fake.calls.length
    await expect(provider.deploy(pkg, { runId: 'limits-run', memory: 100, timeout: 2, trigger: 'library', env: {} })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
    })
    await expect(provider.deploy(pkg, { runId: 'limits-run', memory: 128, timeout: 901, trigger: 'library', env: {} })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
    })
    await expect(
      provider.deploy(pkg, { runId: 'limits-run', memory: 128, timeout: 2, trigger: 'library', env: { BIG: 'x'.repeat(5000) } }),
    ).rejects.toThrow(/4096/)
    expect(fake.calls.slice(before).filter((c) => c.service === 'Lambda')).toEqual([])
    await provider.close()
  })
})

describe('packages over the direct-upload limit go through S3', () => {
  it('uploads the zip to the benchmarks bucket and creates the function from S3Bucket/S3Key', async () => {
    const provider = makeProvider('big-run', { directUploadLimit: 1000 })
    const pkg = await provider.package({ benchmark: echo, language: 'python', arch: 'x64' }, build)
    expect(pkg.sizeBytes).toBeGreaterThan(1000)
    const fn = await provider.deploy(pkg, { runId: 'big-run', memory: 128, timeout: 2, trigger: 'library', env: {} })
    const create = fake.calls.filter((c) => c.command === 'CreateFunction').at(-1)!.input as { Code: Record<string, unknown> }
    expect(create.Code.ZipFile).toBeUndefined()
    expect(create.Code.S3Bucket).toMatch(/^sebs-benchmarks-[0-9a-f]{8}$/)
    expect(create.Code.S3Key).toBe(`sebs-code/901.echo/python-x64/${pkg.hash}.zip`)
    expect(okEnvelope(await fn.invoke({ message: 'from s3' })).result).toMatchObject({ echo: { message: 'from s3' } })
    await fn.delete()
    await provider.close()
  })
})

describe('storage and NoSQL', () => {
  it('storage(): the tagged sebs-benchmarks-<id> bucket on the S3 endpoint, through the credential chain', async () => {
    const provider = makeProvider('storage-run', { resourceId: 'storagetest' })
    const storage = await provider.storage()
    expect(storage.connection).toMatchObject({ kind: 's3', endpoint: s3.endpoint, region: 'us-east-1' })
    expect(storage.connection.bucket).toBe('sebs-benchmarks-storagetest')
    expect(storage.connection.accessKey).toBeUndefined()
    expect(storage.connection.secretKey).toBeUndefined()
    await storage.uploadBuffer(storage.connection.bucket, 'x/y.txt', Buffer.from('hello'))
    expect((await storage.download(storage.connection.bucket, 'x/y.txt')).toString()).toBe('hello')
    // s3rver has no bucket tagging: the marker object carries the tags.
    const marker = await storage.download(storage.connection.bucket, BUCKET_MARKER_KEY)
    expect(JSON.parse(marker.toString())).toEqual({ tags: { 'sebs:managed': 'true', 'sebs:run-id': 'storage-run' } })
    expect(await storage.removePrefix(storage.connection.bucket, 'x/')).toBe(1)
    await provider.close()
  })

  it('nosql(): PAY_PER_REQUEST tables, tagged with the run id', async () => {
    const provider = makeProvider('nosql-run', { resourceId: 'nosqltest' })
    const nosql = await provider.nosql!()
    const name = await nosql.createTable('130.crud-api', 'shopping_cart', 'cart_id', 'product_id')
    expect(name).toBe('sebs-nosqltest-130.crud-api-shopping_cart')
    await nosql.insert('shopping_cart', ['cart_id', 'c1'], ['product_id', 'p1'], { price: 3 })
    expect(nosql.connection.tables).toEqual({ shopping_cart: name })
    const swept = await provider.sweep({ runId: 'nosql-run', dryRun: true })
    expect(swept).toContainEqual({ kind: 'dynamodb-table', id: name, runId: 'nosql-run', removed: false })
    await provider.sweep({ runId: 'nosql-run', dryRun: false })
    const again = await provider.sweep({ runId: 'nosql-run', dryRun: true })
    expect(again.filter((r) => r.kind === 'dynamodb-table')).toEqual([])
    await provider.close()
  })
})

describe('sweep', () => {
  it('removes what a run left, by tags only: functions, URLs, log groups, buckets, tables, the created role', async () => {
    const a = makeProvider('sweep-a', { resourceId: 'sweeptest' })
    const b = makeProvider('sweep-b', { resourceId: 'sweeptest' })
    const pkg = await a.package({ benchmark: echo, language: 'nodejs', arch: 'x64' }, build)
    const fa = await a.deploy(pkg, { runId: 'sweep-a', memory: 128, timeout: 2, trigger: 'http', env: {} })
    const fb = await b.deploy(pkg, { runId: 'sweep-b', memory: 128, timeout: 2, trigger: 'library', env: {} })
    await fa.invoke({ message: 'a' })
    await fb.invoke({ message: 'b' })
    await a.storage()
    // A function with a look-alike name but no tags, and an orphaned log group of ours.
    const foreign = 'sebs-foreign-001-python-3_11-x64'
    fake.functions.set(foreign, { ...fake.functions.get(fb.handle.name)!, tags: {}, environments: [], config: { ...fake.functions.get(fb.handle.name)!.config, FunctionName: foreign, FunctionArn: `arn:aws:lambda:us-east-1:${fake.accountId}:function:${foreign}` } })
    fake.logGroups.set('/aws/lambda/sebs-sweep-a-old-nodejs-x64', { created: Date.now(), events: [] })

    const dry = await a.sweep({ runId: 'sweep-a', dryRun: true })
    expect(dry.every((r) => !r.removed)).toBe(true)
    const ids = dry.map((r) => `${r.kind}:${r.id}`).sort()
    expect(ids).toContain(`lambda-function:${fa.handle.name}`)
    expect(ids).toContain('log-group:/aws/lambda/sebs-sweep-a-old-nodejs-x64')
    expect(ids).toContain('s3-bucket:sebs-benchmarks-sweeptest')
    expect(ids.some((i) => i.includes(fb.handle.name))).toBe(false)
    expect(ids.some((i) => i.includes(foreign))).toBe(false)
    expect(fake.functions.has(fa.handle.name)).toBe(true)

    const removed = await a.sweep({ runId: 'sweep-a', dryRun: false })
    expect(removed.every((r) => r.removed)).toBe(true)
    expect(fake.functions.has(fa.handle.name)).toBe(false)
    expect(fake.logGroups.has(`/aws/lambda/${fa.handle.name}`)).toBe(false)
    expect(fake.functions.has(fb.handle.name)).toBe(true)

    // Everything (no run id): b's function, and the role this suite created.
    const all = await b.sweep({ dryRun: false })
    expect(all.map((r) => `${r.kind}:${r.id}`)).toEqual(expect.arrayContaining([`lambda-function:${fb.handle.name}`, `iam-role:${ROLE_NAME}`]))
    expect(fake.roles.has(ROLE_NAME)).toBe(false)
    expect(fake.functions.has(foreign)).toBe(true)
    expect(await b.sweep({ dryRun: true })).toEqual([])
    fake.functions.delete(foreign)
    await a.close()
    await b.close()
  }, 120_000)
})

describe('interpretInvokeResponse (Lambda-shaped responses)', () => {
  const report = (extra: string) =>
    Buffer.from(`START RequestId: r1 Version: $LATEST\nEND RequestId: r1\nREPORT RequestId: r1\tDuration: 10.00 ms\tBilled Duration: 10 ms\tMemory Size: 128 MB\tMax Memory Used: 50 MB\t${extra}\n`).toString('base64')

  it('older runtimes report timeouts as a plain errorMessage', () => {
    const r = interpretInvokeResponse(
      {
        StatusCode: 200,
        FunctionError: 'Unhandled',
        Payload: Buffer.from(JSON.stringify({ errorMessage: '2024-05-01T10:00:00.000Z r1 Task timed out after 3.00 seconds' })),
        LogResult: report('Status: timeout'),
      },
      3_100_000,
    )
    expect(r).toMatchObject({ state: 'timeout', providerTimeUs: 10_000 })
  })

  it('a payload that is not an envelope is an error, not a crash', () => {
    const r = interpretInvokeResponse({ StatusCode: 200, Payload: Buffer.from('"just a string"') }, 5)
    expect(r.state).toBe('error')
    expect(r.state === 'error' && r.error).toMatch(/no wrapper envelope/)
  })
})
