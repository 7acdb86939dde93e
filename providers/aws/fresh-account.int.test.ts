/**
 * The AWS provider's first run on a fresh account, against the fake control
 * plane (test/support/aws/fake-aws.ts, which refuses what Lambda and IAM
 * refuse) and s3rver: the runtime table before anything is built, the
 * execution role checked for what the benchmarks use (policy added to
 * sebs-lambda-role, a configured role refused with the policy named),
 * propagation retries for a role created minutes ago, and Lambda's refusals
 * (runtime, memory over a new account's 3,008 MB, architecture) as messages
 * that say what to do. Runs in a vitest worker.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CreateFunctionCommand, LambdaClient } from '@aws-sdk/client-lambda'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import type { Logger } from '../../core/logger.ts'
import { createLogger } from '../../core/logger.ts'
import type { BenchmarkDefinition } from '../../core/types.ts'
import { loadFixtureBenchmark } from '../../test/support/conformance/fixtures.ts'
import { type RunningS3rver, startS3rver } from '../storage/s3rver-server.ts'
import type { BuildContext, Provider } from '../types.ts'
import { createAwsProvider } from './index.ts'
import { explainLambdaRefusal } from './lambda-function.ts'
import { ROLE_NAME } from './naming.ts'
import { FakeAws } from '../../test/support/aws/fake-aws.ts'
import { FAST_TIMINGS } from '../../test/support/aws/timings.ts'

let work: string
let s3: RunningS3rver
let fake: FakeAws
let build: BuildContext
let echo: BenchmarkDefinition
let storageEcho: BenchmarkDefinition
let nosqlEcho: BenchmarkDefinition
const lines: string[] = []
const LIMITED_ROLE = 'arn:aws:iam::123456789012:role/team-lambda-logs-only'

function logger(): Logger {
  const make = (): Logger => ({
    info: (m) => lines.push(`info ${m}`),
    warn: (m) => lines.push(`warn ${m}`),
    debug: () => {},
    child: () => make(),
  })
  return make()
}

function makeProvider(runId: string, options: Record<string, unknown> = {}): Provider {
  return createAwsProvider(
    { runId, cacheDir: build.cacheDir, logger: logger(), options: { region: 'us-east-1', endpoints: { s3: s3.endpoint }, ...options } },
    { timings: FAST_TIMINGS },
  )
}

const lambdaCalls = (command: string) => fake.calls.filter((c) => c.service === 'Lambda' && c.command === command)

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'sebs-aws-fresh-'))
  s3 = await startS3rver({ directory: join(work, 's3') })
  vi.stubEnv('AWS_ACCESS_KEY_ID', s3.accessKey)
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', s3.secretKey)
  vi.stubEnv('AWS_REGION', 'us-east-1')
  fake = await new FakeAws({
    workDir: join(work, 'lambda'),
    roleCredentials: { accessKeyId: s3.accessKey, secretAccessKey: s3.secretKey },
    s3: { endpoint: s3.endpoint, accessKeyId: s3.accessKey, secretAccessKey: s3.secretKey },
    // A new account: functions up to 3,008 MB.
    memoryLimitMb: 3008,
    existingRoleArns: [LIMITED_ROLE],
    existingRolePolicies: { [LIMITED_ROLE]: ['AWSLambdaBasicExecutionRole'] },
  }).start()
  build = { cacheDir: join(work, 'cache'), logger: createLogger('sebs', { quiet: true, write: () => {} }), runtimes: { python: 'python3', node: process.execPath } }
  echo = await loadFixtureBenchmark('901.echo')
  storageEcho = await loadFixtureBenchmark('902.storage-echo')
  nosqlEcho = await loadFixtureBenchmark('903.nosql-echo')
}, 60_000)

afterAll(async () => {
  await fake?.stop()
  await s3?.close()
  vi.unstubAllEnvs()
  if (work) await rm(work, { recursive: true, force: true })
})

describe('runtimes', () => {
  it('a runtime whose creation AWS blocked is refused before anything is built, naming the date and the fix', async () => {
    const provider = makeProvider('rt-blocked', { runtime: { python: 'python3.9' } })
    const before = fake.calls.length
    await expect(provider.package({ benchmark: echo, language: 'python', arch: 'x64' }, build)).rejects.toThrow(
      /python3\.9 is deprecated: AWS has blocked creating functions with it since 2026-02-03.*aws\.runtime\.python to one of python3\.14/,
    )
    // A package built before (another runtime) does not get past deploy either, and Lambda is never called.
    const pkg = await makeProvider('rt-ok').package({ benchmark: echo, language: 'python', arch: 'x64' }, build)
    await expect(provider.deploy(pkg, { runId: 'rt-blocked', memory: 128, timeout: 5, trigger: 'library', env: {} })).rejects.toThrow(/since 2026-02-03/)
    expect(fake.calls.slice(before).filter((c) => c.service === 'Lambda')).toEqual([])
    await provider.close()
  })

  it('a runtime the table does not know is tried with a warning; Lambda\'s refusal becomes a message naming runtimes it accepts', async () => {
    const provider = makeProvider('rt-unknown', { runtime: { nodejs: 'nodejs26.x' } })
    const pkg = await provider.package({ benchmark: echo, language: 'nodejs', arch: 'x64' }, build)
    const err = await provider.deploy(pkg, { runId: 'rt-unknown', memory: 128, timeout: 5, trigger: 'library', env: {} }).catch((e: Error) => e)
    expect(lines.join('\n')).toMatch(/warn Lambda runtime 'nodejs26\.x' is not in this version's runtime table/)
    expect(String(err)).toMatch(/Lambda refused runtime nodejs26\.x \(ValidationException: .*enum value set.*Set aws\.runtime\.nodejs to a runtime Lambda accepts, e\.g\. nodejs24\.x or nodejs22\.x/)
    await provider.close()
  })
})

describe('the execution role', () => {
  it('SeBS\'s own sebs-lambda-role (S3 and logs only) gets DynamoDB attached when a benchmark uses the nosql module', async () => {
    fake.addRole(ROLE_NAME, { policies: ['AmazonS3FullAccess', 'AWSLambdaBasicExecutionRole'] })
    const provider = makeProvider('role-attach')
    const pkg = await provider.package({ benchmark: nosqlEcho, language: 'nodejs', arch: 'x64' }, build)
    const before = fake.calls.length
    const fn = await provider.deploy(pkg, { runId: 'role-attach', memory: 128, timeout: 5, trigger: 'library', env: {} })
    const iam = fake.calls.slice(before).filter((c) => c.service === 'IAM')
    const simulate = iam.find((c) => c.command === 'SimulatePrincipalPolicy')!.input as { ActionNames: string[] }
    expect(simulate.ActionNames).toEqual(expect.arrayContaining(['dynamodb:PutItem', 'logs:PutLogEvents']))
    expect(iam.filter((c) => c.command === 'AttachRolePolicy').map((c) => (c.input as { PolicyArn: string }).PolicyArn)).toEqual([
      'arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess',
    ])
    expect(lines.join('\n')).toMatch(/adding arn:aws:iam::aws:policy\/AmazonDynamoDBFullAccess to sebs-lambda-role: it does not allow DynamoDB/)
    // Checked once per set of needs: a second deploy asks nothing more.
    const again = fake.calls.length
    await provider.deploy(pkg, { runId: 'role-attach', memory: 256, timeout: 5, trigger: 'library', env: {} })
    expect(fake.calls.slice(again).filter((c) => c.command === 'SimulatePrincipalPolicy')).toEqual([])
    await fn.delete()
    await provider.close()
  })

  it('a configured role without S3 stops the deploy of a storage benchmark, naming the role and the policy to attach', async () => {
    const provider = makeProvider('role-stop', { roleArn: LIMITED_ROLE })
    const pkg = await provider.package({ benchmark: storageEcho, language: 'nodejs', arch: 'x64' }, build)
    const before = fake.calls.length
    const err = await provider.deploy(pkg, { runId: 'role-stop', memory: 128, timeout: 5, trigger: 'library', env: {} }).catch((e: Error) => e)
    expect(err).toMatchObject({ code: 'DEPLOY_FAILED' })
    expect(String(err)).toMatch(
      /execution role arn:aws:iam::123456789012:role\/team-lambda-logs-only does not allow S3 \(the storage module\).*Attach arn:aws:iam::aws:policy\/AmazonS3FullAccess to role team-lambda-logs-only/,
    )
    // The user's role is not changed, and no function was created.
    expect(fake.calls.slice(before).some((c) => c.command === 'AttachRolePolicy' || c.command === 'CreateFunction')).toBe(false)
    // A benchmark without storage deploys with the same role.
    const plain = await provider.package({ benchmark: echo, language: 'nodejs', arch: 'x64' }, build)
    const fn = await provider.deploy(plain, { runId: 'role-stop', memory: 128, timeout: 5, trigger: 'library', env: {} })
    await fn.delete()
    await provider.close()
  })

  it('a role created a minute ago by a failed run gets the IAM propagation retries', async () => {
    fake.addRole(ROLE_NAME, { policies: ['AmazonS3FullAccess', 'AmazonDynamoDBFullAccess', 'AWSLambdaBasicExecutionRole'], createdAt: new Date(Date.now() - 30_000) })
    const provider = makeProvider('role-young')
    const pkg = await provider.package({ benchmark: echo, language: 'python', arch: 'x64' }, build)
    const before = lambdaCalls('CreateFunction').length
    const fn = await provider.deploy(pkg, { runId: 'role-young', memory: 128, timeout: 5, trigger: 'library', env: {} })
    // The first CreateFunction met "cannot be assumed" and was retried.
    expect(lambdaCalls('CreateFunction').length - before).toBe(2)
    await fn.delete()
    await provider.close()
  })
})

describe('Lambda\'s refusals', () => {
  it('memory above a new account\'s 3,008 MB: the limit, why, and what to do', async () => {
    const provider = makeProvider('mem-limit')
    const pkg = await provider.package({ benchmark: echo, language: 'nodejs', arch: 'x64' }, build)
    const err = await provider.deploy(pkg, { runId: 'mem-limit', memory: 4096, timeout: 5, trigger: 'library', env: {} }).catch((e: Error) => e)
    expect(String(err)).toMatch(/Lambda refused memory=4096 MB: this account allows at most 3008 MB per function \(new accounts are often capped at 3,008 MB.*AWS Support can raise it\)\. Use --memory of at most 3008/)
    await provider.close()
  })

  it('an architecture Lambda does not know', async () => {
    const err = await new LambdaClient({ region: 'us-east-1' })
      .send(new CreateFunctionCommand({ FunctionName: 'arch-test', Runtime: 'python3.12', Role: LIMITED_ROLE, Handler: 'h.h', Code: { ZipFile: new Uint8Array([1]) }, Architectures: ['ppc64' as never] }))
      .catch((e: Error) => e)
    expect(explainLambdaRefusal(err, { runtime: 'python3.12', language: 'python', architecture: 'ppc64' })).toMatch(/Lambda refused architecture ppc64 \(ValidationException: .*\)\. Use aws\.arch 'x64' \(x86_64\) or 'arm64'/)
  })
})
