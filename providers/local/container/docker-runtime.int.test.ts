/**
 * The local provider's docker runtime for real (a Docker engine from
 * scripts/docker-setup.sh, the offline base images from `sebs docker base`):
 * cold vs warm containers, the memory limit enforced and recorded, timeouts
 * kill the container, cleanup and sweep leave no containers, and the errors
 * for a missing image. Skipped, with the reason printed, when no engine
 * answers.
 */
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLogger } from '../../../core/logger.ts'
import type { InvocationRecord, Language } from '../../../core/types.ts'
import { measureInvocation } from '../../../engine/measure.ts'
import { loadFixtureBenchmark } from '../../../test/support/conformance/fixtures.ts'
import { createDockerClient, isNotFound } from '../../docker/client.ts'
import { LABEL_FUNCTION, LABEL_KIND, LABEL_RUN_ID } from '../../docker/labels.ts'
import { dockerForTests, dockerSuiteTitle, ensureBaseImage } from '../../../test/support/docker.ts'
import type { CodePackage, InvokeResult } from '../../types.ts'
import type { LocalFunction } from '../local-function.ts'
import { LocalProvider } from '../local-provider.ts'
import { listSuiteContainers } from './docker-sweep.ts'
import { testBuildContext } from '../../../test/support/build-context.ts'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')
const logger = createLogger('sebs', { quiet: true })
const buildContext = testBuildContext(logger)
const runId = `test-docker-${randomBytes(4).toString('hex')}`
const arch = process.arch === 'arm64' ? 'arm64' : 'x64'

const available = await dockerForTests('providers/local/container/docker-runtime.int.test.ts')

let stateDir: string
let provider: LocalProvider | undefined

async function sharedProvider(): Promise<LocalProvider> {
  if (!provider) {
    stateDir = await mkdtemp(join(tmpdir(), 'sebs-docker-test-'))
    provider = new LocalProvider({ runId, cacheDir: stateDir, logger, options: { runtime: 'docker', docker: { cpus: 1 } } })
  }
  return provider
}

async function packageEcho(language: Language): Promise<CodePackage> {
  const benchmark = await loadFixtureBenchmark('901.echo')
  return (await sharedProvider()).package({ benchmark, language, arch }, buildContext)
}

async function deployEcho(language: Language, options: { memory?: number; timeout?: number; runId?: string } = {}): Promise<LocalFunction> {
  const pkg = await packageEcho(language)
  return (await (await sharedProvider()).deploy(pkg, {
    runId: options.runId ?? runId,
    memory: options.memory ?? 128,
    timeout: options.timeout ?? 2,
    trigger: 'http',
    env: {},
  })) as LocalFunction
}

function ok(result: InvokeResult): Extract<InvokeResult, { state: 'ok' }> {
  if (result.state !== 'ok') throw new Error(`expected ok, got ${result.state}: ${'error' in result ? result.error : ''}`)
  return result
}

/** Labelled containers of this test run, running or stopped. */
async function runContainers(id = runId): Promise<string[]> {
  return (await listSuiteContainers(createDockerClient(), { runId: id })).map((c) => c.Id)
}

async function containerState(id: string): Promise<'running' | 'stopped' | 'gone'> {
  try {
    const info = await createDockerClient().getContainer(id).inspect()
    return info.State?.Running ? 'running' : 'stopped'
  } catch (err) {
    if (isNotFound(err)) return 'gone'
    throw err
  }
}

describe.skipIf(!available.ok)(dockerSuiteTitle('docker runtime', available), () => {
  beforeAll(async () => {
    // Cached by content hash: only the first run on a machine builds.
    await Promise.all([ensureBaseImage('python'), ensureBaseImage('nodejs')])
  }, 300_000)

  afterAll(async () => {
    await provider?.close()
    if (provider) await provider.sweep({ runId, dryRun: false })
    // Cleanup leaves no container of this run behind.
    expect(await runContainers()).toEqual([])
    if (stateDir) await rm(stateDir, { recursive: true, force: true })
  }, 60_000)

  describe.each(['python', 'nodejs'] as const)('%s', (language) => {
    let fn: LocalFunction

    beforeAll(async () => {
      fn = await deployEcho(language)
    }, 600_000)

    afterAll(async () => {
      await fn?.delete()
    }, 60_000)

    it('deploys into the offline base image; the handle names it', () => {
      expect(fn.handle.data).toMatchObject({ runtime: 'docker', docker: { imageSource: 'base', cpus: 1 } })
      expect(String((fn.handle.data.docker as { image: string }).image)).toMatch(/^sebs-base:(python|node)\d/)
      expect(structuredClone(fn.handle)).toEqual(fn.handle)
    })

    it('cold = a new container with the memory and CPU limits; warm = the same container, much faster', async () => {
      await fn.forceColdStart()
      const cold = ok(await fn.invoke({ message: 'cold' }))
      const warm = ok(await fn.invoke({ message: 'warm' }))
      expect(cold.envelope.isCold).toBe(true)
      expect(warm.envelope.isCold).toBe(false)
      expect(warm.envelope.containerId).toBe(cold.envelope.containerId)
      // Starting a container is part of the cold start: measured in the same run, warm is far cheaper.
      expect(cold.initTimeUs).toBeGreaterThan(0)
      expect(warm.initTimeUs).toBeUndefined()
      expect(cold.clientTimeUs).toBeGreaterThan(warm.clientTimeUs * 3)
      for (const r of [cold, warm]) {
        expect(r.memoryEnforced).toBe(true)
        expect(r.memoryUsedMb).toBeGreaterThan(0)
        expect(r.memoryUsedMb).toBeLessThanOrEqual(128)
      }

      const [instance] = fn.instances()
      expect(instance?.containerId).toMatch(/^[0-9a-f]{64}$/)
      const info = await createDockerClient().getContainer(instance!.containerId!).inspect()
      expect(info.HostConfig.Memory).toBe(128 * 1024 * 1024)
      expect(info.HostConfig.MemorySwap).toBe(128 * 1024 * 1024)
      expect(info.HostConfig.NanoCpus).toBe(1e9)
      expect(info.HostConfig.NetworkMode).toBe('host')
      expect(info.HostConfig.ReadonlyRootfs).toBe(true)
      expect(info.Config.Labels).toMatchObject({ [LABEL_RUN_ID]: runId, [LABEL_FUNCTION]: fn.handle.name, [LABEL_KIND]: 'function-instance' })
    })

    it('peak memory follows what the invocation allocated', async () => {
      const small = ok(await fn.invoke({ message: 'small' }))
      const big = ok(await fn.invoke({ allocate_mb: 48 }))
      expect((big.envelope.measurement as { allocated_bytes: number }).allocated_bytes).toBe(48 * 1024 * 1024)
      expect(big.memoryUsedMb! - small.memoryUsedMb!).toBeGreaterThanOrEqual(40)
    })

    it('allocating past the limit fails as out of memory, is recorded as such, and the next call gets a new container', async () => {
      const before = ok(await fn.invoke({ message: 'before' }))
      const dir = await mkdtemp(join(tmpdir(), 'sebs-docker-records-'))
      try {
        const recordsFile = join(dir, 'invocations.jsonl')
        const record = await measureInvocation(
          fn,
          { allocate_mb: 256 },
          { runId, recordsFile, benchmark: '901.echo', language, size: 'test', provider: 'local', memory: 128, trigger: 'http', dataDir: dir },
          { phase: 'warm', repetition: 0 },
        )
        expect(record.state).toBe('error')
        expect(record.state === 'error' && record.error).toMatch(/out of memory/i)
        expect(record.state === 'error' && record.error).toContain('128 MB')
        expect(record.memoryEnforced).toBe(true)
        const written = (await readFile(recordsFile, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as InvocationRecord)
        expect(written).toHaveLength(1)
        expect(written[0]).toMatchObject({ state: 'error', memoryEnforced: true, memory: 128 })
      } finally {
        await rm(dir, { recursive: true, force: true })
      }
      const next = ok(await fn.invoke({ message: 'after' }))
      expect(next.envelope.isCold).toBe(true)
      expect(next.envelope.containerId).not.toBe(before.envelope.containerId)
    })

    it('a timeout kills the container', async () => {
      ok(await fn.invoke({ message: 'warm up' }))
      const [instance] = fn.instances()
      const timedOut = await fn.invoke({ sleep_ms: 6000 })
      expect(timedOut.state).toBe('timeout')
      expect(timedOut.clientTimeUs).toBeLessThan(5_500_000)
      await expect.poll(() => containerState(instance!.containerId!), { timeout: 10_000 }).toBe('gone')
      const next = ok(await fn.invoke({ message: 'after timeout' }))
      expect(next.envelope.isCold).toBe(true)
    }, 30_000)

    it('an instance that exits is an error with its exit code and stderr', async () => {
      const crashed = await fn.invoke({ exit_code: 3 })
      expect(crashed.state).toBe('error')
      expect(crashed.state === 'error' && crashed.error).toMatch(/^instance exited with code 3: /)
      expect(crashed.state === 'error' && crashed.error).toContain('901.echo: exiting with code 3 as asked')
    })

    it('a memory update gives new containers with the new limit', async () => {
      ok(await fn.invoke({ message: 'at 128' }))
      await fn.update({ memory: 256 })
      const after = ok(await fn.invoke({ allocate_mb: 160 }))
      expect(after.envelope.isCold).toBe(true)
      const [instance] = fn.instances()
      const info = await createDockerClient().getContainer(instance!.containerId!).inspect()
      expect(info.HostConfig.Memory).toBe(256 * 1024 * 1024)
      await fn.update({ memory: 128 })
    })
  })

  describe('cleanup', () => {
    it("delete() removes the function's containers, also those another pool (a bench worker) started", async () => {
      const fn = await deployEcho('nodejs', { runId })
      const other = (await sharedProvider()).connect(structuredClone(fn.handle))
      ok(await fn.invoke({ message: 'a' }))
      ok(await other.invoke({ message: 'b' }))
      const ids = [...fn.instances(), ...(other as LocalFunction).instances()].map((i) => i.containerId!)
      expect(new Set(ids).size).toBe(2)
      const labelled = (await listSuiteContainers(createDockerClient(), { runId, functionName: fn.handle.name })).map((c) => c.Id)
      expect(labelled.sort()).toEqual([...ids].sort())
      await fn.delete()
      for (const id of ids) expect(await containerState(id)).toBe('gone')
      await other.close?.()
    })

    it('a killed harness leaves a container that stops by itself (stdin lifeline) and sweep removes it', async () => {
      const sweepRun = `${runId}-crash`
      const fn = await deployEcho('python', { runId: sweepRun })
      const child = spawn(process.execPath, [join(ROOT, 'bin', 'run-ts.mjs'), join(ROOT, 'providers/local/container/__fixtures__/hold-instance.ts')], {
        env: { ...process.env, SEBS_TEST_HANDLE: JSON.stringify(fn.handle) },
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      let stderr = ''
      child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()))
      const containerId = await new Promise<string>((resolvePromise, reject) => {
        let out = ''
        const timer = setTimeout(() => reject(new Error(`helper did not report a container within 60 s: ${stderr}`)), 60_000)
        child.stdout!.on('data', (c: Buffer) => {
          out += c.toString()
          const m = /CONTAINER ([0-9a-f]{64})/.exec(out)
          if (m) {
            clearTimeout(timer)
            resolvePromise(m[1]!)
          }
        })
        child.on('exit', (code) => {
          clearTimeout(timer)
          reject(new Error(`helper exited with ${code}: ${stderr}`))
        })
      })
      expect(await containerState(containerId)).toBe('running')
      child.kill('SIGKILL')
      // The attach connection closes with the process; the server sees EOF on stdin and exits.
      await expect.poll(() => containerState(containerId), { timeout: 15_000, interval: 200 }).toBe('stopped')

      const dry = await (await sharedProvider()).sweep({ runId: sweepRun, dryRun: true })
      expect(dry.filter((r) => r.kind === 'container')).toEqual([
        expect.objectContaining({ runId: sweepRun, removed: false, id: expect.stringContaining(containerId.slice(0, 12)) }),
      ])
      const swept = await (await sharedProvider()).sweep({ runId: sweepRun, dryRun: false })
      expect(swept.filter((r) => r.kind === 'container' && r.removed)).toHaveLength(1)
      expect(await containerState(containerId)).toBe('gone')
      expect(await runContainers(sweepRun)).toEqual([])
    }, 120_000)
  })

  describe('errors', () => {
    it('a configured image that does not exist: deploy says how to get one, mentioning `npx sebs docker base`', async () => {
      const missing = `sebs-test-missing-${randomBytes(3).toString('hex')}:none`
      const p = new LocalProvider({ runId, cacheDir: stateDir ?? tmpdir(), logger, options: { runtime: 'docker', docker: { images: { python: missing }, pull: false } } })
      const pkg = await packageEcho('python')
      const err = await p.deploy(pkg, { runId, memory: 128, timeout: 2, trigger: 'http', env: {} }).catch((e: unknown) => e)
      expect(err).toMatchObject({ code: 'DEPLOY_FAILED' })
      expect(String((err as Error).message)).toContain(missing)
      expect(String((err as Error).message)).toContain('npx sebs docker base')
      await p.close()
    })

    it('no base image for the interpreter: deploy names the image and the exact `npx sebs docker base` command', async () => {
      // Debian's own python3 (not the one the base image was built from) has no base image.
      if (!existsSync('/usr/bin/python3')) return
      const p = new LocalProvider({
        runId,
        cacheDir: stateDir ?? tmpdir(),
        logger,
        options: { runtime: 'docker', runtimes: { python: '/usr/bin/python3' }, docker: { pull: false } },
      })
      const benchmark = await loadFixtureBenchmark('901.echo')
      const pkg = await p.package({ benchmark, language: 'python', arch }, { ...buildContext, runtimes: { python: '/usr/bin/python3', node: process.execPath } })
      const err = await p.deploy(pkg, { runId, memory: 128, timeout: 2, trigger: 'http', env: {} }).catch((e: unknown) => e)
      expect(err).toMatchObject({ code: 'DEPLOY_FAILED' })
      expect(String((err as Error).message)).toMatch(/offline base image sebs-base:python3\.\d+\.\d+-[0-9a-f]{12}/)
      expect(String((err as Error).message)).toContain('npx sebs docker base --language python --python /usr/bin/python3')
      await p.close()
    })

    it('an image removed after the deploy: the invocation error says how to build it', async () => {
      const docker = createDockerClient()
      const base = await ensureBaseImage('nodejs')
      const repo = `sebs-test-temp-${randomBytes(3).toString('hex')}`
      await docker.getImage(base).tag({ repo, tag: 'latest' })
      const p = new LocalProvider({ runId, cacheDir: stateDir ?? tmpdir(), logger, options: { runtime: 'docker', docker: { images: { nodejs: `${repo}:latest` } } } })
      const pkg = await packageEcho('nodejs')
      const fn = await p.deploy(pkg, { runId, memory: 128, timeout: 2, trigger: 'http', env: {} })
      await docker.getImage(`${repo}:latest`).remove()
      const result = await fn.invoke({ message: 'no image' })
      expect(result.state).toBe('error')
      expect(result.state === 'error' && result.error).toContain(`${repo}:latest`)
      expect(result.state === 'error' && result.error).toContain('npx sebs docker base')
      await fn.delete()
      await p.close()
    })
  })
})
