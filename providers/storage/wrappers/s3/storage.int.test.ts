/**
 * The function-side storage modules against a real s3rver: the nodejs module
 * loaded as CommonJS (minio from the repo's node_modules), the python module
 * imported as `function.storage` from a package-like directory, with boto3
 * installed once into .sebs-cache/test-deps/boto3.
 */
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { copyFile, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import type { Readable, Writable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ObjectStorage } from '../../../types.ts'
import { createS3Storage } from '../../s3-storage.ts'
import { startS3rver, type RunningS3rver } from '../../s3rver-server.ts'
import { S3_FUNCTION_STORAGE } from './index.ts'

const run = promisify(execFile)
const here = dirname(fileURLToPath(import.meta.url))
const repoRoot = resolve(here, '../../../..')
const BOTO3_DIR = join(repoRoot, '.sebs-cache', 'test-deps', 'boto3')
const BUCKET = 'sebs-wrapper-test'
const UNIQUE = /\.[0-9a-f]{8}/

let work: string
let server: RunningS3rver
let harness: ObjectStorage
let savedEnv: NodeJS.ProcessEnv

/** boto3 for the python module, installed once and reused by later runs. */
async function ensureBoto3(): Promise<string> {
  if (existsSync(join(BOTO3_DIR, 'boto3', '__init__.py'))) return BOTO3_DIR
  await mkdir(dirname(BOTO3_DIR), { recursive: true })
  const tmp = `${BOTO3_DIR}.tmp-${process.pid}`
  await rm(tmp, { recursive: true, force: true })
  await run('python3', ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', '--target', tmp, 'boto3'], {
    timeout: 300_000,
  })
  await rename(tmp, BOTO3_DIR).catch(async (err: NodeJS.ErrnoException) => {
    // A concurrent run installed it first.
    if (existsSync(join(BOTO3_DIR, 'boto3', '__init__.py'))) await rm(tmp, { recursive: true, force: true })
    else throw err
  })
  return BOTO3_DIR
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'sebs-wrap-s3-'))
  server = await startS3rver({ directory: join(work, 's3rver') })
  harness = createS3Storage({ kind: 's3', endpoint: server.endpoint, bucket: BUCKET, accessKey: server.accessKey, secretKey: server.secretKey })
  await harness.ensureBucket(BUCKET)
  savedEnv = { ...process.env }
  process.env.SEBS_STORAGE_ENDPOINT = server.endpoint
  process.env.SEBS_STORAGE_ACCESS_KEY = server.accessKey
  process.env.SEBS_STORAGE_SECRET_KEY = server.secretKey
}, 360_000)

afterAll(async () => {
  process.env = savedEnv
  await harness?.close()
  await server?.close()
  if (work) await rm(work, { recursive: true, force: true })
})

interface NodeStorage {
  upload(bucket: string, key: string, filepath: string): [string, Promise<unknown>]
  download(bucket: string, key: string, filepath: string): Promise<void>
  downloadDirectory(bucket: string, prefix: string, path: string): Promise<string[]>
  uploadStream(bucket: string, key: string): [Writable, Promise<unknown>, string]
  downloadStream(bucket: string, key: string): Promise<Readable>
}
interface NodeStorageModule {
  storage: { new (): NodeStorage; get_instance(): NodeStorage; unique_name(name: string): string }
  unique_name(name: string): string
}

describe('nodejs storage.js', () => {
  const mod = createRequire(import.meta.url)(S3_FUNCTION_STORAGE.nodejs.file) as NodeStorageModule

  it('names keys the SeBS way: path kept, 8 hex chars before the extension', () => {
    expect(mod.unique_name('out/result.tar.gz')).toMatch(/^out\/result\.tar\.[0-9a-f]{8}\.gz$/)
    expect(mod.unique_name('noext')).toMatch(/^noext\.[0-9a-f]{8}$/)
    expect(mod.unique_name('dir.v1/file')).toMatch(/^dir\.v1\/file\.[0-9a-f]{8}$/)
    expect(mod.storage.unique_name('a.png')).toMatch(/^a\.[0-9a-f]{8}\.png$/)
    expect(mod.unique_name('a.png')).not.toBe(mod.unique_name('a.png'))
  })

  it('get_instance is a singleton', () => {
    expect(mod.storage.get_instance()).toBe(mod.storage.get_instance())
    expect(mod.storage.get_instance()).toBeInstanceOf(mod.storage)
  })

  it('upload → [uniqueKey, promise]; download writes the file', async () => {
    const client = new mod.storage()
    const src = join(work, 'node-up.bin')
    const data = randomBytes(100_000)
    await writeFile(src, data)
    const [key, promise] = client.upload(BUCKET, 'node-out/photo.jpg', src)
    expect(key).toMatch(/^node-out\/photo\.[0-9a-f]{8}\.jpg$/)
    await promise
    expect((await harness.download(BUCKET, key)).equals(data)).toBe(true)

    const dest = join(work, 'node-dl', 'nested', 'photo.jpg')
    await client.download(BUCKET, key, dest)
    expect((await readFile(dest)).equals(data)).toBe(true)
  })

  it('downloadDirectory writes each object at <path>/<whole key>, as SeBS does', async () => {
    await harness.uploadBuffer(BUCKET, 'node-dir/a.txt', Buffer.from('A'))
    await harness.uploadBuffer(BUCKET, 'node-dir/sub/b.txt', Buffer.from('B'))
    await harness.uploadBuffer(BUCKET, 'node-dirX/c.txt', Buffer.from('C'))
    const dest = join(work, 'node-dirs')
    const files = await new mod.storage().downloadDirectory(BUCKET, 'node-dir/', dest)
    expect(files.sort()).toEqual([join(dest, 'node-dir', 'a.txt'), join(dest, 'node-dir', 'sub', 'b.txt')])
    expect(await readFile(join(dest, 'node-dir', 'a.txt'), 'utf8')).toBe('A')
    expect(await readFile(join(dest, 'node-dir', 'sub', 'b.txt'), 'utf8')).toBe('B')
    expect(existsSync(join(dest, 'node-dirX', 'c.txt'))).toBe(false)
  })

  it('uploadStream → [writeStream, promise, uniqueKey]; downloadStream → Readable', async () => {
    const client = new mod.storage()
    const [ws, promise, key] = client.uploadStream(BUCKET, 'node-stream/data.json')
    expect(key).toMatch(/^node-stream\/data\.[0-9a-f]{8}\.json$/)
    ws.write('{"a":')
    ws.end('1}')
    await promise
    expect((await harness.download(BUCKET, key)).toString()).toBe('{"a":1}')

    const rs = await client.downloadStream(BUCKET, key)
    const chunks: Buffer[] = []
    for await (const c of rs) chunks.push(c as Buffer)
    expect(Buffer.concat(chunks).toString()).toBe('{"a":1}')
  })

  it('uploads a file above minio’s 64 MiB default part size in one PUT', async () => {
    const src = join(work, 'node-big.bin')
    const size = 65 * 1024 * 1024
    await writeFile(src, Buffer.alloc(size, 7))
    const [key, promise] = new mod.storage().upload(BUCKET, 'node-big/big.bin', src)
    await promise
    expect((await harness.stat(BUCKET, key))?.size).toBe(size)
    await rm(src)
  }, 120_000)

  it('rejects with the server error for a missing object', async () => {
    await expect(new mod.storage().download(BUCKET, 'node-none/missing.txt', join(work, 'never.txt'))).rejects.toThrow()
  })
})

describe('python storage.py', () => {
  let boto3Path: string
  let pkgRoot: string

  beforeAll(async () => {
    boto3Path = await ensureBoto3()
    // The layout of a built package: function/ is a Python package holding storage.py.
    pkgRoot = join(work, 'pypkg')
    await mkdir(join(pkgRoot, 'function'), { recursive: true })
    await copyFile(S3_FUNCTION_STORAGE.python.file, join(pkgRoot, 'function', 'storage.py'))
    await writeFile(join(pkgRoot, 'function', '__init__.py'), '')
    // What a benchmark function does: a relative import.
    await writeFile(
      join(pkgRoot, 'function', 'function.py'),
      'from . import storage\nclient = storage.storage.get_instance()\n',
    )
  }, 360_000)

  async function python(script: string): Promise<unknown> {
    const { stdout } = await run('python3', ['-c', script], {
      cwd: pkgRoot,
      env: { ...process.env, PYTHONPATH: [pkgRoot, boto3Path].join(':'), PYTHONDONTWRITEBYTECODE: '1' },
      timeout: 120_000,
      maxBuffer: 16 * 1024 * 1024,
    })
    return JSON.parse(stdout.trim().split('\n').pop()!)
  }

  it('round-trips every SeBS operation', async () => {
    await harness.uploadBuffer(BUCKET, 'py-in/model/w.bin', Buffer.from('weights'))
    await harness.uploadBuffer(BUCKET, 'py-in/model/cfg/c.json', Buffer.from('{}'))
    const src = join(work, 'py-src.bin')
    const big = join(work, 'py-big.bin')
    await writeFile(src, 'python upload')
    // Above boto3's 8 MiB multipart threshold: the multipart path must work on s3rver too.
    await writeFile(big, randomBytes(9 * 1024 * 1024))
    const dl = join(work, 'py-dl')

    const result = (await python(`
import json, os, sys
from function import function, storage
c = storage.storage.get_instance()
assert c is function.client and c is storage.storage.get_instance()
out = {}
out['key'] = c.upload(${JSON.stringify(BUCKET)}, 'py-out/result.tar.gz', ${JSON.stringify(src)})
out['bigKey'] = c.upload(${JSON.stringify(BUCKET)}, 'py-out/big.bin', ${JSON.stringify(big)})
c.download(${JSON.stringify(BUCKET)}, out['key'], ${JSON.stringify(join(dl, 'one', 'r.tar.gz'))})
out['downloaded'] = open(${JSON.stringify(join(dl, 'one', 'r.tar.gz'))}).read()
c.download_directory(${JSON.stringify(BUCKET)}, 'py-in/model/', ${JSON.stringify(join(dl, 'dir'))})
out['streamKey'] = c.upload_stream(${JSON.stringify(BUCKET)}, 'py-out/stream.txt', b'streamed bytes')
out['streamed'] = c.download_stream(${JSON.stringify(BUCKET)}, out['streamKey']).decode()
out['listed'] = sorted(c.list_directory(${JSON.stringify(BUCKET)}, 'py-in/'))
out['noext'] = storage.storage.unique_name('dir.v1/file')
print(json.dumps(out))
`)) as Record<string, string | string[]>

    expect(result.key).toMatch(/^py-out\/result\.tar\.[0-9a-f]{8}\.gz$/)
    expect((await harness.download(BUCKET, result.key as string)).toString()).toBe('python upload')
    expect(result.downloaded).toBe('python upload')
    expect(result.bigKey).toMatch(/^py-out\/big\.[0-9a-f]{8}\.bin$/)
    expect((await harness.download(BUCKET, result.bigKey as string)).equals(await readFile(big))).toBe(true)
    // SeBS's download_directory keeps the whole key below the target path.
    expect(await readFile(join(dl, 'dir', 'py-in', 'model', 'w.bin'), 'utf8')).toBe('weights')
    expect(await readFile(join(dl, 'dir', 'py-in', 'model', 'cfg', 'c.json'), 'utf8')).toBe('{}')
    expect(result.streamKey).toMatch(/^py-out\/stream\.[0-9a-f]{8}\.txt$/)
    expect(result.streamed).toBe('streamed bytes')
    expect(result.listed).toEqual(['py-in/model/cfg/c.json', 'py-in/model/w.bin'])
    expect(result.noext).toMatch(/^dir\.v1\/file\.[0-9a-f]{8}$/)
    expect(result.noext).toMatch(UNIQUE)
  }, 120_000)

  it('raises for a missing object', async () => {
    const result = (await python(`
import json
from function import storage
try:
    storage.storage.get_instance().download_stream(${JSON.stringify(BUCKET)}, 'py-none/missing.txt')
    print(json.dumps({'raised': None}))
except Exception as e:
    print(json.dumps({'raised': type(e).__name__}))
`)) as { raised: string | null }
    expect(result.raised).toBe('NoSuchKey')
  }, 60_000)
})
