/**
 * Nothing a function starts outlives its instance (issue 15, item 1): a
 * child, a grandchild re-parented to init and a daemon in its own session,
 * started by the 901.echo fixture with `spawn`, end with the instance on
 * teardown, on timeout, when the function exits, and when the harness is
 * killed with SIGKILL; `sweep` ends what a crashed run left by the run id the
 * processes carry. Real instances, real processes; runs in the Vitest worker.
 */
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { createLogger } from '../../core/logger.ts'
import type { Language } from '../../core/types.ts'
import { loadFixtureBenchmark } from '../../test/support/conformance/fixtures.ts'
import type { InvokeResult, Provider } from '../types.ts'
import { createLocalProvider } from './local-provider.ts'
import type { LocalFunction } from './local-function.ts'
import { findTaggedProcesses } from './process-tree.ts'
import { testBuildContext } from '../../test/support/build-context.ts'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
const logger = createLogger('sebs', { quiet: true })
const buildContext = testBuildContext(logger)
const stateDir = await mkdtemp(join(tmpdir(), 'sebs-process-tree-'))
const providers: Provider[] = []
const runIds: string[] = []

function newRun(prefix: string): { runId: string; provider: Provider } {
  const runId = `${prefix}-${randomBytes(4).toString('hex')}`
  runIds.push(runId)
  const provider = createLocalProvider({ runId, cacheDir: stateDir, logger, options: {} })
  providers.push(provider)
  return { runId, provider }
}

afterAll(async () => {
  for (const p of providers) await p.close()
  // Whatever a failed assertion left: never leave sleepers on a shared machine.
  for (const { pid } of findTaggedProcesses(runIds.map((runId) => ({ runId })))) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {}
  }
  await rm(stateDir, { recursive: true, force: true })
}, 60_000)

async function deployEcho(language: Language, p: Provider, runId: string, timeout = 5): Promise<LocalFunction> {
  const benchmark = await loadFixtureBenchmark('901.echo')
  const pkg = await p.package({ benchmark, language, arch: process.arch === 'arm64' ? 'arm64' : 'x64' }, buildContext)
  return (await p.deploy(pkg, { runId, memory: 128, timeout, trigger: 'http', env: {} })) as LocalFunction
}

function spawnedPids(result: InvokeResult): number[] {
  if (result.state !== 'ok') throw new Error(`expected ok, got ${result.state}: ${'error' in result ? result.error : ''}`)
  const pids = result.envelope.measurement?.pids as number[] | undefined
  expect(pids).toHaveLength(3)
  return pids!
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  // A zombie is dead for this purpose (it is reaped by its parent, init).
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return false
  }
}

const livePids = (pids: number[]): number[] => pids.filter(alive)
const POLL = { timeout: 10_000, interval: 50 }

describe.each(['python', 'nodejs'] as const)('what a %s function starts ends with its instance', (language) => {
  it('on teardown: child, re-parented grandchild and setsid daemon all end with delete()', async () => {
    const { runId, provider } = newRun('tree-teardown')
    const fn = await deployEcho(language, provider, runId)
    const pids = spawnedPids(await fn.invoke({ spawn: true }))
    expect(livePids(pids)).toEqual(pids)
    const started = performance.now()
    await fn.delete()
    // The daemon holds the instance's stderr: stop must not wait out its grace periods for it.
    expect(performance.now() - started).toBeLessThan(6000)
    await expect.poll(() => livePids(pids), POLL).toEqual([])
    expect(findTaggedProcesses([{ runId }])).toEqual([])
  }, 90_000)

  it('on timeout: the killed instance takes what it started with it', async () => {
    const { runId, provider } = newRun('tree-timeout')
    const fn = await deployEcho(language, provider, runId, 1)
    const result = await fn.invoke({ spawn: true, sleep_ms: 10_000 })
    expect(result.state).toBe('timeout')
    await expect.poll(() => findTaggedProcesses([{ runId }]).map((p) => p.pid), POLL).toEqual([])
    await fn.delete()
  }, 90_000)

  it('when the function ends its instance: the exit code is kept and what it started ends', async () => {
    const { runId, provider } = newRun('tree-exit')
    const fn = await deployEcho(language, provider, runId)
    const pids = spawnedPids(await fn.invoke({ spawn: true }))
    const crashed = await fn.invoke({ exit_code: 3 })
    expect(crashed.state === 'error' && crashed.error).toMatch(/^instance exited with code 3: /)
    await expect.poll(() => livePids(pids), POLL).toEqual([])
    await fn.delete()
  }, 90_000)
})

describe('exit codes as the function gave them', () => {
  it("python sys.exit(3) is 'exited with code 3', not a SIGABRT from the stdin lifeline thread", async () => {
    const { runId, provider } = newRun('sys-exit')
    const fn = await deployEcho('python', provider, runId)
    for (let i = 0; i < 3; i++) {
      const result = await fn.invoke({ sys_exit: 3 })
      expect(result.state).toBe('error')
      const error = result.state === 'error' ? result.error : ''
      expect(error).toMatch(/^instance exited with code 3/)
      expect(error).not.toMatch(/SIGABRT|Fatal Python error/)
    }
    await fn.delete()
  }, 90_000)
})

describe('after the harness dies', () => {
  it.each(['python', 'nodejs'] as const)(
    'kill -9 of the harness: the %s instance kills what its function started (lifeline)',
    async (language) => {
      const runId = `tree-kill9-${randomBytes(4).toString('hex')}`
      runIds.push(runId)
      const script = join(dirname(fileURLToPath(import.meta.url)), '__fixtures__', 'start-and-hang.ts')
      const event = JSON.stringify({ spawn: true })
      const child = spawn(process.execPath, ['--import', 'tsx', script, stateDir, runId, 'hang', event, language], {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      let out = ''
      let err = ''
      child.stdout!.on('data', (c: Buffer) => (out += c.toString()))
      child.stderr!.on('data', (c: Buffer) => (err += c.toString()))
      await expect.poll(() => /INSTANCE_PID \d+/.test(out) || child.exitCode !== null, { timeout: 60_000, interval: 50 }).toBe(true)
      expect(out, err).toMatch(/INSTANCE_PID \d+/)
      // The instance and the three sleepers it started.
      expect(findTaggedProcesses([{ runId }]).length).toBe(4)
      child.kill('SIGKILL')
      await expect.poll(() => findTaggedProcesses([{ runId }]).map((p) => p.pid), POLL).toEqual([])
      await createLocalProvider({ runId, cacheDir: stateDir, logger, options: {} }).sweep({ runId, dryRun: false })
    },
    90_000,
  )

  it('sweep finds the processes of a crashed run by the run id they carry, reports and ends them', async () => {
    const { runId, provider } = newRun('tree-sweep')
    // What a function of a crashed run left: no pid file, only the tag in its environment.
    const orphan = spawn('sleep', ['300'], {
      detached: true,
      stdio: 'ignore',
      env: { PATH: process.env.PATH, SEBS_RUN_ID: runId, SEBS_INSTANCE_ID: 'deadbeef' },
    })
    orphan.unref()
    const bystander = spawn('sleep', ['300'], { detached: true, stdio: 'ignore', env: { PATH: process.env.PATH, SEBS_RUN_ID: `${runId}-other` } })
    bystander.unref()
    try {
      await expect.poll(() => findTaggedProcesses([{ runId }]).map((p) => p.pid), POLL).toEqual([orphan.pid])
      const dry = await provider.sweep({ runId, dryRun: true })
      expect(dry).toContainEqual({
        kind: 'process',
        id: expect.stringMatching(new RegExp(`^pid ${orphan.pid} 'sleep 300' \\(started by instance deadbeef\\)$`)),
        runId,
        removed: false,
      })
      expect(alive(orphan.pid!)).toBe(true)
      const swept = await provider.sweep({ runId, dryRun: false })
      expect(swept).toContainEqual(expect.objectContaining({ kind: 'process', runId, removed: true }))
      await expect.poll(() => alive(orphan.pid!), POLL).toBe(false)
      expect(alive(bystander.pid!)).toBe(true)
    } finally {
      for (const p of [orphan, bystander]) {
        try {
          process.kill(p.pid!, 'SIGKILL')
        } catch {}
      }
    }
  }, 30_000)
})
