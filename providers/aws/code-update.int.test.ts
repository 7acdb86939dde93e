/**
 * `updateCode` (code-package-size sweeps) against the fake control plane on
 * aws-sdk-client-mock, with s3rver for S3: the zip sent in
 * UpdateFunctionCode is the deployed package plus `sebs-padding.bin` of the
 * requested size, inline or through S3 over the direct-upload limit (the
 * object is deleted once Lambda has it), the next invocation is cold, and
 * padding 0 sends the deployed zip itself again. Runs from a worker's
 * cloned handle, as bench workers do.
 */
import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { createLogger } from '../../core/logger.ts'
import type { BenchmarkDefinition } from '../../core/types.ts'
import { loadFixtureBenchmark } from '../../test/support/conformance/fixtures.ts'
import { listZip } from '../packaging/code-padding.ts'
import { type RunningS3rver, startS3rver } from '../storage/s3rver-server.ts'
import { type BuildContext, CODE_PADDING_FILE, type CodePackage, type DeployedFunction, type InvokeResult, type Provider } from '../types.ts'
import { createAwsProvider } from './index.ts'
import { FakeAws } from '../../test/support/aws/fake-aws.ts'
import { FAST_TIMINGS } from '../../test/support/aws/timings.ts'

let work: string
let s3: RunningS3rver
let fake: FakeAws
let build: BuildContext
let echo: BenchmarkDefinition
const providers: Provider[] = []

function makeProvider(runId: string, options: Record<string, unknown> = {}): Provider {
  const provider = createAwsProvider(
    {
      runId,
      cacheDir: join(work, 'state'),
      logger: createLogger('sebs', { quiet: true, write: () => {} }),
      options: { region: 'us-east-1', endpoints: { s3: s3.endpoint }, ...options },
    },
    { timings: FAST_TIMINGS },
  )
  providers.push(provider)
  return provider
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'pkgsweep-aws-'))
  s3 = await startS3rver({ directory: join(work, 's3') })
  vi.stubEnv('AWS_ACCESS_KEY_ID', s3.accessKey)
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', s3.secretKey)
  vi.stubEnv('AWS_REGION', 'us-east-1')
  fake = await new FakeAws({
    workDir: join(work, 'lambda'),
    roleCredentials: { accessKeyId: s3.accessKey, secretAccessKey: s3.secretKey },
    s3: { endpoint: s3.endpoint, accessKeyId: s3.accessKey, secretAccessKey: s3.secretKey },
    rolePropagationFailures: 0,
  }).start()
  build = {
    cacheDir: join(work, 'cache'),
    logger: createLogger('sebs', { quiet: true, write: () => {} }),
    runtimes: { python: 'python3', node: process.execPath },
  }
  echo = await loadFixtureBenchmark('901.echo')
}, 60_000)

afterAll(async () => {
  for (const p of providers) await p.close().catch(() => {})
  await fake?.stop()
  await s3?.close()
  vi.unstubAllEnvs()
  if (work) await rm(work, { recursive: true, force: true })
})

function isCold(r: InvokeResult): boolean {
  if (r.state !== 'ok') throw new Error(`expected ok, got ${r.state}: ${'error' in r ? r.error : ''}`)
  return r.envelope.isCold
}

/** The Code of the last UpdateFunctionCode request. */
function lastCodeUpdate(): { ZipFile?: Uint8Array; S3Bucket?: string; S3Key?: string } {
  return fake.calls.filter((c) => c.command === 'UpdateFunctionCode').at(-1)!.input as { ZipFile?: Uint8Array; S3Bucket?: string; S3Key?: string }
}

async function zipEntries(zip: Uint8Array): Promise<Map<string, number>> {
  const file = join(work, `sent-${Date.now()}-${Math.random()}.zip`)
  await writeFile(file, zip)
  try {
    return await listZip(file)
  } finally {
    await rm(file, { force: true })
  }
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('base64')

describe('updateCode on Lambda (python 901.echo, library trigger)', () => {
  let deployer: Provider
  let pkg: CodePackage
  let fn: DeployedFunction
  let worker: DeployedFunction

  beforeAll(async () => {
    deployer = makeProvider('code-run')
    pkg = await deployer.package({ benchmark: echo, language: 'python', arch: 'x64' }, build)
    fn = await deployer.deploy(pkg, { runId: 'code-run', memory: 128, timeout: 2, trigger: 'library', env: {} })
    // Bench workers get a cloned handle and their own provider.
    worker = makeProvider('code-run').connect(structuredClone(fn.handle))
  }, 120_000)

  afterAll(async () => {
    await worker?.close?.()
    await fn?.delete()
  })

  it('sends the package plus a padding file of the requested size inline; the next call is cold, then warm', async () => {
    expect(isCold(await worker.invoke({ message: 'a' }))).toBe(true)
    expect(isCold(await worker.invoke({ message: 'b' }))).toBe(false)

    const result = await worker.updateCode!({ paddingBytes: 2_000_000 })
    const code = lastCodeUpdate()
    expect(code.S3Key).toBeUndefined()
    const sent = await zipEntries(code.ZipFile!)
    const original = await listZip(pkg.path)
    expect(sent.get(CODE_PADDING_FILE)).toBe(2_000_000)
    sent.delete(CODE_PADDING_FILE)
    expect(sent).toEqual(original)
    expect(result).toEqual({ paddingBytes: 2_000_000, packageSizeBytes: code.ZipFile!.length })
    // Incompressible: the zip grew by the whole padding.
    expect(code.ZipFile!.length).toBeGreaterThanOrEqual(pkg.sizeBytes + 2_000_000)

    // Lambda waited for the update, and runs the padded code in a new environment.
    const lambda = fake.functions.get(fn.handle.name)!
    expect(lambda.config.LastUpdateStatus).toBe('Successful')
    expect((await stat(join(lambda.codeDir, CODE_PADDING_FILE))).size).toBe(2_000_000)
    const after = await worker.invoke({ message: 'c' })
    expect(isCold(after)).toBe(true)
    expect(isCold(await worker.invoke({ message: 'd' }))).toBe(false)
    expect(after.state === 'ok' && after.envelope.result).toMatchObject({ echo: { message: 'c' } })
  })

  it('padding 0 sends the deployed zip itself again, and the next call is cold', async () => {
    const result = await worker.updateCode!({ paddingBytes: 0 })
    const code = lastCodeUpdate()
    expect(sha(code.ZipFile!)).toBe(sha(readFileSync(pkg.path)))
    expect(result).toEqual({ paddingBytes: 0, packageSizeBytes: pkg.sizeBytes })
    const lambda = fake.functions.get(fn.handle.name)!
    expect(existsSync(join(lambda.codeDir, CODE_PADDING_FILE))).toBe(false)
    expect(isCold(await worker.invoke({ message: 'e' }))).toBe(true)
  })

  it('restoring what already runs still makes the next call cold (a forced cold start)', async () => {
    expect(isCold(await worker.invoke({ message: 'f' }))).toBe(false)
    const configUpdates = fake.commandCount('Lambda', 'UpdateFunctionConfiguration')
    await worker.updateCode!({ paddingBytes: 0 })
    // Lambda may keep environments when the code is unchanged: the provider does not rely on it.
    expect(fake.commandCount('Lambda', 'UpdateFunctionConfiguration')).toBe(configUpdates + 1)
    expect(fake.functions.get(fn.handle.name)!.config.Environment?.Variables?.SEBS_COLD_START).toBeDefined()
    expect(isCold(await worker.invoke({ message: 'g' }))).toBe(true)
  })

  it('over the direct-upload limit the padded zip goes through S3, and the object is deleted after the update', async () => {
    const big = makeProvider('code-run', { directUploadLimit: 1000 }).connect(structuredClone(fn.handle))
    try {
      await big.updateCode!({ paddingBytes: 100_000 })
      const code = lastCodeUpdate()
      expect(code.ZipFile).toBeUndefined()
      expect(code.S3Bucket).toMatch(/^sebs-benchmarks-[0-9a-f]{8}$/)
      expect(code.S3Key).toMatch(new RegExp(`^sebs-code/901\\.echo/python-x64/${pkg.hash}-padding-100000-[0-9a-f]{8}\\.zip$`))
      const lambda = fake.functions.get(fn.handle.name)!
      expect((await stat(join(lambda.codeDir, CODE_PADDING_FILE))).size).toBe(100_000)
      const client = new S3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: s3.accessKey, secretAccessKey: s3.secretKey } })
      try {
        await expect(client.send(new GetObjectCommand({ Bucket: code.S3Bucket, Key: code.S3Key }))).rejects.toMatchObject({ name: 'NoSuchKey' })
      } finally {
        client.destroy()
      }
      expect(isCold(await big.invoke({ message: 'h' }))).toBe(true)
      // Restoring sends the deployed zip under its own key (as the deploy would), which stays.
      await big.updateCode!({ paddingBytes: 0 })
      expect(lastCodeUpdate().S3Key).toBe(`sebs-code/901.echo/python-x64/${pkg.hash}.zip`)
    } finally {
      await big.close?.()
    }
  })

  it('leaves no padded zip on disk', async () => {
    const tmp = join(work, 'state', 'tmp', 'aws')
    expect(existsSync(tmp) ? await readdir(tmp) : []).toEqual([])
  })

  it('refuses bad sizes and handles without a package, naming the provider', async () => {
    await expect(worker.updateCode!({ paddingBytes: -1 })).rejects.toThrow(/\[aws\] code padding/)
    const { packagePath: _p, ...data } = fn.handle.data
    const old = makeProvider('code-run').connect({ ...structuredClone(fn.handle), data })
    await expect(old.updateCode!({ paddingBytes: 10 })).rejects.toMatchObject({ code: 'NOT_SUPPORTED', message: expect.stringMatching(/^\[aws\] Cannot change the code package/) })
    await old.close?.()
  })
})
