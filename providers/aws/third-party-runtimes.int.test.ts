/**
 * The Lambda zips `sebs package` builds, run by Lambda runtimes nobody on
 * this project wrote (vitest worker): `lambda-local` runs the Node zip with a
 * direct event and with a Function URL (payload 2.0) event; `serverless-offline`
 * (with `serverless` 3) runs the Node and the Python zip behind its Lambda
 * Invoke API, invoked through this provider's own `DeployedLambda.invoke`
 * (InvokeCommand, LogType Tail) with an endpoint override. Our fake stays the
 * control plane elsewhere; these check that the packages are what a real
 * runtime loads and that our invoke path reads a foreign runtime's answers.
 *
 * What such runtimes do not give (and the asserts do not expect): no REPORT
 * line (no billed duration, max memory or init duration), and one /tmp shared
 * by every "instance" (the cold-start marker survives between them).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLogger } from '../../core/logger.ts'
import type { BenchmarkDefinition, WrapperEnvelope } from '../../core/types.ts'
import { loadFixtureBenchmark } from '../../test/support/conformance/fixtures.ts'
import { extractZip } from '../../test/support/aws/fake-aws.ts'
import type { BuildContext } from '../types.ts'
import { packageForAws } from './index.ts'

let work: string
let build: BuildContext
let echo: BenchmarkDefinition

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'sebs-aws-3p-'))
  build = { cacheDir: join(work, 'cache'), logger: createLogger('sebs', { quiet: true, write: () => {} }), runtimes: { python: 'python3', node: process.execPath } }
  echo = await loadFixtureBenchmark('901.echo')
}, 60_000)

afterAll(async () => {
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
