/**
 * Without a Docker engine: DOCKER_HOST points at a socket that does not
 * exist, and at one that accepts connections but never answers. The docker
 * runtime fails fast with a message saying how to start an engine; the
 * process runtime keeps working. Runs everywhere (no engine needed).
 */
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer, type Server, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLogger } from '../../../core/logger.ts'
import { loadFixtureBenchmark } from '../../../test/support/conformance/fixtures.ts'
import { dockerBaseCommand } from '../../docker/base-image.ts'
import { installDependenciesInImage } from '../../docker/build-image.ts'
import { PING_TIMEOUT_MS, dockerAvailable } from '../../docker/client.ts'
import { LocalProvider } from '../local-provider.ts'
import { testBuildContext } from '../../../test/support/build-context.ts'

const logger = createLogger('sebs', { quiet: true })
const buildContext = testBuildContext(logger)
const arch = process.arch === 'arm64' ? 'arm64' : 'x64'

let dir: string
let silent: Server
const held: Socket[] = []
const saved = process.env.DOCKER_HOST

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sebs-no-engine-'))
  // Accepts the connection and says nothing: a hung engine.
  silent = createServer((socket) => held.push(socket))
  await new Promise<void>((r) => silent.listen(join(dir, 'silent.sock'), r))
})

afterAll(async () => {
  if (saved === undefined) delete process.env.DOCKER_HOST
  else process.env.DOCKER_HOST = saved
  for (const s of held) s.destroy()
  await new Promise<void>((r) => silent.close(() => r()))
  await rm(dir, { recursive: true, force: true })
})

describe('no Docker engine', () => {
  it('a missing socket: not available, with the endpoint and how to start an engine', async () => {
    process.env.DOCKER_HOST = `unix://${join(dir, 'nothing-here.sock')}`
    const started = performance.now()
    const result = await dockerAvailable()
    expect(performance.now() - started).toBeLessThan(PING_TIMEOUT_MS + 500)
    expect(result.ok).toBe(false)
    const reason = result.ok ? '' : result.reason
    expect(reason).toContain(join(dir, 'nothing-here.sock'))
    expect(reason).toContain('the socket does not exist')
    expect(reason).toContain('scripts/docker-setup.sh')
    expect(reason).toContain('--runtime process')
  })

  it('an engine that never answers: not available after about a second', async () => {
    process.env.DOCKER_HOST = `unix://${join(dir, 'silent.sock')}`
    const started = performance.now()
    const result = await dockerAvailable()
    const elapsed = performance.now() - started
    expect(result.ok).toBe(false)
    expect(result.ok ? '' : result.reason).toMatch(/no answer within 1000 ms/)
    expect(elapsed).toBeGreaterThanOrEqual(PING_TIMEOUT_MS * 0.9)
    expect(elapsed).toBeLessThan(PING_TIMEOUT_MS * 3)
  })

  it('the docker runtime refuses with TOOL_MISSING at checkCredentials and deploy; the process runtime still runs functions', async () => {
    process.env.DOCKER_HOST = `unix://${join(dir, 'nothing-here.sock')}`
    const runId = `test-no-engine-${randomBytes(3).toString('hex')}`
    const docker = new LocalProvider({ runId, cacheDir: dir, logger, options: { runtime: 'docker' } })
    const check = await docker.checkCredentials().catch((e: unknown) => e)
    expect(check).toMatchObject({ code: 'TOOL_MISSING' })
    expect(String((check as Error).message)).toMatch(/--runtime docker.*no Docker engine answers/s)
    expect(String((check as Error).message)).toContain('scripts/docker-setup.sh')

    const benchmark = await loadFixtureBenchmark('901.echo')
    const pkg = await docker.package({ benchmark, language: 'nodejs', arch }, buildContext)
    const deploy = await docker.deploy(pkg, { runId, memory: 128, timeout: 2, trigger: 'http', env: {} }).catch((e: unknown) => e)
    expect(deploy).toMatchObject({ code: 'TOOL_MISSING' })
    await docker.close()

    const proc = new LocalProvider({ runId, cacheDir: dir, logger, options: { runtime: 'process' } })
    await proc.checkCredentials()
    const fn = await proc.deploy(pkg, { runId, memory: 128, timeout: 2, trigger: 'http', env: {} })
    const result = await fn.invoke({ message: 'still works' })
    expect(result.state).toBe('ok')
    await fn.delete()
    // Sweeping without an engine finds no containers and does not fail.
    expect((await proc.sweep({ runId, dryRun: true })).filter((r) => r.kind === 'container')).toEqual([])
    await proc.close()
  })

  it('`sebs docker base` and dependency installs in an image say the same', async () => {
    process.env.DOCKER_HOST = `unix://${join(dir, 'nothing-here.sock')}`
    const errors: string[] = []
    const write = process.stderr.write.bind(process.stderr)
    process.stderr.write = ((chunk: string | Uint8Array) => {
      errors.push(String(chunk))
      return true
    }) as typeof process.stderr.write
    let code: number
    try {
      code = await dockerBaseCommand([])
    } finally {
      process.stderr.write = write
    }
    expect(code).toBe(1)
    expect(errors.join('')).toContain('scripts/docker-setup.sh')

    const install = await installDependenciesInImage({
      image: 'sebs-base:whatever',
      packageDir: dir,
      language: 'python',
      commands: [['pip', '--version']],
      timeoutMs: 10_000,
    }).catch((e: unknown) => e)
    expect(install).toMatchObject({ code: 'TOOL_MISSING' })
    expect(String((install as Error).message)).toContain('no Docker engine answers')
  })
})
