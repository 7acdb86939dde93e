/**
 * Blob storage against a real Azurite: the harness-side ObjectStorage
 * (round trips, a multi-block upload, listing, removePrefix, errors) and the
 * function-side nodejs module (SeBS's storage API, loaded as CommonJS with
 * @azure/storage-blob from the repository's node_modules).
 *
 * The python module needs azure-storage-blob, which the local pip index does
 * not carry: it is exercised by wrappers.int.test.ts against a stand-in SDK.
 */
import { randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Readable, Writable } from 'node:stream'
import { BlobServiceClient } from '@azure/storage-blob'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connectStorage } from '../registry.ts'
import type { ObjectStorage } from '../types.ts'
import { BLOCK_SIZE, createBlobStorage, describeConnectionString } from './blob-storage.ts'
import { AZURE_FUNCTION_FILES } from './packaging.ts'
import { startAzurite, type RunningAzurite } from '../../test/support/azure/azurite.ts'

const BUCKET = 'sebs-benchmarks-test'
const UNIQUE = /\.[0-9a-f]{8}/

let azurite: RunningAzurite
let storage: ObjectStorage
let work: string

beforeAll(async () => {
  azurite = await startAzurite()
  storage = createBlobStorage({ kind: 'azure-blob', endpoint: azurite.blobEndpoint, bucket: BUCKET, connectionString: azurite.connectionString })
  await storage.ensureBucket(BUCKET)
  work = await mkdtemp(join(tmpdir(), 'sebs-azblob-'))
}, 60_000)

afterAll(async () => {
  await storage?.close()
  await azurite?.close()
  if (work) await rm(work, { recursive: true, force: true })
})

describe('harness-side blob storage (Azurite)', () => {
  it('parses connection strings without exposing the key', () => {
    expect(describeConnectionString(azurite.connectionString)).toEqual({ accountName: 'devstoreaccount1', blobEndpoint: azurite.blobEndpoint })
    expect(describeConnectionString('DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=abc;EndpointSuffix=core.windows.net')).toEqual({
      accountName: 'acct',
      blobEndpoint: 'https://acct.blob.core.windows.net',
    })
  })

  it('ensureBucket is idempotent; upload, stat, download and list round trip', async () => {
    await storage.ensureBucket(BUCKET)
    const file = join(work, 'in.bin')
    const data = randomBytes(1000)
    await writeFile(file, data)
    await storage.upload(BUCKET, '901.x-0-input/a/in.bin', file)
    await storage.uploadBuffer(BUCKET, '901.x-0-input/b.txt', Buffer.from('hello'))
    expect(await storage.stat(BUCKET, '901.x-0-input/a/in.bin')).toMatchObject({ key: '901.x-0-input/a/in.bin', size: 1000 })
    expect(await storage.stat(BUCKET, '901.x-0-input/missing')).toBeUndefined()
    expect((await storage.download(BUCKET, '901.x-0-input/a/in.bin')).equals(data)).toBe(true)
    const listed = await storage.list(BUCKET, '901.x-0-input/')
    expect(listed.map((o) => [o.key, o.size])).toEqual([
      ['901.x-0-input/a/in.bin', 1000],
      ['901.x-0-input/b.txt', 5],
    ])
    // A prefix is a plain string prefix, not a directory boundary.
    expect((await storage.list(BUCKET, '901.x-0-input/a')).map((o) => o.key)).toEqual(['901.x-0-input/a/in.bin'])
    expect(await storage.list('no-such-container', '')).toEqual([])
  })

  it('a download of a missing blob is a STORAGE_FAILED error naming it', async () => {
    await expect(storage.download(BUCKET, 'nope/missing.bin')).rejects.toMatchObject({ code: 'STORAGE_FAILED', message: expect.stringContaining(`${BUCKET}/nope/missing.bin`) })
  })

  it('uploads objects over 4 MiB in several blocks, byte for byte', async () => {
    const data = randomBytes(BLOCK_SIZE * 2 + 12345)
    const file = join(work, 'big.bin')
    await writeFile(file, data)
    await storage.upload(BUCKET, 'big/file.bin', file)
    await storage.uploadBuffer(BUCKET, 'big/buffer.bin', data)
    const service = BlobServiceClient.fromConnectionString(azurite.connectionString)
    for (const key of ['big/file.bin', 'big/buffer.bin']) {
      const blocks = await service.getContainerClient(BUCKET).getBlockBlobClient(key).getBlockList('committed')
      expect(blocks.committedBlocks?.length).toBe(3)
      expect((await storage.download(BUCKET, key)).equals(data)).toBe(true)
    }
  })

  it('removePrefix deletes exactly the objects below the prefix and counts them', async () => {
    for (const k of ['rm/a', 'rm/b/c', 'rm/b/d', 'rmx/keep']) await storage.uploadBuffer(BUCKET, k, Buffer.from(k))
    expect(await storage.removePrefix(BUCKET, 'rm/')).toBe(3)
    expect((await storage.list(BUCKET, 'rm')).map((o) => o.key)).toEqual(['rmx/keep'])
    expect(await storage.removePrefix(BUCKET, 'rm/')).toBe(0)
  })

  it("connectStorage('azure') (what bench workers call) loads this module for azure-blob connections", async () => {
    const again = await connectStorage('azure', storage.connection)
    expect(await again.stat(BUCKET, 'rmx/keep')).toMatchObject({ size: 8 })
    await again.close()
  })

  it('refuses a connection without a connection string', () => {
    expect(() => createBlobStorage({ kind: 'azure-blob', endpoint: 'x', bucket: 'b' })).toThrow(/connectionString/)
  })
})

interface NodeStorage {
  upload(bucket: string, key: string, filepath: string): [string, Promise<unknown>]
  download(bucket: string, key: string, filepath: string): Promise<void>
  downloadDirectory(bucket: string, prefix: string, path: string): Promise<string[]>
  uploadStream(bucket: string, key: string): [Writable, Promise<unknown>, string]
  downloadStream(bucket: string, key: string): Promise<Readable>
}
interface NodeStorageModule {
  storage: { new (cs?: string): NodeStorage; get_instance(cs?: string): NodeStorage; unique_name(name: string): string; instance?: unknown }
}

describe('function-side storage.js (Azurite)', () => {
  let mod: NodeStorageModule
  let client: NodeStorage
  let saved: string | undefined

  beforeAll(() => {
    saved = process.env.STORAGE_CONNECTION_STRING
    process.env.STORAGE_CONNECTION_STRING = azurite.connectionString
    // As a function instance loads it: CommonJS, resolving @azure/storage-blob from node_modules.
    const require = createRequire(import.meta.url)
    mod = require(AZURE_FUNCTION_FILES.nodejs.storage) as NodeStorageModule
    mod.storage.instance = undefined
    client = mod.storage.get_instance()
  })

  afterAll(() => {
    if (saved === undefined) delete process.env.STORAGE_CONNECTION_STRING
    else process.env.STORAGE_CONNECTION_STRING = saved
  })

  it('get_instance() is a singleton; a missing connection string is a clear error', () => {
    expect(mod.storage.get_instance()).toBe(client)
    const cs = process.env.STORAGE_CONNECTION_STRING
    delete process.env.STORAGE_CONNECTION_STRING
    try {
      expect(() => new mod.storage()).toThrow(/STORAGE_CONNECTION_STRING/)
    } finally {
      process.env.STORAGE_CONNECTION_STRING = cs
    }
  })

  it('upload returns [uniqueKey, promise]; download writes the file (creating directories)', async () => {
    const src = join(work, 'fn-src.txt')
    await writeFile(src, 'function data')
    const [key, done] = client.upload(BUCKET, 'fn-out/dir/result.txt', src)
    expect(key).toMatch(/^fn-out\/dir\/result\.[0-9a-f]{8}\.txt$/)
    await done
    expect((await storage.download(BUCKET, key)).toString()).toBe('function data')
    const dest = join(work, 'deep', 'er', 'copy.txt')
    await client.download(BUCKET, key, dest)
    expect(await readFile(dest, 'utf8')).toBe('function data')
  })

  it('downloadDirectory writes each blob at <path>/<whole key>, as SeBS does', async () => {
    await storage.uploadBuffer(BUCKET, 'dd-in/x/1.txt', Buffer.from('1'))
    await storage.uploadBuffer(BUCKET, 'dd-in/2.txt', Buffer.from('2'))
    const dir = join(work, 'dd')
    await mkdir(dir, { recursive: true })
    const files = await client.downloadDirectory(BUCKET, 'dd-in/', dir)
    expect(files.sort()).toEqual([join(dir, 'dd-in', '2.txt'), join(dir, 'dd-in', 'x', '1.txt')])
    expect(await readFile(join(dir, 'dd-in', 'x', '1.txt'), 'utf8')).toBe('1')
  })

  it('uploadStream returns [stream, promise, key] and stores a multi-block stream; downloadStream reads it back', async () => {
    const [stream, done, key] = client.uploadStream(BUCKET, 'fn-out/stream.bin')
    expect(key).toMatch(UNIQUE)
    const data = randomBytes(BLOCK_SIZE + 999)
    stream.end(data)
    await done
    const readable = await client.downloadStream(BUCKET, key)
    const chunks: Buffer[] = []
    for await (const c of readable) chunks.push(Buffer.from(c as Buffer))
    expect(Buffer.concat(chunks).equals(data)).toBe(true)
  })

  it('unique_name keeps the path and puts 8 hex before the extension', () => {
    expect(mod.storage.unique_name('a/b.tar.gz')).toMatch(/^a\/b\.tar\.[0-9a-f]{8}\.gz$/)
    expect(mod.storage.unique_name('noext')).toMatch(/^noext\.[0-9a-f]{8}$/)
  })
})
