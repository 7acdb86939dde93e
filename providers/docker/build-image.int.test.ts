/**
 * Dependency installs in a build image, for real. Provider images (Amazon
 * Linux for Lambda) cannot be pulled here, so the offline base image stands
 * in for them: pip and npm run inside it with the package bind-mounted, and
 * the package they produce is then deployed and invoked in a container of
 * the same image, proving that what was installed (a native extension
 * included) loads there. Skipped, with the reason printed, without an engine.
 */
import { randomBytes } from 'node:crypto'
import { existsSync, readdirSync } from 'node:fs'
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLogger } from '../../core/logger.ts'
import type { Language } from '../../core/types.ts'
import { LOCAL_WRAPPER_FILES, LocalProvider } from '../local/local-provider.ts'
import type { CodePackage } from '../types.ts'
import { installDependenciesInImage } from './build-image.ts'
import { createDockerClient } from './client.ts'
import { LABEL_KIND, LABEL_MANAGED } from './labels.ts'
import { dockerForTests, dockerSuiteTitle, ensureBaseImage } from '../../test/support/docker.ts'

const available = await dockerForTests('providers/docker/build-image.int.test.ts')
const logger = createLogger('sebs', { quiet: true })
const runId = `test-build-${randomBytes(4).toString('hex')}`

let work: string
let provider: LocalProvider | undefined

/** A local-provider package layout (wrappers at the root, the function in function/) without dependencies yet. */
async function packageSkeleton(language: Language, files: Record<string, string>): Promise<string> {
  const dir = join(work, `${language}-${randomBytes(3).toString('hex')}`)
  await mkdir(join(dir, 'function'), { recursive: true })
  for (const file of LOCAL_WRAPPER_FILES[language]) await cp(file, join(dir, basename(file)))
  for (const [name, content] of Object.entries(files)) await writeFile(join(dir, 'function', name), content)
  return dir
}

function directoryPackage(language: Language, dir: string): CodePackage {
  return { provider: 'local', benchmark: '999.build-check', language, arch: 'x64', kind: 'directory', path: dir, sizeBytes: 1, hash: 'test', cached: false }
}

describe.skipIf(!available.ok)(dockerSuiteTitle('dependency installs in a build image', available), () => {
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'sebs-build-image-'))
    provider = new LocalProvider({ runId, cacheDir: work, logger, options: { runtime: 'docker' } })
  })

  afterAll(async () => {
    await provider?.close()
    await provider?.sweep({ runId, dryRun: false })
    // Build containers are removed after each command.
    const left = await createDockerClient().listContainers({ all: true, filters: { label: [`${LABEL_MANAGED}=true`, `${LABEL_KIND}=build`] } })
    expect(left).toEqual([])
    if (work) await rm(work, { recursive: true, force: true })
  }, 60_000)

  it('python: pip installs a native wheel inside the image; the package runs in that image', async () => {
    const image = await ensureBaseImage('python')
    const dir = await packageSkeleton('python', {
      '__init__.py': '',
      'requirements.txt': 'markupsafe\n',
      'function.py': [
        'import markupsafe',
        'from markupsafe import _speedups  # the compiled extension: fails if the wheel does not fit the image',
        '',
        'def handler(event):',
        '    return {"result": {"escaped": str(markupsafe.escape(event["text"])), "native": _speedups.__file__.endswith(".so")}}',
        '',
      ].join('\n'),
    })
    const { logs } = await installDependenciesInImage({
      image,
      packageDir: dir,
      language: 'python',
      commands: [['pip', 'install', '--no-cache-dir', '-r', 'function/requirements.txt', '--target', 'python_packages']],
      timeoutMs: 300_000,
    })
    expect(logs).toMatch(/Successfully installed markupsafe/i)
    expect(readdirSync(join(dir, 'python_packages', 'markupsafe')).some((f) => f.startsWith('_speedups') && f.endsWith('.so'))).toBe(true)

    const fn = await provider!.deploy(directoryPackage('python', dir), { runId, memory: 128, timeout: 10, trigger: 'http', env: {} })
    const result = await fn.invoke({ text: '<a href="x">' })
    expect(result.state === 'ok' ? result.envelope.result : result).toEqual({ escaped: '&lt;a href=&#34;x&#34;&gt;', native: true })
    await fn.delete()
  }, 600_000)

  it('nodejs: npm installs from the registry inside the image; the package runs in that image', async () => {
    const image = await ensureBaseImage('nodejs')
    const dir = await packageSkeleton('nodejs', {
      'package.json': JSON.stringify({ name: 'build-check', version: '1.0.0', private: true, dependencies: { ms: '2.1.3' } }),
      'function.js': "const ms = require('ms')\nexports.handler = async (event) => ({ result: { ms: ms(event.span) } })\n",
    })
    const { logs } = await installDependenciesInImage({
      image,
      packageDir: dir,
      language: 'nodejs',
      commands: [['npm', 'install', '--prefix', 'function', '--omit=dev', '--no-package-lock']],
      timeoutMs: 300_000,
    })
    expect(logs).toMatch(/added 1 package/)
    expect(existsSync(join(dir, 'function', 'node_modules', 'ms', 'package.json'))).toBe(true)

    const fn = await provider!.deploy(directoryPackage('nodejs', dir), { runId, memory: 128, timeout: 10, trigger: 'http', env: {} })
    const result = await fn.invoke({ span: '2h' })
    expect(result.state === 'ok' ? result.envelope.result : result).toEqual({ ms: 7_200_000 })
    await fn.delete()
  }, 600_000)

  it('a failing command is BUILD_FAILED with the command and its output', async () => {
    const image = await ensureBaseImage('python')
    const dir = await packageSkeleton('python', { 'requirements.txt': 'this-package-does-not-exist-sebs==0.0.1\n' })
    const err = await installDependenciesInImage({
      image,
      packageDir: dir,
      language: 'python',
      commands: [['pip', 'install', '--no-cache-dir', '--retries', '0', '-r', 'function/requirements.txt', '--target', 'python_packages']],
      timeoutMs: 300_000,
    }).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'BUILD_FAILED' })
    expect(String((err as Error).message)).toContain('pip install')
    expect(String((err as Error).message)).toMatch(/this-package-does-not-exist-sebs/)
  }, 600_000)

  it('a missing build image says how to get it', async () => {
    const dir = await packageSkeleton('python', {})
    const base = await installDependenciesInImage({
      image: 'sebs-base:python0.0.0-000000000000',
      packageDir: dir,
      language: 'python',
      commands: [['pip', '--version']],
      timeoutMs: 60_000,
    }).catch((e: unknown) => e)
    expect(base).toMatchObject({ code: 'DEPLOY_FAILED' })
    expect(String((base as Error).message)).toContain('npx sebs docker base --language python')

    const provider = await installDependenciesInImage({
      image: 'sebs-test-no-such-registry.invalid/build-python3.11:latest',
      packageDir: dir,
      language: 'python',
      commands: [['pip', '--version']],
      timeoutMs: 60_000,
    }).catch((e: unknown) => e)
    expect(provider).toMatchObject({ code: 'DEPLOY_FAILED' })
    expect(String((provider as Error).message)).toMatch(/could not be pulled/)
    expect(String((provider as Error).message)).toContain('docker pull')
  }, 120_000)
})
