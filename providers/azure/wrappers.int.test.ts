/**
 * The packaged wrappers, run as the platform runs them: the built zip is
 * unpacked and its function is loaded by a language-worker stand-in
 * (testing/host/) that hands it HTTP-trigger-shaped requests (v3 `context` +
 * `req` for node, `func.HttpRequest` + `func.Context` for python). Plus the
 * python storage/nosql modules against stand-ins of their SDKs (the local
 * pip index carries neither azure-storage-blob nor azure-cosmos).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Language, WrapperEnvelope } from '../../core/types.ts'
import { loadFixtureBenchmark } from '../../test/support/conformance/fixtures.ts'
import { AZURE_FUNCTION_FILES, buildAzurePackage, npmInstallArgs, pipInstallArgs } from './packaging.ts'
import { extractZip } from '../../test/support/azure/fake-azure.ts'
import { TEST_BUILD_CACHE } from '../../test/support/azure/testbed.ts'
import { createLogger } from '../../core/logger.ts'

const here = dirname(fileURLToPath(import.meta.url))
const run = promisify(execFile)
const logger = createLogger('sebs', { quiet: true })
const buildContext = { cacheDir: TEST_BUILD_CACHE, logger, runtimes: { python: 'python3', node: process.execPath } }
const RUNTIME = { runtime: { python: '3.11', nodejs: '20' } }

interface HttpAnswer {
  status: number
  headers: Record<string, string>
  body: string
}

/** One language worker on an unpacked package, driven with HTTP-trigger requests. */
class WorkerDriver {
  private proc!: ChildProcess
  private pending = new Map<string, (m: { type: string; status?: number; headers?: Record<string, string>; body?: string; message?: string }) => void>()
  constructor(
    readonly appRoot: string,
    readonly language: Language,
    readonly tmp: string,
    readonly env: Record<string, string> = {},
  ) {}

  async start(): Promise<void> {
    const fnDir = join(this.appRoot, 'function')
    const fnJson = JSON.parse(await readFile(join(fnDir, 'function.json'), 'utf8')) as { scriptFile: string; entryPoint?: string }
    const [cmd, args] =
      this.language === 'python'
        ? ['python3', ['-u', join(here, '..', '..', 'test', 'support', 'azure', 'host', 'python_worker.py'), this.appRoot, 'function', fnJson.scriptFile, fnJson.entryPoint ?? '']]
        : [process.execPath, [join(here, '..', '..', 'test', 'support', 'azure', 'host', 'node-worker.cjs'), fnDir, fnJson.scriptFile, '']]
    this.proc = spawn(cmd, args, {
      cwd: this.appRoot,
      env: { PATH: process.env.PATH ?? '', TMPDIR: this.tmp, HOME: this.tmp, ...this.env },
      stdio: ['pipe', 'inherit', 'inherit', 'pipe'],
    })
    const ready = new Promise<void>((resolve, reject) => {
      createInterface({ input: this.proc.stdio[3] as NodeJS.ReadableStream }).on('line', (line) => {
        const msg = JSON.parse(line)
        if (msg.type === 'ready') resolve()
        else if (msg.type === 'init-error') reject(new Error(msg.message))
        else this.pending.get(msg.id)?.(msg)
      })
      this.proc.once('exit', (code) => reject(new Error(`worker exited with ${code}`)))
    })
    await ready
  }

  send(body: string, headers: Record<string, string> = { 'content-type': 'application/json' }, invocationId = randomUUID()): Promise<HttpAnswer> {
    const id = randomUUID()
    return new Promise((resolve, reject) => {
      this.pending.set(id, (m) => {
        if (m.type !== 'response') return reject(new Error(m.message))
        resolve({ status: m.status!, headers: m.headers!, body: Buffer.from(m.body ?? '', 'base64').toString('utf8') })
      })
      this.proc.stdin!.write(
        JSON.stringify({ id, invocationId, functionName: 'function', method: 'POST', url: '/api/function', headers, body: Buffer.from(body).toString('base64') }) + '\n',
      )
    })
  }

  close(): void {
    this.proc?.kill('SIGKILL')
  }
}

describe('packaging', () => {
  it('pip and npm arguments target Linux x64 for the configured runtime', () => {
    expect(pipInstallArgs('3.11')).toEqual([
      '--platform',
      'manylinux_2_28_x86_64',
      '--platform',
      'manylinux2014_x86_64',
      '--implementation',
      'cp',
      '--python-version',
      '3.11',
      '--only-binary=:all:',
    ])
    expect(() => pipInstallArgs('python3.11')).toThrow(/not a Python version/)
    expect(npmInstallArgs()).toEqual(['--os=linux', '--cpu=x64', '--libc=glibc', '--no-bin-links'])
  })

  it.each(['python', 'nodejs'] as const)('the %s zip has the Azure Functions layout, is deterministic and cached', async (language) => {
    const benchmark = await loadFixtureBenchmark('901.echo')
    // A private cache: forced rebuilds and other runtimes prune siblings, which must not race other test files.
    const dir = await mkdtemp(join(tmpdir(), 'sebs-azure-layout-'))
    const ctx = { ...buildContext, cacheDir: join(dir, 'cache') }
    try {
      const pkg = await buildAzurePackage({ benchmark, language, arch: 'x64' }, ctx, RUNTIME)
      expect(pkg).toMatchObject({ provider: 'azure', kind: 'zip', language, benchmark: '901.echo', cached: false })
      const first = await readFile(pkg.path)
      const again = await buildAzurePackage({ benchmark, language, arch: 'x64' }, { ...ctx, force: true }, RUNTIME)
      expect(again.hash).toBe(pkg.hash)
      expect((await readFile(again.path)).equals(first)).toBe(true)
      expect(await buildAzurePackage({ benchmark, language, arch: 'x64' }, ctx, RUNTIME)).toMatchObject({ cached: true, path: pkg.path })
      // Another runtime version is another package.
      const other = await buildAzurePackage({ benchmark, language, arch: 'x64' }, ctx, { runtime: { python: '3.12', nodejs: '22' } })
      expect(other.hash).not.toBe(pkg.hash)

      const app = join(dir, 'app')
      await extractZip(first, app)
      expect((await readdir(app)).sort()).toEqual(['function', 'host.json'])
      const files = (await readdir(join(app, 'function'))).sort()
      expect(files).toEqual(language === 'python' ? ['__init__.py', 'function.json', 'function.py', 'handler.py', 'sebs_core.py'] : ['function.js', 'function.json', 'handler.js', 'sebs-core.js'])
      const fnJson = JSON.parse(await readFile(join(app, 'function', 'function.json'), 'utf8'))
      expect(fnJson.scriptFile).toBe(language === 'python' ? 'handler.py' : 'handler.js')
      expect(fnJson.bindings[0]).toEqual({ authLevel: 'anonymous', type: 'httpTrigger', direction: 'in', name: 'req', methods: ['post'] })
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('a benchmark with the storage module gets storage.js and @azure/storage-blob (Linux build) in function/node_modules', async () => {
    const benchmark = await loadFixtureBenchmark('902.storage-echo')
    const pkg = await buildAzurePackage({ benchmark, language: 'nodejs', arch: 'x64' }, buildContext, RUNTIME)
    const dir = pkg.path.replace(/\.zip$/, '')
    expect((await readdir(join(dir, 'function'))).sort()).toEqual(expect.arrayContaining(['storage.js', 'node_modules', 'package.json']))
    const installed = JSON.parse(await readFile(join(dir, 'function', 'node_modules', '@azure', 'storage-blob', 'package.json'), 'utf8'))
    expect(installed.version).toBe('12.32.0')
    // --no-bin-links: no symlinks that a run-from-package mount might not keep.
    await expect(readdir(join(dir, 'function', 'node_modules', '.bin'))).rejects.toMatchObject({ code: 'ENOENT' })
  }, 300_000)
})

describe.each(['nodejs', 'python'] as const)('the packaged %s wrapper under an HTTP trigger', (language) => {
  let root: string
  let tmp: string
  let worker: WorkerDriver

  beforeAll(async () => {
    const benchmark = await loadFixtureBenchmark('901.echo')
    const pkg = await buildAzurePackage({ benchmark, language, arch: 'x64' }, buildContext, RUNTIME)
    root = await mkdtemp(join(tmpdir(), 'sebs-azure-wrapper-'))
    tmp = join(root, 'tmp')
    await mkdir(tmp)
    await extractZip(await readFile(pkg.path), join(root, 'app'))
    worker = new WorkerDriver(join(root, 'app'), language, tmp, { SEBS_COLD_START: '7', CONTAINER_NAME: 'instance-a' })
    await worker.start()
  }, 300_000)

  afterAll(async () => {
    worker?.close()
    if (root) await rm(root, { recursive: true, force: true })
  })

  it('a probe answers without running the benchmark or writing the cold-start marker', async () => {
    const res = await worker.send('{}', { 'content-type': 'application/json', 'x-sebs-probe': '1' })
    expect(res.status).toBe(200)
    expect(JSON.parse(res.body)).toMatchObject({ probe: true, coldStartCounter: '7', markerExists: false })
    expect(await readdir(tmp)).toEqual([])
  })

  it('returns the envelope: cold then warm in one container, the invocation id as request id', async () => {
    const invocationId = randomUUID()
    const first = await worker.send(JSON.stringify({ message: 'hello' }), { 'content-type': 'application/json' }, invocationId)
    expect(first.status).toBe(200)
    expect(first.headers['content-type']).toMatch(/application\/json/)
    const e1 = JSON.parse(first.body) as WrapperEnvelope & { isColdWorker: boolean; environContainerId: string }
    expect(e1).toMatchObject({ isCold: true, isColdWorker: true, requestId: invocationId, environContainerId: 'instance-a' })
    expect((e1.result as { echo: Record<string, unknown> }).echo).toMatchObject({ message: 'hello', 'request-id': invocationId })
    expect(e1.end).toBeGreaterThanOrEqual(e1.begin)
    // Epoch microseconds.
    expect(Math.abs(e1.begin / 1000 - Date.now())).toBeLessThan(60_000)
    expect(e1.computeTimeUs).toBeGreaterThanOrEqual(0)
    expect(e1.rssPeakKb).toBeGreaterThan(1000)
    expect(e1.cpuUserUs).toBeGreaterThanOrEqual(0)
    expect(await readFile(join(tmp, 'cold_run'), 'utf8')).toBe(e1.containerId)

    const e2 = JSON.parse((await worker.send(JSON.stringify({ message: 'again' }))).body) as WrapperEnvelope & { isColdWorker: boolean }
    expect(e2).toMatchObject({ isCold: false, isColdWorker: false, containerId: e1.containerId })
    expect(e2.requestId).not.toBe(e1.requestId)
  })

  it('a throwing benchmark is an envelope with the error (HTTP 200, result null); the worker keeps serving', async () => {
    const res = await worker.send(JSON.stringify({ fail: 'deliberate failure' }))
    expect(res.status).toBe(200)
    const e = JSON.parse(res.body) as WrapperEnvelope
    expect(e.result).toBeNull()
    expect(e.error).toMatchObject({ message: 'deliberate failure' })
    expect(e.error!.trace).toContain('deliberate failure')
    expect(JSON.parse((await worker.send('{"message":"ok"}')).body).error).toBeUndefined()
  })

  it('a body that is not JSON is a 400 with a message; an empty body is an empty event', async () => {
    const bad = await worker.send('{nope', { 'content-type': 'text/plain' })
    expect(bad.status).toBe(400)
    expect(JSON.parse(bad.body).error.message).toMatch(/not JSON/)
    const empty = JSON.parse((await worker.send('', { 'content-type': 'application/json' })).body) as WrapperEnvelope
    expect(Object.keys((empty.result as { echo: object }).echo).sort()).toEqual(['income-timestamp', 'request-id'])
  })
})

describe('python storage.py and nosql.py (against SDK stand-ins)', () => {
  let root: string

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'sebs-azure-pymods-'))
    const pkg = join(root, 'pkg', 'function')
    await mkdir(pkg, { recursive: true })
    await writeFile(join(pkg, '__init__.py'), '')
    await copyFile(AZURE_FUNCTION_FILES.python.storage, join(pkg, 'storage.py'))
    await copyFile(AZURE_FUNCTION_FILES.python.nosql, join(pkg, 'nosql.py'))
  })

  afterAll(async () => {
    if (root) await rm(root, { recursive: true, force: true })
  })

  async function python(script: string, env: Record<string, string>): Promise<unknown> {
    const { stdout } = await run('python3', ['-c', script], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', PYTHONPATH: [join(here, '..', '..', 'test', 'support', 'azure', 'python-sdk-standins'), join(root, 'pkg')].join(':'), PYTHONDONTWRITEBYTECODE: '1', ...env },
    })
    return JSON.parse(stdout.trim().split('\n').pop()!)
  }

  it('storage: unique keys, whole-key download_directory (as SeBS), streams; the connection string from STORAGE_CONNECTION_STRING', async () => {
    const blobs = join(root, 'blobs')
    await mkdir(join(blobs, 'bucket'), { recursive: true })
    const out = (await python(
      `
import json, os
from function import storage
c = storage.storage.get_instance()
assert storage.storage.get_instance() is c
open('in.txt', 'w').write('payload')
k1 = c.upload('bucket', 'in/dir/data.txt', 'in.txt')
k2 = c.upload_stream('bucket', 'in/dir/stream.bin', b'\\x00\\x01')
c.download('bucket', k1, 'out/copy.txt')
c.download_directory('bucket', 'in/', 'dl')
files = sorted(os.path.relpath(os.path.join(d, f), 'dl') for d, _, fs in os.walk('dl') for f in fs)
print(json.dumps({'k1': k1, 'k2': k2, 'copy': open('out/copy.txt').read(), 'files': files, 'stream': list(c.download_stream('bucket', k2))}))
`,
      { STORAGE_CONNECTION_STRING: `DefaultEndpointsProtocol=http;AccountName=x;AccountKey=eA==;BlobEndpoint=file://${blobs}` },
    )) as { k1: string; k2: string; copy: string; files: string[]; stream: number[] }
    expect(out.k1).toMatch(/^in\/dir\/data\.[0-9a-f]{8}\.txt$/)
    expect(out.k2).toMatch(/^in\/dir\/stream\.[0-9a-f]{8}\.bin$/)
    expect(out.copy).toBe('payload')
    // SeBS keeps the whole key below the target directory.
    expect(out.files).toEqual([out.k1, out.k2].sort())
    expect(out.stream).toEqual([0, 1])
  })

  it('storage without a connection string is a clear error', async () => {
    await expect(python('from function import storage\nstorage.storage.get_instance()', {})).rejects.toThrow(/STORAGE_CONNECTION_STRING is not set/)
  })

  it('nosql: SeBS mapping (secondary key as id, primary key as partition), DynamoDB-like items, update/query/delete', async () => {
    const out = (await python(
      `
import json
import azure.cosmos as cosmos
cosmos.register_container('sebs-benchmarks', '130.crud-api-shopping_cart', 'cart_id')
cosmos.register_container('sebs-benchmarks', '903.nosql-echo-items', 'id')
from function import nosql
c = nosql.nosql.get_instance()
c.insert('shopping_cart', ('cart_id', 'c1'), ('product_id', 'b'), {'name': 'banana', 'price': 1, 'quantity': 2})
c.insert('shopping_cart', ('cart_id', 'c1'), ('product_id', 'a'), {'name': 'apple', 'price': 3, 'quantity': 1})
c.insert('shopping_cart', ('cart_id', 'c2'), ('product_id', 'a'), {'name': 'elsewhere', 'price': 0, 'quantity': 0})
got = c.get('shopping_cart', ('cart_id', 'c1'), ('product_id', 'b'))
missing = c.get('shopping_cart', ('cart_id', 'c1'), ('product_id', 'zzz'))
c.update('shopping_cart', ('cart_id', 'c1'), ('product_id', 'a'), {'quantity': 5})
q = c.query('shopping_cart', ('cart_id', 'c1'), 'product_id')
c.delete('shopping_cart', ('cart_id', 'c1'), ('product_id', 'a'))
c.delete('shopping_cart', ('cart_id', 'c1'), ('product_id', 'a'))
after = c.query('shopping_cart', ('cart_id', 'c1'), 'product_id')
c.insert('items', ('id', 'item-1'), None, {'label': 'hello'})
item = c.get('items', ('id', 'item-1'), None)
stored = cosmos._DATA[('sebs-benchmarks', '130.crud-api-shopping_cart')][0][(repr('c1'), 'b')]
print(json.dumps({'got': got, 'missing': missing, 'q': q, 'after': [i['product_id'] for i in after], 'item': item, 'stored_id': stored['id']}))
`,
      {
        NOSQL_STORAGE_URL: 'https://acct.documents.azure.com:443/',
        NOSQL_STORAGE_CREDS: 'a2V5',
        NOSQL_STORAGE_TABLE_shopping_cart: '130.crud-api-shopping_cart',
        NOSQL_STORAGE_TABLE_items: '903.nosql-echo-items',
      },
    )) as { got: object; missing: null; q: Array<Record<string, unknown>>; after: string[]; item: object; stored_id: string }
    expect(out.got).toEqual({ cart_id: 'c1', product_id: 'b', name: 'banana', price: 1, quantity: 2 })
    expect(out.missing).toBeNull()
    expect(out.q.map((i) => [i.product_id, i.quantity])).toEqual([
      ['a', 5],
      ['b', 2],
    ])
    expect(out.after).toEqual(['b'])
    expect(out.item).toEqual({ id: 'item-1', label: 'hello' })
    expect(out.stored_id).toBe('b')
  })

  it('nosql without an endpoint, or with an undeclared table, is a clear error', async () => {
    await expect(python('from function import nosql\nnosql.nosql.get_instance()', {})).rejects.toThrow(/Cosmos DB endpoint and key are not set/)
    await expect(
      python("from function import nosql\nnosql.nosql.get_instance().get('nope', ('a', 'b'), None)", { SEBS_NOSQL_ENDPOINT: 'https://x', SEBS_NOSQL_SECRET_KEY: 'eA==' }),
    ).rejects.toThrow(/NOSQL_STORAGE_TABLE_nope/)
  })
})
