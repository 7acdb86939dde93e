/**
 * The provider conformance suite (CONVENTIONS.md §3): the same behavioural
 * tests for every provider: `local` runs them for real, cloud providers
 * against their mocks. The expectations are about what the harness can
 * observe through the Provider interface (states, envelopes, containers,
 * storage), never about a provider's internals.
 *
 * Usage, in a `*.test.ts` / `*.int.test.ts`:
 *
 *     defineProviderConformance('local', async () => ({ provider, buildContext, teardown }))
 */
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { BenchmarkInputModule } from '../../../core/benchmark-input.ts'
import { LANGUAGES, type Language } from '../../../core/types.ts'
import type { BuildContext, CodePackage, DeployedFunction, InvokeResult, ObjectStorage, Provider } from '../../../providers/types.ts'
import { loadFixtureBenchmark } from './fixtures.ts'

export { FIXTURE_BENCHMARKS_DIR, loadFixtureBenchmark } from './fixtures.ts'

export interface ConformanceTarget {
  provider: Provider
  buildContext: BuildContext
  /** Tag for every deployed function (default: a fresh `conformance-…` id). */
  runId?: string
  /** Extra environment for every deployed function. */
  deployEnv?: Record<string, string>
  /**
   * Optional provider-specific probe: called with a function that has run at
   * least once, it returns a counter of how many of that function's
   * instances (processes, sandboxes) are still alive. The suite checks that
   * the count drops to 0 after delete().
   */
  watchInstances?(fn: DeployedFunction): Promise<() => Promise<number>>
  teardown(): Promise<void>
}

export interface ConformanceOptions {
  /** Languages to check (default: all). */
  languages?: readonly Language[]
  /** Run the object-storage round trip with 902.storage-echo (default true). */
  storage?: boolean
  /**
   * Run the NoSQL round trip with 903.nosql-echo (default false). The suite
   * creates the tables before deploying, so the deployed function must be
   * able to reach tables that exist at deploy time.
   */
  nosql?: boolean
  /** Timeout for packaging + deploying a fixture (first builds install dependencies). */
  deployTimeoutMs?: number
}

const ECHO = '901.echo'
const STORAGE_ECHO = '902.storage-echo'
const NOSQL_ECHO = '903.nosql-echo'
const SHARED_ECHO = '904.shared-echo'

function expectOk(result: InvokeResult): asserts result is Extract<InvokeResult, { state: 'ok' }> {
  if (result.state !== 'ok') {
    throw new Error(`expected state 'ok', got '${result.state}': ${'error' in result ? result.error : ''}`)
  }
}

function echoOf(result: Extract<InvokeResult, { state: 'ok' }>): Record<string, unknown> {
  return (result.envelope.result as { echo: Record<string, unknown> }).echo
}

/** Registers the conformance tests for one provider. */
export function defineProviderConformance(
  name: string,
  setup: () => Promise<ConformanceTarget>,
  options: ConformanceOptions = {},
): void {
  const languages = options.languages ?? LANGUAGES
  const deployTimeoutMs = options.deployTimeoutMs ?? 600_000

  describe(`provider conformance: ${name}`, () => {
    let target: ConformanceTarget
    let runId: string

    beforeAll(async () => {
      target = await setup()
      runId = target.runId ?? `conformance-${randomBytes(4).toString('hex')}`
    }, deployTimeoutMs)

    afterAll(async () => {
      await target?.teardown()
    }, 60_000)

    async function packageAndDeploy(id: string, language: Language): Promise<{ pkg: CodePackage; fn: DeployedFunction }> {
      const benchmark = await loadFixtureBenchmark(id)
      const pkg = await target.provider.package({ benchmark, language, arch: hostArch() }, target.buildContext)
      const fn = await target.provider.deploy(pkg, {
        runId,
        memory: benchmark.config.memory,
        timeout: benchmark.config.timeout,
        trigger: 'http',
        env: { ...(target.deployEnv ?? {}) },
      })
      return { pkg, fn }
    }

    for (const language of languages) {
      describe(`${ECHO} (${language})`, () => {
        let pkg: CodePackage
        let fn: DeployedFunction | undefined
        let deleted = false

        beforeAll(async () => {
          ;({ pkg, fn } = await packageAndDeploy(ECHO, language))
        }, deployTimeoutMs)

        afterAll(async () => {
          if (fn && !deleted) await fn.delete()
        }, 60_000)

        it('packages the fixture, and a second package() of unchanged sources comes from the cache', async () => {
          expect(pkg).toMatchObject({ benchmark: ECHO, language, provider: target.provider.name })
          expect(pkg.sizeBytes).toBeGreaterThan(0)
          expect(pkg.hash).toMatch(/\S/)
          const again = await target.provider.package(
            { benchmark: await loadFixtureBenchmark(ECHO), language, arch: hostArch() },
            target.buildContext,
          )
          expect(again).toMatchObject({ hash: pkg.hash, path: pkg.path, cached: true })
          expect(fn!.handle).toMatchObject({ benchmark: ECHO, language, runId, timeout: 2, memory: 128 })
          // The handle crosses to bench workers: it must survive structured cloning.
          expect(structuredClone(fn!.handle)).toEqual(fn!.handle)
        })

        it('the first invocation is cold; the next one is warm in the same container', async () => {
          const first = await fn!.invoke({ message: 'hello' })
          expectOk(first)
          expect(first.envelope.isCold).toBe(true)
          expect(echoOf(first).message).toBe('hello')
          expect(first.envelope.containerId).toMatch(/\S/)
          expect(first.envelope.requestId).toMatch(/\S/)
          expect(first.envelope.end).toBeGreaterThanOrEqual(first.envelope.begin)
          expect(first.envelope.computeTimeUs).toBeGreaterThanOrEqual(0)
          expect(first.clientTimeUs).toBeGreaterThan(0)

          const second = await fn!.invoke({ message: 'again' })
          expectOk(second)
          expect(second.envelope.isCold).toBe(false)
          expect(second.envelope.containerId).toBe(first.envelope.containerId)
          expect(echoOf(second).message).toBe('again')
          expect(second.envelope.requestId).not.toBe(first.envelope.requestId)
        })

        it('forceColdStart() makes the next invocation cold, in a new container', async () => {
          const before = await fn!.invoke({ message: 'before' })
          expectOk(before)
          await fn!.forceColdStart()
          const after = await fn!.invoke({ message: 'after' })
          expectOk(after)
          expect(after.envelope.isCold).toBe(true)
          expect(after.envelope.containerId).not.toBe(before.envelope.containerId)
          const warm = await fn!.invoke({ message: 'warm' })
          expectOk(warm)
          expect(warm.envelope.isCold).toBe(false)
        })

        it('a throwing handler is an error with its message, and the function keeps working', async () => {
          const failed = await fn!.invoke({ fail: 'deliberate failure' })
          expect(failed.state).toBe('error')
          expect(failed.state === 'error' && failed.error).toContain('deliberate failure')
          if (failed.state === 'error' && failed.envelope) expect(failed.envelope.result).toBeNull()
          const next = await fn!.invoke({ message: 'still here' })
          expectOk(next)
          expect(echoOf(next).message).toBe('still here')
        })

        it('an invocation past the timeout is a timeout; the next invocation works in a new container', async () => {
          const timedOut = await fn!.invoke({ sleep_ms: 6000 })
          expect(timedOut.state).toBe('timeout')
          expect(timedOut.state === 'timeout' && timedOut.error).toMatch(/timeout/i)
          // Reported near the 2 s limit, not after the function's 6 s sleep.
          expect(timedOut.clientTimeUs).toBeGreaterThanOrEqual(1_800_000)
          expect(timedOut.clientTimeUs).toBeLessThan(5_500_000)
          const next = await fn!.invoke({ message: 'after timeout' })
          expectOk(next)
          expect(next.envelope.isCold).toBe(true)
          expect(echoOf(next).message).toBe('after timeout')
        }, 30_000)

        it('delete() leaves nothing of the function running', async () => {
          const warm = await fn!.invoke({ message: 'last' })
          expectOk(warm)
          const count = target.watchInstances ? await target.watchInstances(fn!) : undefined
          if (count) expect(await count()).toBeGreaterThan(0)
          const name = fn!.handle.name
          await fn!.delete()
          deleted = true
          if (count) expect(await count()).toBe(0)
          const leftovers = await target.provider.sweep({ runId, dryRun: true })
          expect(leftovers.filter((r) => r.id.includes(name))).toEqual([])
        })
      })

      if (options.storage !== false) {
        describe(`${STORAGE_ECHO} (${language})`, () => {
          let fn: DeployedFunction | undefined
          let storage: ObjectStorage
          let dataDir: string

          beforeAll(async () => {
            storage = await target.provider.storage()
            ;({ fn } = await packageAndDeploy(STORAGE_ECHO, language))
            dataDir = await mkdtemp(join(tmpdir(), 'sebs-conformance-'))
          }, deployTimeoutMs)

          afterAll(async () => {
            await fn?.delete()
            if (dataDir) await rm(dataDir, { recursive: true, force: true })
          }, 60_000)

          it('round trip: the harness uploads, the function downloads and uploads, the harness reads it back', async () => {
            const benchmark = await loadFixtureBenchmark(STORAGE_ECHO)
            const input = (await import(benchmark.input.path)) as BenchmarkInputModule
            const bucket = storage.connection.bucket
            // A fresh prefix per test run: the store may be persistent.
            const tag = `${runId}-${language}-${randomBytes(3).toString('hex')}`
            const inputPrefixes = [`${STORAGE_ECHO}-0-input/${tag}`]
            const outputPrefixes = [`${STORAGE_ECHO}-0-output/${tag}`]
            const event = await input.generateInput({
              dataDir,
              size: 'test',
              bucket,
              inputPrefixes,
              outputPrefixes,
              upload: async (index, key, file) => {
                const objectKey = `${inputPrefixes[index]}/${key}`
                await storage.upload(bucket, objectKey, file)
                return objectKey
              },
            })
            const result = await fn!.invoke(event)
            expectOk(result)
            const output = result.envelope.result as { bucket: string; key: string; size: number }
            expect(output.key.startsWith(outputPrefixes[0]!)).toBe(true)
            expect(await storage.stat(bucket, output.key)).toMatchObject({ size: output.size })
            const problem = await input.validateOutput!({
              dataDir,
              size: 'test',
              language,
              input: event,
              output,
              download: (b, k) => storage.download(b, k),
            })
            expect(problem).toBeUndefined()
            await storage.removePrefix(bucket, inputPrefixes[0]!)
            await storage.removePrefix(bucket, outputPrefixes[0]!)
          }, 60_000)
        })
      }

      if (options.nosql) {
        describe(`${NOSQL_ECHO} (${language})`, () => {
          let fn: DeployedFunction | undefined
          let event: Record<string, unknown>
          let input: BenchmarkInputModule

          beforeAll(async () => {
            const provider = target.provider
            if (!provider.nosql) throw new Error(`provider '${provider.name}' has no nosql(); disable the nosql conformance check`)
            const nosql = await provider.nosql()
            const benchmark = await loadFixtureBenchmark(NOSQL_ECHO)
            input = (await import(benchmark.input.path)) as BenchmarkInputModule
            for (const [table, spec] of Object.entries(input.allocateNosql!())) {
              await nosql.createTable(NOSQL_ECHO, table, spec.primaryKey, spec.secondaryKey)
            }
            event = await input.generateInput({
              dataDir: tmpdir(),
              size: 'test',
              bucket: '',
              inputPrefixes: [],
              outputPrefixes: [],
              upload: () => Promise.reject(new Error('903.nosql-echo uploads nothing')),
              nosql: (table, data, primaryKey, secondaryKey) => nosql.insert(table, primaryKey, secondaryKey, data),
            })
            ;({ fn } = await packageAndDeploy(NOSQL_ECHO, language))
          }, deployTimeoutMs)

          afterAll(async () => {
            await fn?.delete()
          }, 60_000)

          it('round trip: the harness inserts, the function reads it, writes an item and reads that back', async () => {
            const result = await fn!.invoke(event)
            expectOk(result)
            const problem = await input.validateOutput!({
              dataDir: tmpdir(),
              size: 'test',
              language,
              input: event,
              output: result.envelope.result,
            })
            expect(problem).toBeUndefined()
          }, 60_000)
        })
      }

      describe(`${SHARED_ECHO} (${language})`, () => {
        let fn: DeployedFunction | undefined

        beforeAll(async () => {
          ;({ fn } = await packageAndDeploy(SHARED_ECHO, language))
        }, deployTimeoutMs)

        afterAll(async () => {
          await fn?.delete()
        }, 60_000)

        it("the package carries the benchmark's shared folders (config.json `shared`): the function imports them", async () => {
          const result = await fn!.invoke({ message: 'hello' })
          expectOk(result)
          // Values defined in ../_shared/<language>/ (a top-level file and one in a subfolder).
          expect(result.envelope.result).toMatchObject({ echo: { message: 'hello' }, greeting: `hello from _shared/${language}`, nested: `nested ${language}` })
        }, 60_000)
      })
    }
  })
}

function hostArch(): 'x64' | 'arm64' {
  return process.arch === 'arm64' ? 'arm64' : 'x64'
}
