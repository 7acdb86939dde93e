/**
 * The Lambda zips `sebs package` builds, run by Lambda runtimes nobody on
 * this project wrote (vitest worker): `lambda-local` runs the Node zip with a
 * direct event and with a Function URL (payload 2.0) event; `serverless-offline`
 * (with `serverless` 3; devDependencies) runs the Node and the Python zip behind its Lambda
 * Invoke API, invoked through this provider's own `DeployedLambda.invoke`
 * (InvokeCommand, LogType Tail) with an endpoint override. Our fake stays the
 * control plane elsewhere; these check that the packages are what a real
 * runtime loads and that our invoke path reads a foreign runtime's answers.
 *
 * What such runtimes do not give (and the asserts do not expect): no REPORT
 * line (no billed duration, max memory or init duration), and one /tmp shared
 * by every "instance" (the cold-start marker survives between them).
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { createLogger } from '../../core/logger.ts'
import type { BenchmarkDefinition, WrapperEnvelope } from '../../core/types.ts'
import { loadFixtureBenchmark } from '../../test/support/conformance/fixtures.ts'
import { extractZip } from '../../test/support/aws/fake-aws.ts'
import type { BuildContext, FunctionHandle } from '../types.ts'
import { createAwsProvider, packageForAws } from './index.ts'
import type { AwsFunctionData } from './lambda-function.ts'
import { FAST_TIMINGS } from '../../test/support/aws/timings.ts'

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')

let work: string
let build: BuildContext
let echo: BenchmarkDefinition

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'sebs-aws-3p-'))
  build = { cacheDir: join(work, 'cache'), logger: createLogger('sebs', { quiet: true, write: () => {} }), runtimes: { python: 'python3', node: process.execPath } }
  echo = await loadFixtureBenchmark('901.echo')
  // Our Lambda client signs its requests; serverless-offline accepts any credentials.
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'offline')
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'offline')
}, 60_000)

afterAll(async () => {
  vi.unstubAllEnvs()
  if (work) await rm(work, { recursive: true, force: true })
})

/** The Function URL event (payload format 2.0) Lambda builds for a POST of `payload`. */
function functionUrlEvent(payload: unknown): Record<string, unknown> {
  const now = Date.now()
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: '/',
    rawQueryString: '',
    headers: { 'content-type': 'application/json', host: 'abcdefghij.lambda-url.us-east-1.on.aws' },
    requestContext: {
      accountId: 'anonymous',
      apiId: 'abcdefghij',
      domainName: 'abcdefghij.lambda-url.us-east-1.on.aws',
      domainPrefix: 'abcdefghij',
      http: { method: 'POST', path: '/', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'sebs-test' },
      requestId: 'req-1',
      routeKey: '$default',
      stage: '$default',
      time: new Date(now).toUTCString(),
      timeEpoch: now,
    },
    body: JSON.stringify(payload),
    isBase64Encoded: false,
  }
}

describe('lambda-local runs the Node zip', () => {
  let dir: string
  // lambda-local's own API (CommonJS, untyped).
  let lambdaLocal: { execute(opts: Record<string, unknown>): Promise<unknown> }

  beforeAll(async () => {
    const pkg = await packageForAws({ benchmark: echo, language: 'nodejs', arch: 'x64' }, build)
    dir = join(work, 'lambda-local')
    await extractZip(await readFile(pkg.path), dir)
    lambdaLocal = (await import('lambda-local')) as unknown as typeof lambdaLocal
  }, 300_000)

  const run = (event: unknown) =>
    lambdaLocal.execute({
      event,
      lambdaPath: join(dir, 'handler.js'),
      lambdaHandler: 'handler',
      timeoutMs: 10_000,
      verboseLevel: 0,
      // Only what Lambda sets: none of the test's environment.
      envdestroy: true,
      environment: { AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '128', AWS_REGION: 'us-east-1' },
    })

  it('a direct event: the envelope, with the benchmark result', async () => {
    const envelope = (await run({ message: 'direct' })) as WrapperEnvelope
    expect(envelope).toMatchObject({ result: { echo: { message: 'direct' } } })
    expect(envelope.end).toBeGreaterThanOrEqual(envelope.begin)
    expect(typeof envelope.containerId).toBe('string')
    expect(envelope.requestId).toBeTruthy()
  })

  it('a Function URL (payload 2.0) event: an HTTP answer whose body is the envelope', async () => {
    const res = (await run(functionUrlEvent({ message: 'via url' }))) as { statusCode: number; headers: Record<string, string>; body: string }
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toBe('application/json')
    const envelope = JSON.parse(res.body) as WrapperEnvelope
    expect(envelope).toMatchObject({ result: { echo: { message: 'via url' } } })
    // lambda-local runs every call in this process with one /tmp: the cold marker of the first call is still there.
    expect(envelope.isCold).toBe(false)
  })

  it('a Function URL event whose body is not JSON: 400 with the reason, not a crash', async () => {
    const event = { ...functionUrlEvent({}), body: 'not json' }
    const res = (await run(event)) as { statusCode: number; body: string }
    expect(res.statusCode).toBe(400)
    expect(JSON.parse(res.body).error.message).toMatch(/not JSON/)
  })
})

/** A free loopback port. */
function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer()
    srv.once('error', rej)
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port
      srv.close(() => res(port))
    })
  })
}

interface Offline {
  proc: ChildProcess
  endpoint: string
  output: () => string
}

/**
 * A serverless service around an unpacked zip (`handler.handler` at its
 * root, the runtime given) and `serverless offline start` on it, waited for
 * (with a deadline) until its Lambda Invoke API listens.
 */
async function startOffline(serviceDir: string, runtime: string): Promise<Offline> {
  await mkdir(join(serviceDir, 'node_modules'), { recursive: true })
  await symlink(join(REPO, 'node_modules', 'serverless-offline'), join(serviceDir, 'node_modules', 'serverless-offline'))
  await writeFile(
    join(serviceDir, 'serverless.yml'),
    [
      'service: sebs',
      "frameworkVersion: '3'",
      // serverless 3's schema predates nodejs22.x: validation would only warn.
      'configValidationMode: off',
      'provider:',
      '  name: aws',
      `  runtime: ${runtime}`,
      '  region: us-east-1',
      '  stage: dev',
      '  timeout: 30',
      'functions:',
      '  fn:',
      '    handler: handler.handler',
      'plugins:',
      '  - serverless-offline',
      '',
    ].join('\n'),
  )
  const [lambdaPort, httpPort] = [await freePort(), await freePort()]
  const proc = spawn(
    process.execPath,
    [join(REPO, 'node_modules', 'serverless', 'bin', 'serverless.js'), 'offline', 'start', '--host', '127.0.0.1', '--lambdaPort', String(lambdaPort), '--httpPort', String(httpPort)],
    {
      cwd: serviceDir,
      // No telemetry or update checks (no network here); dummy credentials: nothing reaches AWS.
      env: { PATH: process.env.PATH ?? '', HOME: serviceDir, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off', AWS_ACCESS_KEY_ID: 'offline', AWS_SECRET_ACCESS_KEY: 'offline' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let out = ''
  const ready = new Promise<void>((res, rej) => {
    const onData = (c: Buffer) => {
      out += c.toString('utf8')
      if (out.includes('[http for lambda] listening on')) res()
    }
    proc.stdout!.on('data', onData)
    proc.stderr!.on('data', onData)
    proc.once('exit', (code) => rej(new Error(`serverless offline exited (${code}) before listening:\n${out}`)))
  })
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_, rej) => {
    // Loading the serverless framework takes 15 s on a loaded 2-core machine, over a minute at worst.
    timer = setTimeout(() => rej(new Error(`serverless offline did not listen within 180 s:\n${out}`)), 180_000)
  })
  try {
    await Promise.race([ready, deadline])
  } catch (err) {
    proc.kill('SIGKILL')
    throw err
  } finally {
    clearTimeout(timer)
  }
  return { proc, endpoint: `http://127.0.0.1:${lambdaPort}`, output: () => out }
}

async function stopOffline(o: Offline | undefined): Promise<void> {
  if (!o || o.proc.exitCode !== null) return
  const exited = new Promise<void>((r) => o.proc.once('exit', () => r()))
  o.proc.kill('SIGTERM')
  const timer = setTimeout(() => o.proc.kill('SIGKILL'), 5000)
  await exited
  clearTimeout(timer)
}

describe.each([
  { language: 'nodejs' as const, runtime: 'nodejs22.x' },
  // serverless-offline 13.9 knows python runtimes up to 3.11 ("Unsupported runtime" for 3.12).
  { language: 'python' as const, runtime: 'python3.11' },
])('serverless-offline runs the $language zip, invoked through DeployedLambda.invoke', ({ language, runtime }) => {
  let offline: Offline | undefined
  let handle: FunctionHandle

  beforeAll(async () => {
    const pkg = await packageForAws({ benchmark: echo, language, arch: 'x64' }, build, { runtime: { [language]: runtime } })
    const dir = join(work, `offline-${language}`)
    await extractZip(await readFile(pkg.path), dir)
    offline = await startOffline(dir, runtime)
    const data: AwsFunctionData = {
      // serverless-offline names functions <service>-<stage>-<function>.
      functionName: 'sebs-dev-fn',
      functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:sebs-dev-fn',
      region: 'us-east-1',
      endpoints: { lambda: offline.endpoint },
      runtime,
      arch: 'x64',
      deployTimeoutMs: 30_000,
      metricsTimeoutMs: 0,
    }
    handle = { provider: 'aws', name: 'sebs-dev-fn', benchmark: echo.id, language, memory: 128, timeout: 30, trigger: 'library', runId: 'offline', data }
  }, 300_000)

  afterAll(async () => {
    await stopOffline(offline)
  }, 30_000)

  it('returns the envelope with the benchmark result; no REPORT line, so no provider times', async () => {
    const provider = createAwsProvider(
      { runId: 'offline', cacheDir: join(work, 'cache'), logger: createLogger('sebs', { quiet: true, write: () => {} }), options: { region: 'us-east-1' } },
      { timings: FAST_TIMINGS },
    )
    const fn = provider.connect(handle)
    const first = await fn.invoke({ message: `hello ${language}` }, { trigger: 'library' })
    if (first.state !== 'ok') throw new Error(`expected ok, got ${first.state}: ${'error' in first ? first.error : ''}\n${offline!.output()}`)
    expect(first.envelope.result).toMatchObject({ echo: { message: `hello ${language}` } })
    expect(first.envelope.end).toBeGreaterThanOrEqual(first.envelope.begin)
    expect(first.envelope.requestId).toBeTruthy()
    // What Lambda's REPORT line would give is absent here.
    expect(first.billedTimeMs).toBeUndefined()
    expect(first.initTimeUs).toBeUndefined()
    expect(first.clientTimeUs).toBeGreaterThan(0)

    const second = await fn.invoke({ message: 'again' }, { trigger: 'library' })
    if (second.state !== 'ok') throw new Error(`expected ok, got ${second.state}`)
    expect(second.envelope.result).toMatchObject({ echo: { message: 'again' } })
    // One /tmp for every instance: whatever ran first left the cold marker, so this one is warm.
    expect(second.envelope.isCold).toBe(false)

    // A benchmark exception comes back in the envelope, read by our invoke path as an error with it.
    const failed = await fn.invoke({ fail: 'on purpose' }, { trigger: 'library' })
    expect(failed.state).toBe('error')
    await provider.close()
  }, 120_000)
})
