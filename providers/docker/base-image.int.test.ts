/**
 * The offline base images for real: built (or found cached) from this
 * host's interpreters, labelled with their input hash, smaller than a
 * copy of the whole interpreter tree, and working (interpreter, stdlib
 * extension modules, pip/npm). `sebs docker base` reports cached images.
 * Skipped, with the reason printed, without a Docker engine.
 */
import { describe, expect, it } from 'vitest'
import { createLogger } from '../../core/logger.ts'
import { BASE_IMAGE_REPOSITORY, baseImageKey, buildBaseImage, dockerBaseCommand } from './base-image.ts'
import { createDockerClient } from './client.ts'
import { LABEL_BASE_EXECUTABLE, LABEL_BASE_HASH, LABEL_BASE_LANGUAGE, LABEL_BASE_RUNTIME, LABEL_MANAGED } from './labels.ts'
import { runContainer } from './run.ts'
import { dockerForTests, dockerSuiteTitle, ensureBaseImage } from '../../test/support/docker.ts'

const available = await dockerForTests('providers/docker/base-image.int.test.ts')

async function captureStdout<T>(fn: () => Promise<T>): Promise<{ value: T; out: string }> {
  let out = ''
  const write = process.stdout.write.bind(process.stdout)
  process.stdout.write = ((chunk: string | Uint8Array) => {
    out += String(chunk)
    return true
  }) as typeof process.stdout.write
  try {
    return { value: await fn(), out }
  } finally {
    process.stdout.write = write
  }
}

describe.skipIf(!available.ok)(dockerSuiteTitle('offline base images', available), () => {
  it.each(['python', 'nodejs'] as const)('%s: tagged by the input hash and labelled', async (language) => {
    const tag = await ensureBaseImage(language)
    const key = await baseImageKey(language, language === 'python' ? 'python3' : process.execPath)
    expect(tag).toBe(key.tag)
    expect(tag).toMatch(language === 'python' ? /^sebs-base:python3\.\d+\.\d+-[0-9a-f]{12}$/ : /^sebs-base:node\d+\.\d+\.\d+-[0-9a-f]{12}$/)
    const info = await createDockerClient().getImage(tag).inspect()
    expect(info.Config.Labels).toMatchObject({
      [LABEL_MANAGED]: 'true',
      [LABEL_BASE_HASH]: key.hash,
      [LABEL_BASE_LANGUAGE]: language,
      [LABEL_BASE_RUNTIME]: key.runtime,
      [LABEL_BASE_EXECUTABLE]: key.executable,
    })
    // The interpreter and what it needs, not the whole installation (python's tree here is ~1 GB).
    expect(info.Size).toBeLessThan(400 * 1024 * 1024)
  }, 300_000)

  it('python: the stdlib extension modules and pip work; tests and IDLE are left out', async () => {
    const tag = await ensureBaseImage('python')
    const result = await runContainer(createDockerClient(), {
      image: tag,
      cmd: [
        'python3',
        '-c',
        [
          'import ssl, sqlite3, ctypes, zlib, hashlib, json, http.server, importlib.util, sys',
          'assert importlib.util.find_spec("test") is None, "the test package should be left out"',
          'assert importlib.util.find_spec("idlelib") is None',
          'import pip; print("pip", pip.__version__); print(sys.version.split()[0])',
        ].join('\n'),
      ],
      kind: 'image-check',
      timeoutMs: 60_000,
    })
    expect(result.logs).toMatch(/pip \d+/)
    expect(result.exitCode).toBe(0)
  }, 300_000)

  it('nodejs: node and npm run; the shell and tools come from busybox', async () => {
    const tag = await ensureBaseImage('nodejs')
    const result = await runContainer(createDockerClient(), {
      image: tag,
      cmd: ['sh', '-c', 'node -e "console.log(require(\'os\').platform())" && npm --version && ls /bin/busybox && env | grep ^PATH='],
      kind: 'image-check',
      timeoutMs: 60_000,
    })
    expect(result.exitCode).toBe(0)
    expect(result.logs).toContain('linux')
    expect(result.logs).toMatch(/^\d+\.\d+\.\d+$/m)
    expect(result.logs).toContain('PATH=/usr/local/bin')
  }, 300_000)

  it('`sebs docker base` reports cached images, and prunes older builds of the same interpreter', async () => {
    await ensureBaseImage('nodejs')
    const key = await baseImageKey('nodejs', process.execPath)
    // A stand-in for an older build of the same node: the same language and
    // executable labels, another hash label (set by committing a container of the real image).
    const docker = createDockerClient()
    const stale = `${BASE_IMAGE_REPOSITORY}:${key.runtime}-000000000000`
    const container = await docker.createContainer({ Image: key.tag, Cmd: ['true'] })
    await container.commit({ repo: BASE_IMAGE_REPOSITORY, tag: `${key.runtime}-000000000000`, changes: [`LABEL ${LABEL_BASE_HASH}=stale`] } as object)
    await container.remove({ force: true })

    const { value: code, out } = await captureStdout(() => dockerBaseCommand(['--language', 'nodejs']))
    expect(code).toBe(0)
    expect(out).toContain(`${key.tag}: cached (nodejs, ${key.runtime}`)
    await expect(docker.getImage(stale).inspect()).rejects.toMatchObject({ statusCode: 404 })
    await expect(docker.getImage(key.tag).inspect()).resolves.toBeTruthy()
  }, 300_000)

  it('`sebs docker base` refuses unknown languages and flags with exit code 2', async () => {
    const errors: string[] = []
    const write = process.stderr.write.bind(process.stderr)
    process.stderr.write = ((chunk: string | Uint8Array) => {
      errors.push(String(chunk))
      return true
    }) as typeof process.stderr.write
    try {
      expect(await dockerBaseCommand(['--language', 'java'])).toBe(2)
      expect(await dockerBaseCommand(['--bogus'])).toBe(2)
    } finally {
      process.stderr.write = write
    }
    expect(errors.join('')).toContain("unknown language 'java'")
    expect((await captureStdout(() => dockerBaseCommand(['--help']))).out).toContain('Usage: sebs docker base')
  })

  it('a cached image is found without building', async () => {
    await ensureBaseImage('python')
    const started = performance.now()
    const again = await buildBaseImage({ language: 'python', logger: createLogger('sebs', { quiet: true }) })
    expect(again.cached).toBe(true)
    expect(again.buildTimeMs).toBe(0)
    expect(performance.now() - started).toBeLessThan(10_000)
  }, 300_000)
})
