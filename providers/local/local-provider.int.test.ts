/**
 * The local provider for real: the conformance suite, then what only the
 * local provider promises (crash reports, burst, eviction, the lifeline,
 * sweeping a crashed run's processes).
 *
 * Packages are built into `<repo>/.sebs-cache/test` so pip/npm installs are
 * reused between runs; instances and the embedded s3rver live in a fresh
 * temp dir per run of this file.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, isAbsolute, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLogger } from '../../core/logger.ts'
import type { Language } from '../../core/types.ts'
import { defineProviderConformance, loadFixtureBenchmark } from '../../test/support/conformance/conformance.ts'
import type { DeployedFunction, InvokeResult, Provider, ProviderContext } from '../types.ts'
import { connectFunction } from '../registry.ts'
import { createLocalProvider } from './local-provider.ts'
import type { LocalFunction } from './local-function.ts'
import { pidFilePath, runDir } from './paths.ts'
import { isInstanceOfRun } from './sweep.ts'
import { testBuildContext } from '../../test/support/build-context.ts'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
const logger = createLogger('sebs', { quiet: true })
const buildContext = testBuildContext(logger)
const runId = `test-${randomBytes(4).toString('hex')}`

let stateDir: string
let provider: Provider | undefined

/** One provider per file (one s3rver), created on first use. */
async function sharedProvider(): Promise<Provider> {
  if (!provider) {
    stateDir = await mkdtemp(join(tmpdir(), 'sebs-local-test-'))
    provider = createLocalProvider({ runId, cacheDir: stateDir, logger, options: {} })
  }
  return provider
}

afterAll(async () => {
  await provider?.close()
  if (provider) {
    const left = await provider.sweep({ runId, dryRun: false })
    expect(left.filter((r) => r.kind === 'process')).toEqual([])
  }
  if (stateDir) await rm(stateDir, { recursive: true, force: true })
}, 60_000)

async function alivePids(pids: number[], ofRun = runId): Promise<number[]> {
  const alive = await Promise.all(pids.map((pid) => isInstanceOfRun(pid, ofRun)))
  return pids.filter((_, i) => alive[i])
}

defineProviderConformance('local', async () => ({
  provider: await sharedProvider(),
  buildContext,
  runId,
  async watchInstances(fn) {
    const pids = (fn as LocalFunction).instances().map((i) => i.pid)
    return async () => (await alivePids(pids)).length
  },
  // The shared provider is closed once, after the local-specific tests too.
  async teardown() {},
}), { nosql: true })

async function deployEcho(
  language: Language,
  p: Provider,
  opts: { runId?: string; timeout?: number } = {},
): Promise<LocalFunction> {
  const benchmark = await loadFixtureBenchmark('901.echo')
  const pkg = await p.package({ benchmark, language, arch: process.arch === 'arm64' ? 'arm64' : 'x64' }, buildContext)
  return (await p.deploy(pkg, {
    runId: opts.runId ?? runId,
    memory: 128,
    timeout: opts.timeout ?? 2,
    trigger: 'http',
    env: {},
  })) as LocalFunction
}

function ok(result: InvokeResult): Extract<InvokeResult, { state: 'ok' }> {
  if (result.state !== 'ok') throw new Error(`expected ok, got ${result.state}: ${'error' in result ? result.error : ''}`)
  return result
}

describe.each(['python', 'nodejs'] as const)('local provider specifics (%s)', (language) => {
  let fn: LocalFunction

  beforeAll(async () => {
    fn = await deployEcho(language, await sharedProvider())
  }, 600_000)

  afterAll(async () => {
    await fn?.delete()
  })

  it("rssPeakKb is the instance's own peak, not the harness's RSS that Linux carries over fork and exec", async () => {
    // A harness with a large RSS: ru_maxrss of a child it spawns starts at that size.
    const ballast = Buffer.alloc(256 * 1024 * 1024, 1)
    await fn.forceColdStart()
    const result = ok(await fn.invoke({ message: 'rss' }))
    const [instance] = fn.instances()
    const hwmKb = Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${instance!.pid}/status`, 'utf8'))![1])
    expect(result.envelope.rssPeakKb).toBeLessThanOrEqual(hwmKb)
    expect(result.envelope.rssPeakKb).toBeGreaterThan(hwmKb / 2)
    expect(result.envelope.rssPeakKb).toBeLessThan(200 * 1024)
    expect(ballast[ballast.length - 1]).toBe(1)
  })

  it("registry.connectFunction (the bench workers' light connector) invokes the deployed handle like provider.connect, in a pool of its own", async () => {
    const viaProvider = ok(await fn.invoke({ message: 'provider' }))
    const connected = await connectFunction('local', { runId, cacheDir: stateDir, logger, options: {} }, fn.handle)
    try {
      expect(connected).not.toBe(fn)
      const first = ok(await connected.invoke({ message: 'connector' }))
      expect(first.envelope.result).toMatchObject({ echo: { message: 'connector' } })
      // Its own pool: a new instance (cold), then warm in it.
      expect(first.envelope.isCold).toBe(true)
      expect(first.envelope.containerId).not.toBe(viaProvider.envelope.containerId)
      expect(ok(await connected.invoke({ message: 'again' })).envelope.isCold).toBe(false)
    } finally {
      await connected.close?.()
    }
  })

  it('an instance that exits mid-request is an error with its exit code and stderr; the next call starts a new one', async () => {
    const first = ok(await fn.invoke({ message: 'before' }))
    const [pid] = fn.instances().map((i) => i.pid)
    const crashed = await fn.invoke({ exit_code: 3 })
    expect(crashed.state).toBe('error')
    expect(crashed.state === 'error' && crashed.error).toMatch(/^instance exited with code 3: /)
    expect(crashed.state === 'error' && crashed.error).toContain('901.echo: exiting with code 3 as asked')
    expect(await alivePids([pid!])).toEqual([])
    // Its pid file goes with it.
    await expect.poll(() => existsSync(pidFilePath(stateDir, runId, pid!)), { timeout: 5000 }).toBe(false)
    const next = ok(await fn.invoke({ message: 'after' }))
    expect(next.envelope.isCold).toBe(true)
    expect(next.envelope.containerId).not.toBe(first.envelope.containerId)
  })

  it('a handler error keeps the instance: same container, envelope with the error and its trace', async () => {
    const warm = ok(await fn.invoke({ message: 'warm' }))
    const failed = await fn.invoke({ fail: 'deliberate failure' })
    expect(failed.state).toBe('error')
    if (failed.state !== 'error') return
    expect(failed.error).toMatch(/^(Error|Exception): deliberate failure$/)
    expect(failed.envelope?.containerId).toBe(warm.envelope.containerId)
    expect(failed.envelope?.error?.trace).toContain('deliberate failure')
    expect(failed.envelope?.result).toBeNull()
  })

  it('reports resource usage: peak RSS grows with allocate_mb, CPU time is counted', async () => {
    await fn.forceColdStart()
    const small = ok(await fn.invoke({ message: 'baseline' }))
    const big = ok(await fn.invoke({ allocate_mb: 64 }))
    expect(small.initTimeUs).toBeGreaterThan(0)
    expect(big.initTimeUs).toBeUndefined()
    // The configured memory is enforced (a cgroup as root, else an address-space or heap limit); 64 MB fits under it.
    expect(big.memoryEnforced).toBe(true)
    expect(big.envelope.measurement).toMatchObject({ allocated_bytes: 64 * 1024 * 1024 })
    expect(big.envelope.rssPeakKb! - small.envelope.rssPeakKb!).toBeGreaterThan(48 * 1024)
    // Touching 64 MB costs CPU time (page faults, filling).
    expect(big.envelope.cpuUserUs! + big.envelope.cpuSystemUs!).toBeGreaterThan(0)
  })

  it('concurrent invocations with every instance busy start more instances (burst)', async () => {
    await fn.forceColdStart()
    const results = await Promise.all([1, 2, 3].map((i) => fn.invoke({ sleep_ms: 300, i })))
    const envelopes = results.map((r) => ok(r).envelope)
    expect(envelopes.every((e) => e.isCold)).toBe(true)
    expect(new Set(envelopes.map((e) => e.containerId)).size).toBe(3)
    expect(fn.instances()).toHaveLength(3)
    const next = ok(await fn.invoke({ message: 'reuse' }))
    expect(next.envelope.isCold).toBe(false)
    expect(envelopes.map((e) => e.containerId)).toContain(next.envelope.containerId)
  })

  it('connect() on a cloned handle (what a bench worker does) gets its own instances', async () => {
    ok(await fn.invoke({ message: 'main' }))
    const p = await sharedProvider()
    const worker = p.connect(structuredClone(fn.handle)) as LocalFunction
    try {
      const first = ok(await worker.invoke({ message: 'worker' }))
      expect(first.envelope.isCold).toBe(true)
      expect(ok(await worker.invoke({ message: 'worker' })).envelope.isCold).toBe(false)
    } finally {
      await worker.close()
    }
    expect(worker.instances()).toEqual([])
    await expect(worker.invoke({})).rejects.toThrow(/closed or deleted/)
  })
})

describe('local provider lifecycle', () => {
  it("a relative cache dir still gives instances an absolute TMPDIR (else temp files and the cold marker land in the package)", async () => {
    await sharedProvider() // creates stateDir
    const p = createLocalProvider({ runId, cacheDir: relative(process.cwd(), stateDir), logger, options: {} })
    const fn = await deployEcho('nodejs', p)
    try {
      ok(await fn.invoke({ message: 'one' }))
      const [instance] = fn.instances()
      expect(isAbsolute(instance!.tmpDir)).toBe(true)
      expect(existsSync(join(instance!.tmpDir, 'cold_run'))).toBe(true)
      expect(existsSync(join((fn.handle.data as { packageDir: string }).packageDir, 'cold_run'))).toBe(false)
    } finally {
      await p.close()
    }
  }, 60_000)

  it('keepAliveMs stops idle instances: the next call after the idle time is cold', async () => {
    await sharedProvider() // creates stateDir
    // Generous next to the back-to-back calls below, which must stay warm even on a loaded machine.
    const keepAliveMs = 1500
    const p = createLocalProvider({ runId, cacheDir: stateDir, logger, options: { keepAliveMs } })
    const fn = await deployEcho('nodejs', p)
    try {
      const first = ok(await fn.invoke({ message: 'one' }))
      const second = ok(await fn.invoke({ message: 'two' }))
      expect(second.envelope.containerId).toBe(first.envelope.containerId)
      const [pid] = fn.instances().map((i) => i.pid)
      // Waiting out the keep-alive is the behaviour under test, not a readiness wait.
      await new Promise((r) => setTimeout(r, keepAliveMs + 200))
      await expect.poll(() => alivePids([pid!]), { timeout: 5000, interval: 50 }).toEqual([])
      const third = ok(await fn.invoke({ message: 'three' }))
      expect(third.envelope.isCold).toBe(true)
    } finally {
      await p.close()
    }
    expect(fn.instances()).toEqual([])
  }, 60_000)

  /** Runs the stand-in harness; resolves with it and the pid of the instance it started. */
  async function startHelper(helperRun: string, mode: 'hang' | 'exit'): Promise<{ child: ChildProcess; pid: number }> {
    const script = join(dirname(fileURLToPath(import.meta.url)), '__fixtures__', 'start-and-hang.ts')
    await sharedProvider() // creates stateDir
    const child = spawn(process.execPath, ['--import', 'tsx', script, stateDir, helperRun, mode], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stderr = ''
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()))
    const pid = await new Promise<number>((resolvePid, reject) => {
      let out = ''
      const timer = setTimeout(() => reject(new Error(`no pid within 60 s; stderr: ${stderr}`)), 60_000)
      child.stdout!.on('data', (c: Buffer) => {
        out += c.toString()
        const m = /INSTANCE_PID (\d+)/.exec(out)
        if (m) {
          clearTimeout(timer)
          resolvePid(Number(m[1]))
        }
      })
      child.once('exit', (code) => {
        if (!/INSTANCE_PID/.test(out)) reject(new Error(`helper exited with ${code}: ${stderr}`))
      })
    })
    return { child, pid }
  }

  it('an instance lives no longer than the process that started it (stdin lifeline)', async () => {
    const lifelineRun = `lifeline-${randomBytes(3).toString('hex')}`
    const { child, pid } = await startHelper(lifelineRun, 'hang')
    expect(await alivePids([pid], lifelineRun)).toEqual([pid])
    // SIGKILL: no exit handler runs; only the lifeline can end the instance.
    child.kill('SIGKILL')
    await expect.poll(() => alivePids([pid], lifelineRun), { timeout: 10_000, interval: 100 }).toEqual([])
    // What the dead harness could not remove, sweep does.
    expect(existsSync(pidFilePath(stateDir, lifelineRun, pid))).toBe(true)
    const swept = await (await sharedProvider()).sweep({ runId: lifelineRun, dryRun: false })
    expect(swept.filter((r) => r.kind === 'process')).toEqual([])
    expect(swept.filter((r) => r.kind === 'temp-dir')).toEqual([
      expect.objectContaining({ runId: lifelineRun, removed: true }),
    ])
    expect(existsSync(runDir(stateDir, lifelineRun))).toBe(false)
  }, 90_000)

  it("delete() also stops the function's instances started by other processes (a bench worker's)", async () => {
    const otherRun = `other-${randomBytes(3).toString('hex')}`
    const { child, pid } = await startHelper(otherRun, 'hang')
    try {
      // The same function (same run, benchmark, language) as the helper deployed.
      const fn = await deployEcho('nodejs', await sharedProvider(), { runId: otherRun })
      expect(fn.instances()).toEqual([])
      await fn.delete()
      expect(await alivePids([pid], otherRun)).toEqual([])
      expect(existsSync(pidFilePath(stateDir, otherRun, pid))).toBe(false)
    } finally {
      child.kill('SIGKILL')
    }
    await (await sharedProvider()).sweep({ runId: otherRun, dryRun: false })
  }, 90_000)

  it("process.exit() of the harness kills its instances and removes their files (the 'exit' handler)", async () => {
    const exitRun = `exit-${randomBytes(3).toString('hex')}`
    const { child, pid } = await startHelper(exitRun, 'exit')
    const code = await new Promise<number | null>((r) => (child.exitCode !== null ? r(child.exitCode) : child.once('exit', r)))
    expect(code).toBe(0)
    // The pid file is removed synchronously by the exit handler (the lifeline would leave it).
    expect(existsSync(pidFilePath(stateDir, exitRun, pid))).toBe(false)
    await expect.poll(() => alivePids([pid], exitRun), { timeout: 5000, interval: 50 }).toEqual([])
    await (await sharedProvider()).sweep({ runId: exitRun, dryRun: false })
  }, 90_000)

  it("sweep finds and kills the instances of a crashed run, and only that run's", async () => {
    const p = await sharedProvider()
    const crashedRun = `crashed-${randomBytes(3).toString('hex')}`
    // Deployed and invoked, then dropped without close(): what a crashed harness leaves.
    let fn: DeployedFunction | undefined = await deployEcho('python', p, { runId: crashedRun })
    ok(await fn.invoke({ message: 'left behind' }))
    const [pid] = (fn as LocalFunction).instances().map((i) => i.pid)
    const name = fn.handle.name
    fn = undefined
    expect(existsSync(pidFilePath(stateDir, crashedRun, pid!))).toBe(true)

    const otherRun = await p.sweep({ runId: `${crashedRun}-other`, dryRun: false })
    expect(otherRun).toEqual([])
    const dry = await p.sweep({ runId: crashedRun, dryRun: true })
    expect(dry).toContainEqual({ kind: 'process', id: `pid ${pid} (${name})`, runId: crashedRun, removed: false })
    expect(await alivePids([pid!], crashedRun)).toEqual([pid])

    const swept = await p.sweep({ runId: crashedRun, dryRun: false })
    expect(swept).toContainEqual({ kind: 'process', id: `pid ${pid} (${name})`, runId: crashedRun, removed: true })
    expect(await alivePids([pid!], crashedRun)).toEqual([])
    expect(existsSync(runDir(stateDir, crashedRun))).toBe(false)
    expect(await p.sweep({ runId: crashedRun, dryRun: true })).toEqual([])
  }, 120_000)

  it('sweep never kills a recorded pid whose environment is not of the run (recycled pid)', async () => {
    const p = await sharedProvider()
    const fakeRun = `recycled-${randomBytes(3).toString('hex')}`
    const bystander = spawn('sleep', ['30'], { stdio: 'ignore' })
    try {
      const { mkdir, writeFile } = await import('node:fs/promises')
      await mkdir(runDir(stateDir, fakeRun), { recursive: true })
      await writeFile(
        pidFilePath(stateDir, fakeRun, bystander.pid!),
        JSON.stringify({ pid: bystander.pid, runId: fakeRun, functionName: 'f', instanceId: 'x', tmpDir: '/nonexistent', startedAt: '' }),
      )
      const swept = await p.sweep({ runId: fakeRun, dryRun: false })
      expect(swept.filter((r) => r.kind === 'process')).toEqual([])
      expect(bystander.exitCode).toBeNull()
      expect(existsSync(runDir(stateDir, fakeRun))).toBe(false)
    } finally {
      bystander.kill('SIGKILL')
    }
  })

  it('update(): a new timeout applies to the next call; new env or memory means new instances', async () => {
    const fn = await deployEcho('nodejs', await sharedProvider(), { timeout: 5 })
    try {
      const first = ok(await fn.invoke({ message: 'one' }))
      await fn.update({ timeout: 1 })
      expect(fn.handle.timeout).toBe(1)
      const slow = await fn.invoke({ sleep_ms: 1500 })
      expect(slow).toMatchObject({ state: 'timeout', error: 'function exceeded its 1 s timeout; instance killed' })
      const second = ok(await fn.invoke({ message: 'two' }))
      expect(second.envelope.containerId).not.toBe(first.envelope.containerId)
      expect(ok(await fn.invoke({ message: 'warm' })).envelope.isCold).toBe(false)
      await fn.update({ env: { EXTRA: '1' }, memory: 256 })
      expect(fn.handle).toMatchObject({ memory: 256, data: expect.objectContaining({ env: { EXTRA: '1' } }) })
      expect(ok(await fn.invoke({ message: 'three' })).envelope.isCold).toBe(true)
      await expect(fn.update({ timeout: 0 })).rejects.toThrow(/timeout must be > 0/)
    } finally {
      await fn.delete()
    }
  }, 60_000)

  it('a missing interpreter fails at package time with TOOL_MISSING, before anything runs', async () => {
    const p = createLocalProvider({
      runId,
      cacheDir: stateDir,
      logger,
      options: { runtimes: { python: '/nonexistent/python3' } },
    })
    const benchmark = await loadFixtureBenchmark('901.echo')
    await expect(p.package({ benchmark, language: 'python', arch: 'x64' }, buildContext)).rejects.toMatchObject({
      code: 'TOOL_MISSING',
      message: expect.stringContaining('/nonexistent/python3'),
    })
    await p.close()
  })

  it('invalid options are a ConfigError naming the option', () => {
    const ctx: ProviderContext = { runId, cacheDir: tmpdir(), logger, options: { keepAliveMs: -1 } }
    expect(() => createLocalProvider(ctx)).toThrow(/keepAliveMs/)
  })

  it('leaves no instance directory behind after the functions are closed', async () => {
    const p = await sharedProvider()
    const fn = await deployEcho('nodejs', p)
    ok(await fn.invoke({ message: 'x' }))
    await fn.delete()
    const dir = join(runDir(stateDir, runId), 'tmp')
    const left = existsSync(dir) ? await readdir(dir) : []
    expect(left.filter((d) => d.startsWith(fn.handle.name))).toEqual([])
  })
})
