/**
 * One contract for both local runtimes (test process): the same checks run
 * on a process instance (instance.ts) and a container instance
 * (container/docker-instance.ts), each started for real from a deployed
 * 901.echo package by start-instance.ts and used only through the
 * FunctionInstance interface.
 * The container half is skipped, with the reason printed, when no Docker
 * engine answers.
 */
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createLogger } from '../../core/logger.ts'
import { loadFixtureBenchmark } from '../../test/support/conformance/fixtures.ts'
import { dockerForTests, dockerSuiteTitle, ensureBaseImage } from '../../test/support/docker.ts'
import { createDockerClient } from '../docker/client.ts'
import { listSuiteContainers } from './container/docker-sweep.ts'
import { formatExit, type FunctionInstance, type InstanceInvocation } from './function-instance.ts'
import { localHandleData } from './local-function.ts'
import { LocalProvider } from './local-provider.ts'
import { startInstance } from './start-instance.ts'
import { testBuildContext } from '../../test/support/build-context.ts'

const logger = createLogger('sebs', { quiet: true })
const buildContext = testBuildContext(logger)
const runId = `test-instance-${randomBytes(4).toString('hex')}`
const arch = process.arch === 'arm64' ? 'arm64' : 'x64'
const MEMORY_MB = 128

const available = await dockerForTests('providers/local/function-instance.int.test.ts')

interface Runtime {
  /** Starts one instance of the deployed echo function. */
  start(memoryMb?: number): Promise<FunctionInstance>
  provider: LocalProvider
}

/** Deploys 901.echo (python) with `runtime` and returns how to start instances of it directly. */
async function deployRuntime(runtime: 'process' | 'docker', stateDir: string): Promise<Runtime> {
  const provider = new LocalProvider({ runId, cacheDir: stateDir, logger, options: { runtime } })
  const benchmark = await loadFixtureBenchmark('901.echo')
  const pkg = await provider.package({ benchmark, language: 'python', arch }, buildContext)
  const fn = await provider.deploy(pkg, { runId, memory: MEMORY_MB, timeout: 5, trigger: 'http', env: {} })
  const data = localHandleData(fn.handle)
  const common = {
    runId,
    functionName: fn.handle.name,
    language: data.language,
    packageDir: data.packageDir,
    env: data.env,
    startTimeoutMs: 30_000,
    logger,
  }
  return {
    provider,
    start: (memoryMb = MEMORY_MB) =>
      startInstance(
        { ...common, memoryMb },
        runtime === 'docker' ? { runtime, docker: data.docker! } : { runtime, runtimes: data.runtimes, cacheDir: data.cacheDir },
      ),
  }
}

function defineInstanceContract(runtime: 'process' | 'docker'): void {
  let stateDir = ''
  let deployed: Runtime
  const started: FunctionInstance[] = []
  const start = async (memoryMb?: number): Promise<FunctionInstance> => {
    const instance = await deployed.start(memoryMb)
    started.push(instance)
    return instance
  }
  const invoke = (instance: FunctionInstance, event: Record<string, unknown>, timeoutMs = 5000): Promise<InstanceInvocation> =>
    instance.invoke(JSON.stringify(event), randomBytes(8).toString('hex'), timeoutMs)

  beforeAll(async () => {
    if (runtime === 'docker') await ensureBaseImage('python')
    stateDir = await mkdtemp(join(tmpdir(), `sebs-instance-${runtime}-`))
    deployed = await deployRuntime(runtime, stateDir)
  }, 600_000)

  afterEach(async () => {
    await Promise.all(started.splice(0).map((instance) => instance.stop(500)))
  }, 30_000)

  afterAll(async () => {
    await deployed?.provider.close()
    if (deployed) {
      const left = await deployed.provider.sweep({ runId, dryRun: false })
      expect(left.filter((r) => r.kind === 'process')).toEqual([])
    }
    if (runtime === 'docker' && available.ok) expect(await listSuiteContainers(createDockerClient(), { runId })).toEqual([])
    if (stateDir) await rm(stateDir, { recursive: true, force: true })
  }, 60_000)

  it('starts ready, says what it is, and answers warm requests', async () => {
    const instance = await start()
    expect(instance.usable && instance.alive).toBe(true)
    expect(instance.exitStatus).toBeUndefined()
    expect(instance.id).toMatch(/^[0-9a-f]{8}$/)
    expect(instance.pid).toBeGreaterThan(1)
    expect(instance.startupUs).toBeGreaterThan(0)
    if (runtime === 'docker') expect(instance.tmpDir).toBe('/tmp')
    else expect(instance.tmpDir).toContain(instance.id)
    if (runtime === 'docker') expect(instance.containerId).toMatch(/^[0-9a-f]{64}$/)
    else expect(instance.containerId).toBeUndefined()

    const cold = await invoke(instance, { message: 'one' })
    const warm = await invoke(instance, { message: 'two' })
    if (cold.kind !== 'ok' || warm.kind !== 'ok') throw new Error(`expected ok, got ${cold.kind}, ${warm.kind}`)
    expect(warm.envelope.result).toMatchObject({ echo: { message: 'two' } })
    expect([cold.envelope.isCold, warm.envelope.isCold]).toEqual([true, false])
    expect(warm.envelope.containerId).toBe(cold.envelope.containerId)
  })

  it('reports memory: a process its own peak RSS, a container its peak per invocation', async () => {
    const instance = await start()
    const response = await invoke(instance, { allocate_mb: 32 })
    expect(response.kind).toBe('ok')
    if (runtime === 'docker') {
      expect(instance.ownPeakRssKb()).toBeUndefined()
      expect(response.memoryUsedMb).toBeGreaterThanOrEqual(32)
      expect(response.memoryUsedMb).toBeLessThanOrEqual(MEMORY_MB)
    } else {
      expect(response.memoryUsedMb).toBeUndefined()
      expect(instance.ownPeakRssKb()).toBeGreaterThanOrEqual(32 * 1024)
    }
    // A container is always under a hard limit; a process as limits.ts could apply one on this machine.
    if (runtime === 'docker') expect(instance.memoryEnforced).toBe(true)
    else expect(typeof instance.memoryEnforced).toBe('boolean')
  })

  it('an exit mid-request is an exited response with the code and stderr; the instance ends and says how', async () => {
    const instance = await start()
    const response = await invoke(instance, { exit_code: 3 })
    expect(response).toMatchObject({ kind: 'exited', code: 3, signal: null })
    expect(response.kind === 'exited' && response.stderrTail).toContain('901.echo: exiting with code 3 as asked')
    await expect.poll(() => instance.alive, { timeout: 10_000 }).toBe(false)
    expect(instance.usable).toBe(false)
    expect(instance.exitStatus).toMatchObject({ code: 3, signal: null })
    expect(formatExit(instance.exitStatus!)).toBe('exited with code 3')
    // A request to an ended instance is answered at once with how it ended.
    expect(await invoke(instance, { message: 'after' })).toMatchObject({ kind: 'exited', code: 3 })
    expect(instance.ownPeakRssKb()).toBeUndefined()
  })

  it('a request that overruns its timeout kills the instance', async () => {
    const instance = await start()
    const response = await invoke(instance, { sleep_ms: 5000 }, 300)
    expect(response.kind).toBe('timeout')
    expect(instance.usable).toBe(false)
    await expect.poll(() => instance.alive, { timeout: 10_000 }).toBe(false)
    expect(instance.exitStatus?.signal).toBe('SIGKILL')
    expect(formatExit(instance.exitStatus!)).toBe('was killed by SIGKILL')
  }, 30_000)

  it('stop ends a live instance and resolves once it is gone; kill of an ended one is harmless', async () => {
    const instance = await start()
    await instance.stop(500)
    expect(instance.alive).toBe(false)
    expect(instance.usable).toBe(false)
    expect(instance.exitStatus).toBeDefined()
    instance.kill()
    expect(await invoke(instance, { message: 'after stop' })).toMatchObject({ kind: 'exited' })
  })

  // A process instance is OOM-killed only where limits.ts gets a cgroup (limits.int.test.ts covers that).
  if (runtime === 'docker') it('an OOM kill is in the exit status and in its wording', async () => {
    const instance = await start(64)
    const response = await invoke(instance, { allocate_mb: 256 })
    expect(response.kind === 'failed' && response.message).toMatch(/^out of memory: the function exceeded its 64 MB memory limit/)
    await expect.poll(() => instance.alive, { timeout: 10_000 }).toBe(false)
    expect(instance.exitStatus).toMatchObject({ oomKilled: true })
    expect(formatExit(instance.exitStatus!, 64)).toMatch(/^was killed by SIGKILL \(out of memory: over its 64 MB limit, OOMKilled\)$/)
  }, 30_000)
}

describe('FunctionInstance contract: process runtime', () => {
  defineInstanceContract('process')
})

describe.skipIf(!available.ok)(dockerSuiteTitle('FunctionInstance contract: docker runtime', available), () => {
  defineInstanceContract('docker')
})
