/**
 * Builds real Lambda zips (pip and npm run): layout, the handler inside them,
 * caching, and platform selection against locally built wheel and npm fixtures.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import yauzl from 'yauzl'
import { createLogger } from '../../core/logger.ts'
import type { BenchmarkDefinition, WrapperEnvelope } from '../../core/types.ts'
import { loadFixtureBenchmark } from '../../test/support/conformance/fixtures.ts'
import type { BuildContext } from '../types.ts'
import { packageForAws } from './index.ts'
import { buildLambdaPackage } from './packaging.ts'
import { extractZip } from '../../test/support/aws/fake-aws.ts'
import { writeBenchmark, writeWheel } from '../../test/support/aws/fixtures.ts'

let ECHO: BenchmarkDefinition
let work: string
let ctx: BuildContext

beforeAll(async () => {
  ECHO = await loadFixtureBenchmark('901.echo')
  work = await mkdtemp(join(tmpdir(), 'sebs-aws-pkg-'))
  ctx = {
    cacheDir: join(work, 'cache'),
    logger: createLogger('sebs', { quiet: true, write: () => {} }),
    runtimes: { python: 'python3', node: process.execPath },
  }
})
afterAll(async () => {
  await rm(work, { recursive: true, force: true })
})

function zipEntries(path: string): Promise<string[]> {
  return new Promise((res, rej) =>
    yauzl.open(path, { lazyEntries: true }, (err, zip) => {
      if (err || !zip) return rej(err)
      const names: string[] = []
      zip.on('entry', (e: yauzl.Entry) => {
        names.push(e.fileName)
        zip.readEntry()
      })
      zip.on('end', () => res(names))
      zip.on('error', rej)
      zip.readEntry()
    }),
  )
}

describe('pip picks the wheel Lambda can load (local wheel fixtures)', () => {
  let wheels: string
  let bench: BenchmarkDefinition

  beforeAll(async () => {
    wheels = join(work, 'wheels')
    const w = (pyTag: string, platform: string, name = 'sebsfix') =>
      writeWheel(wheels, { name, version: '1.0', pyTag, abiTag: pyTag, platform })
    await w('cp311', 'manylinux_2_17_x86_64.manylinux2014_x86_64')
    await w('cp311', 'manylinux_2_28_x86_64')
    await w('cp311', 'manylinux_2_17_aarch64.manylinux2014_aarch64')
    await w('cp312', 'manylinux_2_17_x86_64.manylinux2014_x86_64')
    await w('cp312', 'manylinux_2_28_x86_64')
    await w('cp312', 'manylinux_2_28_aarch64')
    // Only a glibc 2.28 wheel: loadable on AL2023, not on AL2.
    await w('cp311', 'manylinux_2_28_x86_64', 'sebsnew')
    await w('cp312', 'manylinux_2_28_x86_64', 'sebsnew')
    bench = await writeBenchmark(join(work, 'benchmarks'), '801.wheels', {
      python: { 'function.py': 'import sebsfix\n\ndef handler(event):\n    return {"result": sebsfix.WHEEL_TAG}\n', 'requirements.txt': 'sebsfix\n' },
    })
    // The builder runs pip with the process environment: point it at the fixtures only.
    vi.stubEnv('PIP_NO_INDEX', '1')
    vi.stubEnv('PIP_FIND_LINKS', wheels)
  })
  afterAll(() => {
    vi.unstubAllEnvs()
  })

  const installedTag = async (runtime: string, arch: 'x64' | 'arm64', benchmark = bench, pkgName = 'sebsfix') => {
    const pkg = await buildLambdaPackage({ benchmark, language: 'python', arch }, ctx, { runtime: { python: runtime, nodejs: 'nodejs22.x' } })
    const dir = join(work, 'unzipped', `${benchmark.id}-${runtime}-${arch}`)
    await rm(dir, { recursive: true, force: true })
    await extractZip(await readFile(pkg.path), dir)
    return /WHEEL_TAG = "(.*)"/.exec(readFileSync(join(dir, pkgName, '__init__.py'), 'utf8'))?.[1]
  }

  it('python3.11 x64 takes the manylinux2014 wheel even when a manylinux_2_28 one exists', async () => {
    expect(await installedTag('python3.11', 'x64')).toBe('cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64')
  })

  it('python3.11 arm64 takes the aarch64 wheel, not the builder machine’s x86_64 one', async () => {
    expect(await installedTag('python3.11', 'arm64')).toBe('cp311-cp311-manylinux_2_17_aarch64.manylinux2014_aarch64')
  })

  it('python3.12 x64 takes the cp312 manylinux_2_28 wheel (the interpreter is 3.11 here)', async () => {
    expect(await installedTag('python3.12', 'x64')).toBe('cp312-cp312-manylinux_2_28_x86_64')
  })

  it('python3.12 arm64 takes the cp312 aarch64 wheel', async () => {
    expect(await installedTag('python3.12', 'arm64')).toBe('cp312-cp312-manylinux_2_28_aarch64')
  })

  it('a manylinux_2_28-only package installs for python3.12 and is refused for python3.11', async () => {
    const newOnly = await writeBenchmark(join(work, 'benchmarks'), '802.new-glibc', {
      python: { 'function.py': 'def handler(event):\n    return {"result": 1}\n', 'requirements.txt': 'sebsnew\n' },
    })
    expect(await installedTag('python3.12', 'x64', newOnly, 'sebsnew')).toBe('cp312-cp312-manylinux_2_28_x86_64')
    await expect(installedTag('python3.11', 'x64', newOnly, 'sebsnew')).rejects.toThrow(/sebsnew/)
  })
})

describe('npm picks the optional packages of the target CPU', () => {
  it('an arm64 build installs the arm64 package and skips the x64 one', async () => {
    const fx = join(work, 'npm-fixtures')
    for (const cpu of ['arm64', 'x64']) {
      const dir = join(fx, cpu)
      await mkdir(dir, { recursive: true })
      await writeFile(join(dir, 'package.json'), JSON.stringify({ name: `sebsfix-${cpu}`, version: '1.0.0', os: ['linux'], cpu: [cpu] }))
      await writeFile(join(dir, 'index.js'), `module.exports = '${cpu}'\n`)
      const packed = spawnSync('npm', ['pack', '--pack-destination', fx], { cwd: dir, encoding: 'utf8' })
      expect(packed.status, packed.stderr).toBe(0)
    }
    const bench = await writeBenchmark(join(work, 'benchmarks'), '803.npm-cpu', {
      nodejs: {
        'function.js': 'exports.handler = async () => ({ result: 1 })\n',
        'package.json': JSON.stringify({
          name: 'npm-cpu',
          version: '1.0.0',
          optionalDependencies: {
            'sebsfix-arm64': `file:${join(fx, 'sebsfix-arm64-1.0.0.tgz')}`,
            'sebsfix-x64': `file:${join(fx, 'sebsfix-x64-1.0.0.tgz')}`,
          },
        }),
      },
    })
    const arm = await buildLambdaPackage({ benchmark: bench, language: 'nodejs', arch: 'arm64' }, ctx, {
      runtime: { python: 'python3.11', nodejs: 'nodejs22.x' },
    })
    const armEntries = await zipEntries(arm.path)
    expect(armEntries).toContain('function/node_modules/sebsfix-arm64/index.js')
    expect(armEntries.some((e) => e.includes('sebsfix-x64'))).toBe(false)
    const x64 = await buildLambdaPackage({ benchmark: bench, language: 'nodejs', arch: 'x64' }, ctx, {
      runtime: { python: 'python3.11', nodejs: 'nodejs22.x' },
    })
    const x64Entries = await zipEntries(x64.path)
    expect(x64Entries).toContain('function/node_modules/sebsfix-x64/index.js')
    expect(x64Entries.some((e) => e.includes('sebsfix-arm64'))).toBe(false)
  })
})

describe('the Lambda zip of 901.echo', () => {
  it('python: handler.py at the root beside the function/ package; the handler runs with a Lambda-shaped event', async () => {
    const pkg = await packageForAws({ benchmark: ECHO, language: 'python', arch: 'x64' }, ctx, {})
    expect(pkg).toMatchObject({ provider: 'aws', kind: 'zip', language: 'python', arch: 'x64', benchmark: '901.echo' })
    expect(pkg.path.endsWith('.zip')).toBe(true)
    const entries = await zipEntries(pkg.path)
    expect(entries).toContain('handler.py')
    expect(entries).toContain('sebs_core.py')
    expect(entries).toContain('function/function.py')
    expect(entries).toContain('function/__init__.py')
    expect(entries.some((e) => e.includes('.sebs-package.json'))).toBe(false)

    const dir = join(work, 'py-echo')
    await extractZip(await readFile(pkg.path), dir)
    const script = [
      'import json, sys',
      'sys.path.insert(0, sys.argv[1])',
      'import handler',
      'class Ctx:',
      '    aws_request_id = "5a1c2b3d-0000-4000-8000-00000000000a"',
      '    function_name = "sebs-test"',
      'out = [handler.handler({"message": "hello"}, Ctx()), handler.handler({"message": "again"}, Ctx())]',
      'out.append(handler.handler({"version": "2.0", "requestContext": {"http": {"method": "POST"}}, "body": json.dumps({"message": "via url"}), "isBase64Encoded": False}, Ctx()))',
      'out.append(handler.handler({"fail": "deliberate"}, Ctx()))',
      'print(json.dumps(out))',
    ].join('\n')
    const tmp = await mkdtemp(join(work, 'tmp-'))
    const run = spawnSync('python3', ['-c', script, dir], { cwd: dir, encoding: 'utf8', env: { ...process.env, TMPDIR: tmp } })
    expect(run.status, run.stderr).toBe(0)
    const [cold, warm, http, failed] = JSON.parse(run.stdout) as [WrapperEnvelope, WrapperEnvelope, { statusCode: number; body: string }, WrapperEnvelope]
    expect(cold.isCold).toBe(true)
    expect(cold.requestId).toBe('5a1c2b3d-0000-4000-8000-00000000000a')
    expect(cold.result).toMatchObject({ echo: { message: 'hello' } })
    expect(cold.end).toBeGreaterThanOrEqual(cold.begin)
    expect(typeof cold.rssPeakKb).toBe('number')
    expect(warm.isCold).toBe(false)
    expect(warm.containerId).toBe(cold.containerId)
    expect(http.statusCode).toBe(200)
    const httpEnvelope = JSON.parse(http.body) as WrapperEnvelope
    expect(httpEnvelope.result).toMatchObject({ echo: { message: 'via url' } })
    expect(failed.error?.message).toBe('deliberate')
    expect(failed.result).toBeNull()
    expect(existsSync(join(tmp, 'cold_run'))).toBe(true)
  })

  it('nodejs: handler.js at the root; handler.handler runs in-process with a Lambda-shaped context', async () => {
    const pkg = await packageForAws({ benchmark: ECHO, language: 'nodejs', arch: 'arm64' }, ctx, { runtime: { nodejs: 'nodejs24.x' } })
    expect(pkg).toMatchObject({ kind: 'zip', language: 'nodejs', arch: 'arm64' })
    const entries = await zipEntries(pkg.path)
    expect(entries).toContain('handler.js')
    expect(entries).toContain('sebs-core.js')
    expect(entries).toContain('function/function.js')

    const dir = join(work, 'node-echo')
    await extractZip(await readFile(pkg.path), dir)
    const tmp = await mkdtemp(join(work, 'tmp-'))
    vi.stubEnv('TMPDIR', tmp)
    try {
      const { handler } = createRequire(import.meta.url)(join(dir, 'handler.js')) as {
        handler: (event: unknown, context: unknown) => Promise<unknown>
      }
      const context = { awsRequestId: '7d1e2f3a-0000-4000-8000-00000000000b', functionName: 'sebs-test', getRemainingTimeInMillis: () => 2000 }
      const cold = (await handler({ message: 'hello' }, context)) as WrapperEnvelope
      const warm = (await handler({ message: 'again' }, context)) as WrapperEnvelope
      const http = (await handler(
        { version: '2.0', requestContext: { http: { method: 'POST' } }, body: Buffer.from(JSON.stringify({ message: 'b64' })).toString('base64'), isBase64Encoded: true },
        context,
      )) as { statusCode: number; headers: Record<string, string>; body: string }
      const failed = (await handler({ fail: 'deliberate' }, context)) as WrapperEnvelope
      expect(cold).toMatchObject({ isCold: true, requestId: '7d1e2f3a-0000-4000-8000-00000000000b', result: { echo: { message: 'hello' } } })
      expect(warm.isCold).toBe(false)
      expect(warm.containerId).toBe(cold.containerId)
      expect(http.statusCode).toBe(200)
      expect(http.headers['content-type']).toBe('application/json')
      expect((JSON.parse(http.body) as WrapperEnvelope).result).toMatchObject({ echo: { message: 'b64' } })
      expect(failed.error).toMatchObject({ type: 'Error', message: 'deliberate' })
      expect(failed.result).toBeNull()
    } finally {
      vi.unstubAllEnvs()
    }
  })

  it('a second build is served from the cache and the zip is byte-identical', async () => {
    const first = await packageForAws({ benchmark: ECHO, language: 'python', arch: 'x64' }, ctx, {})
    const bytes = await readFile(first.path)
    const again = await packageForAws({ benchmark: ECHO, language: 'python', arch: 'x64' }, ctx, {})
    expect(again.cached).toBe(true)
    expect(again.hash).toBe(first.hash)
    expect((await readFile(again.path)).equals(bytes)).toBe(true)
    const forced = await packageForAws({ benchmark: ECHO, language: 'python', arch: 'x64' }, { ...ctx, force: true }, {})
    expect(forced.cached).toBe(false)
    expect((await readFile(forced.path)).equals(bytes)).toBe(true)
  })

  it('a different runtime is a different package', async () => {
    const a = await packageForAws({ benchmark: ECHO, language: 'python', arch: 'x64' }, ctx, { runtime: { python: 'python3.11' } })
    const b = await packageForAws({ benchmark: ECHO, language: 'python', arch: 'x64' }, ctx, { runtime: { python: 'python3.12' } })
    expect(a.hash).not.toBe(b.hash)
  })
})
