/**
 * Lambda (and Azure) packages whose dependencies are installed in a build
 * image. The provider images (public.ecr.aws/sam/build-…, the Azure
 * Functions images) cannot be pulled here, so the offline base image stands
 * in for them through `buildImage`; the packages produced are then unzipped
 * and their handlers run. Without a Docker engine those suites are skipped
 * with the reason in their title; the host fallback (dead DOCKER_HOST) and
 * the package builder's installer hook are checked either way.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { createLogger } from '../../core/logger.ts'
import type { BenchmarkDefinition, WrapperEnvelope } from '../../core/types.ts'
import { loadFixtureBenchmark } from '../../test/support/conformance/fixtures.ts'
import { buildImageFor as azureBuildImageFor, resolveAzureOptions } from '../azure/config.ts'
import { buildAzurePackage } from '../azure/packaging.ts'
import { dockerForTests, dockerSuiteTitle, ensureBaseImage } from '../../test/support/docker.ts'
import { INSTALLER_REQUIREMENTS_FILE, buildPackage, computePackageHash, type AssembleOptions, type InstallStep } from '../packaging/package-builder.ts'
import type { BuildContext } from '../types.ts'
import { buildImageFor, defaultBuildImage, resolveAwsOptions } from './config.ts'
import { packageForAws } from './index.ts'
import { WRAPPER_FILES, buildLambdaPackage } from './packaging.ts'
import { extractZip } from '../../test/support/aws/fake-aws.ts'

const available = await dockerForTests('providers/aws/build-image.int.test.ts')

const DYNAMIC_HTML_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'benchmarks', '100.webapps', '110.dynamic-html')
const DYNAMIC_HTML: BenchmarkDefinition = {
  id: '110.dynamic-html',
  group: '100.webapps',
  dir: DYNAMIC_HTML_DIR,
  config: { timeout: 10, memory: 128, languages: ['python', 'nodejs'], variants: {}, modules: [] },
  input: { kind: 'ts', path: join(DYNAMIC_HTML_DIR, 'input.ts') },
  source: resolve(DYNAMIC_HTML_DIR, '..', '..'),
}
const RUNTIME = { python: 'python3.11', nodejs: 'nodejs22.x' }

let ECHO: BenchmarkDefinition
let work: string

/** A build context whose log lines are kept (info and warnings). */
function capturingContext(extra: Partial<BuildContext> = {}): { ctx: BuildContext; lines: string[] } {
  const lines: string[] = []
  const ctx: BuildContext = {
    cacheDir: join(work, 'cache'),
    logger: createLogger('sebs', { write: (l) => lines.push(l) }),
    runtimes: { python: 'python3', node: process.execPath },
    ...extra,
  }
  return { ctx, lines }
}

async function unzip(zipPath: string, name: string): Promise<string> {
  const dir = join(work, 'unzipped', name)
  await rm(dir, { recursive: true, force: true })
  await extractZip(await readFile(zipPath), dir)
  return dir
}

/** Runs the packaged Lambda python handler in a child interpreter, as Lambda would import it. */
function runPythonHandler(dir: string, event: Record<string, unknown>): WrapperEnvelope {
  const script = [
    'import json, sys',
    'sys.path.insert(0, sys.argv[1])',
    'import handler',
    'class Ctx:',
    '    aws_request_id = "5a1c2b3d-0000-4000-8000-00000000000c"',
    '    function_name = "sebs-test"',
    'print(json.dumps(handler.handler(json.loads(sys.argv[2]), Ctx())))',
  ].join('\n')
  // -S -E: only what the package holds, not the host's site-packages or PYTHON* settings.
  const run = spawnSync('python3', ['-S', '-E', '-c', script, dir, JSON.stringify(event)], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, TMPDIR: work },
  })
  expect(run.status, run.stderr).toBe(0)
  return JSON.parse(run.stdout.trim().split('\n').pop() ?? '') as WrapperEnvelope
}

beforeAll(async () => {
  ECHO = await loadFixtureBenchmark('901.echo')
  work = await mkdtemp(join(tmpdir(), 'sebs-aws-build-image-'))
})
afterAll(async () => {
  // Files installed in the container belong to this user: removable without root.
  if (work) await rm(work, { recursive: true, force: true })
})

describe('config', () => {
  it('aws.buildImage: default per runtime, a string, or false', () => {
    expect(defaultBuildImage('python3.11')).toBe('public.ecr.aws/sam/build-python3.11')
    expect(defaultBuildImage('nodejs22.x')).toBe('public.ecr.aws/sam/build-nodejs22.x')
    expect(resolveAwsOptions({}).buildImage).toBeUndefined()
    expect(buildImageFor(resolveAwsOptions({}), 'python')).toBe('public.ecr.aws/sam/build-python3.11')
    expect(buildImageFor(resolveAwsOptions({ runtime: { nodejs: 'nodejs20.x' } }), 'nodejs')).toBe('public.ecr.aws/sam/build-nodejs20.x')
    expect(buildImageFor(resolveAwsOptions({ buildImage: false }), 'python')).toBe(false)
    expect(buildImageFor(resolveAwsOptions({ buildImage: 'my/image:1' }), 'nodejs')).toBe('my/image:1')
    expect(resolveAwsOptions({ buildImage: false }).buildImage).toBe(false)
    expect(resolveAwsOptions({ buildImage: 'my/image:1' }).buildImage).toBe('my/image:1')
    expect(() => resolveAwsOptions({ buildImage: true })).toThrow(/aws\.buildImage/)
    expect(azureBuildImageFor(resolveAzureOptions({}), 'python')).toBe('mcr.microsoft.com/azure-functions/python:4-python3.12')
    expect(azureBuildImageFor(resolveAzureOptions({ runtime: { nodejs: '22' } }), 'nodejs')).toBe('mcr.microsoft.com/azure-functions/node:4-node22')
    expect(azureBuildImageFor(resolveAzureOptions({ buildImage: false }), 'python')).toBe(false)
    expect(() => resolveAwsOptions({ buildImage: '' })).toThrow(/aws\.buildImage/)
  })
})

describe('the package builder’s installer hook', () => {
  const options = (extra: Partial<AssembleOptions> = {}): AssembleOptions => ({
    benchmark: DYNAMIC_HTML,
    language: 'python',
    provider: 'hooktest',
    arch: 'x64',
    wrapperFiles: [WRAPPER_FILES.python],
    pythonTarget: 'deps',
    pipExtraArgs: ['--only-binary=:all:'],
    extraDependencies: { python: ['extra-dep'] },
    runtimeVersion: 'python3.11',
    ...extra,
  })

  it('gets pip with package-relative paths and a requirements file inside the package, removed afterwards', async () => {
    const steps: Array<InstallStep & { requirements: string }> = []
    const installer = async (step: InstallStep) => {
      steps.push({ ...step, requirements: readFileSync(join(step.packageDir, INSTALLER_REQUIREMENTS_FILE), 'utf8') })
    }
    // A host interpreter that does not exist: the hook must replace the host install entirely.
    const { ctx } = capturingContext({ runtimes: { python: '/nonexistent/python3', node: process.execPath } })
    const built = await buildPackage(options({ installer, installerId: 'test:1' }), ctx)
    expect(steps).toHaveLength(1)
    const [step] = steps
    expect(step).toMatchObject({ tool: 'pip', cwd: '.' })
    expect(step.args).toEqual([
      'install',
      '--disable-pip-version-check',
      '--no-input',
      '--target',
      'deps',
      '-r',
      INSTALLER_REQUIREMENTS_FILE,
      '--only-binary=:all:',
    ])
    expect(step.requirements.split('\n')).toEqual(['jinja2==3.1.6', 'markupsafe==3.0.3', 'extra-dep', ''])
    expect(existsSync(join(built.dir, INSTALLER_REQUIREMENTS_FILE))).toBe(false)
    expect(existsSync(join(built.dir, 'deps'))).toBe(true)
  })

  it('gets npm in function/; the installer identity is part of the hash, and no installer keeps the old hash', async () => {
    const steps: InstallStep[] = []
    const { ctx } = capturingContext()
    await buildPackage(options({ language: 'nodejs', wrapperFiles: [WRAPPER_FILES.nodejs], installer: async (s) => void steps.push(s), installerId: 'x' }), ctx)
    expect(steps).toHaveLength(1)
    expect(steps[0]).toMatchObject({ tool: 'npm', cwd: 'function' })
    expect(steps[0].args.slice(0, 1)).toEqual(['install'])
    const noop = async () => {}
    const host = computePackageHash(options())
    expect(computePackageHash(options({ installerId: 'docker:a' }))).toBe(host) // an id without an installer is ignored
    expect(computePackageHash(options({ installer: noop, installerId: 'docker:a' }))).not.toBe(host)
    expect(computePackageHash(options({ installer: noop, installerId: 'docker:a' }))).not.toBe(
      computePackageHash(options({ installer: noop, installerId: 'docker:b' })),
    )
  })
})

describe('without a Docker engine', () => {
  it('installs on the host, with a warning that says why native modules may not match', async () => {
    vi.stubEnv('DOCKER_HOST', `unix://${join(work, 'no-engine.sock')}`)
    try {
      const { ctx, lines } = capturingContext()
      // Through the config path: no aws.buildImage means the SAM image, which needs the (dead) engine.
      const pkg = await packageForAws({ benchmark: DYNAMIC_HTML, language: 'python', arch: 'x64' }, ctx, {})
      const warning = lines.find((l) => l.includes('warning:'))
      expect(warning).toMatch(
        /installing 110\.dynamic-html \(python\) dependencies on the host: no Docker engine answers on unix:\/\/.*no-engine\.sock.*; native modules are built for this machine and may not load on Lambda$/,
      )
      expect(lines.some((l) => / in \S+: /.test(l) && l.includes('installing'))).toBe(false)
      const dir = await unzip(pkg.path, 'host-110')
      expect(existsSync(join(dir, 'jinja2', '__init__.py'))).toBe(true)
      const out = runPythonHandler(dir, { username: 'host', random_len: 3 })
      expect(String(out.result)).toContain('host')
    } finally {
      vi.unstubAllEnvs()
    }
  })

  it('buildImage: false takes the host path and says so', async () => {
    const { ctx, lines } = capturingContext()
    await buildLambdaPackage({ benchmark: ECHO, language: 'python', arch: 'x64' }, ctx, { runtime: RUNTIME, buildImage: false })
    expect(lines.find((l) => l.includes('warning:'))).toMatch(/on the host: aws\.buildImage is false; native modules/)
  })
})

describe.skipIf(!available.ok)(dockerSuiteTitle('Lambda packages built in a build image (offline base image as the provider image)', available), () => {
  it('python 110.dynamic-html: pip runs in the container; the zip holds jinja2 and markupsafe’s extension; the handler renders', async () => {
    const image = await ensureBaseImage('python')
    // No host interpreter: a host install would fail, so a package proves the container did it.
    const { ctx, lines } = capturingContext({ runtimes: { python: '/nonexistent/python3', node: process.execPath } })
    const pkg = await buildLambdaPackage({ benchmark: DYNAMIC_HTML, language: 'python', arch: 'x64' }, ctx, { runtime: RUNTIME, buildImage: image })
    expect(pkg.cached).toBe(false)
    expect(lines.some((l) => l.includes('warning:'))).toBe(false)
    expect(lines.find((l) => l.includes(`dependencies in ${image}: pip install`))).toBeDefined()
    expect(lines.find((l) => l.startsWith(`[sebs] in ${image}: Successfully installed`))).toMatch(/jinja2-3\.1\.6.*markupsafe-3\.0\.3|markupsafe-3\.0\.3.*jinja2-3\.1\.6/i)

    const dir = await unzip(pkg.path, 'image-110-python')
    expect(existsSync(join(dir, 'jinja2', '__init__.py'))).toBe(true)
    expect(readdirSync(join(dir, 'markupsafe')).some((f) => /^_speedups\..*\.so$/.test(f))).toBe(true)
    expect(existsSync(join(dir, INSTALLER_REQUIREMENTS_FILE))).toBe(false)
    const out = runPythonHandler(dir, { username: 'in-image', random_len: 5 })
    const html = String(out.result)
    expect(html).toContain('in-image')
    expect((html.match(/<li>/g) ?? []).length).toBe(5)

    // Cached by a hash that includes the image; the host build of the same benchmark is a different package.
    const again = await buildLambdaPackage({ benchmark: DYNAMIC_HTML, language: 'python', arch: 'x64' }, ctx, { runtime: RUNTIME, buildImage: image })
    expect(again).toMatchObject({ cached: true, hash: pkg.hash })
    const { ctx: hostCtx } = capturingContext()
    const host = await buildLambdaPackage({ benchmark: DYNAMIC_HTML, language: 'python', arch: 'x64' }, hostCtx, { runtime: RUNTIME, buildImage: false })
    expect(host.hash).not.toBe(pkg.hash)
  }, 300_000)

  it('nodejs 110.dynamic-html: npm runs in the container in function/; the handler renders with mustache', async () => {
    const image = await ensureBaseImage('nodejs')
    const { ctx, lines } = capturingContext()
    const pkg = await buildLambdaPackage({ benchmark: DYNAMIC_HTML, language: 'nodejs', arch: 'x64' }, ctx, { runtime: RUNTIME, buildImage: image })
    expect(lines.some((l) => l.includes('warning:'))).toBe(false)
    expect(lines.find((l) => l.includes(`dependencies in ${image}:`) && l.includes('npm install'))).toBeDefined()
    expect(lines.find((l) => l.startsWith(`[sebs] in ${image}: `))).toMatch(/added \d+ package/)
    const dir = await unzip(pkg.path, 'image-110-nodejs')
    expect(existsSync(join(dir, 'function', 'node_modules', 'mustache', 'package.json'))).toBe(true)
    const { handler } = createRequire(import.meta.url)(join(dir, 'handler.js')) as {
      handler: (event: unknown, context: unknown) => Promise<WrapperEnvelope>
    }
    vi.stubEnv('TMPDIR', work)
    const out = await handler(
      { username: 'node-in-image', random_len: 4 },
      { awsRequestId: '7d1e2f3a-0000-4000-8000-00000000000d', functionName: 'sebs-test', getRemainingTimeInMillis: () => 5000 },
    ).finally(() => vi.unstubAllEnvs())
    expect(out.error ?? undefined).toBeUndefined()
    expect(JSON.stringify(out.result)).toContain('node-in-image')
  }, 300_000)

  it('901.echo (no dependencies) packages and runs with the build image configured', async () => {
    const image = await ensureBaseImage('python')
    const { ctx } = capturingContext()
    const pkg = await buildLambdaPackage({ benchmark: ECHO, language: 'python', arch: 'x64' }, ctx, { runtime: RUNTIME, buildImage: image })
    const dir = await unzip(pkg.path, 'image-echo')
    expect(runPythonHandler(dir, { message: 'hi' }).result).toMatchObject({ echo: { message: 'hi' } })
  }, 120_000)

  it('a build image that is missing and cannot be pulled fails with how to get it', async () => {
    const { ctx } = capturingContext()
    const missing = 'sebs-test-missing.invalid/none:1'
    await expect(
      buildLambdaPackage({ benchmark: DYNAMIC_HTML, language: 'python', arch: 'x64' }, ctx, { runtime: RUNTIME, buildImage: missing }),
    ).rejects.toThrow(new RegExp(`build image ${missing.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} is not in the Docker engine.*docker pull`, 's'))
  }, 120_000)

  it('azure: python deps land in .python_packages/lib/site-packages through the image', async () => {
    const image = await ensureBaseImage('python')
    const { ctx, lines } = capturingContext()
    const pkg = await buildAzurePackage({ benchmark: DYNAMIC_HTML, language: 'python', arch: 'x64' }, ctx, {
      runtime: { python: '3.11', nodejs: '20' },
      buildImage: image,
    })
    expect(lines.find((l) => l.includes(`dependencies in ${image}: pip install`))).toBeDefined()
    const dir = await unzip(pkg.path, 'azure-110')
    expect(existsSync(join(dir, '.python_packages', 'lib', 'site-packages', 'jinja2', '__init__.py'))).toBe(true)
    expect(existsSync(join(dir, INSTALLER_REQUIREMENTS_FILE))).toBe(false)
  }, 300_000)
})
