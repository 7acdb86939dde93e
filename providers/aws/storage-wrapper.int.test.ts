/**
 * The Node.js function-side storage module for Lambda (wrappers/nodejs/
 * storage.js, on @aws-sdk/client-s3) against a real S3 server (s3rver), with
 * credentials the way Lambda provides them: the role's AWS_* variables.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Readable, Writable } from 'node:stream'
import { CreateBucketCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { type RunningS3rver, startS3rver } from '../storage/s3rver-server.ts'

interface StorageModule {
  storage: new () => {
    upload(bucket: string, key: string, file: string): [string, Promise<unknown>]
    download(bucket: string, key: string, file: string): Promise<void>
    downloadDirectory(bucket: string, prefix: string, dir: string): Promise<string[]>
    uploadStream(bucket: string, key: string): [Writable, Promise<unknown>, string]
    downloadStream(bucket: string, key: string): Promise<Readable>
  }
  unique_name(name: string): string
}

let work: string
let s3: RunningS3rver
let mod: StorageModule
const bucket = 'wrapper-test'

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'sebs-aws-wrap-'))
  s3 = await startS3rver({ directory: join(work, 's3') })
  vi.stubEnv('SEBS_STORAGE_ENDPOINT', s3.endpoint)
  vi.stubEnv('AWS_REGION', 'us-east-1')
  // Lambda hands the execution role's credentials to the function this way.
  vi.stubEnv('AWS_ACCESS_KEY_ID', s3.accessKey)
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', s3.secretKey)
  const admin = new S3Client({
    endpoint: s3.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKey, secretAccessKey: s3.secretKey },
  })
  await admin.send(new CreateBucketCommand({ Bucket: bucket }))
  admin.destroy()
  mod = createRequire(import.meta.url)('./wrappers/nodejs/storage.js') as StorageModule
})
afterAll(async () => {
  vi.unstubAllEnvs()
  await s3?.close()
  if (work) await rm(work, { recursive: true, force: true })
})

describe('wrappers/nodejs/storage.js on S3', () => {
  it('uploads under a SeBS-style unique key and downloads it back', async () => {
    const client = new mod.storage()
    const src = join(work, 'in.txt')
    await writeFile(src, 'payload')
    const [key, uploading] = client.upload(bucket, 'out/dir/in.txt', src)
    await uploading
    expect(key).toMatch(/^out\/dir\/in\.[0-9a-f]{8}\.txt$/)
    const dest = join(work, 'down', 'copy.txt')
    await client.download(bucket, key, dest)
    expect(await readFile(dest, 'utf8')).toBe('payload')
    expect(mod.unique_name('a.tar.gz')).toMatch(/^a\.tar\.[0-9a-f]{8}\.gz$/)
  })

  it('downloadDirectory writes each object at <dir>/<whole key>, as SeBS does', async () => {
    const client = new mod.storage()
    const [w1, p1, k1] = client.uploadStream(bucket, 'tree/x/1.txt')
    w1.end('one')
    await p1
    const [w2, p2, k2] = client.uploadStream(bucket, 'tree/x/y/2.txt')
    w2.end('two')
    await p2
    const files = await client.downloadDirectory(bucket, 'tree/x', join(work, 'tree'))
    const rel = files.map((f) => f.slice(join(work, 'tree').length + 1)).sort()
    expect(rel).toEqual([k1, k2].sort())
    expect(await readFile(join(work, 'tree', k2), 'utf8')).toBe('two')
  })

  it('uploadStream and downloadStream move bytes through streams', async () => {
    const client = new mod.storage()
    const [w, done, key] = client.uploadStream(bucket, 'streams/blob.bin')
    const data = Buffer.alloc(300_000, 7)
    w.write(data.subarray(0, 100_000))
    w.end(data.subarray(100_000))
    await done
    const chunks: Buffer[] = []
    for await (const c of await client.downloadStream(bucket, key)) chunks.push(c as Buffer)
    expect(Buffer.concat(chunks).equals(data)).toBe(true)
    // The object really is in S3 under that key.
    const check = new S3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true })
    const got = await check.send(new GetObjectCommand({ Bucket: bucket, Key: key }))
    expect(Number(got.ContentLength)).toBe(data.length)
    check.destroy()
  })

  it('a missing object rejects', async () => {
    const client = new mod.storage()
    await expect(client.download(bucket, 'nope/missing.txt', join(work, 'x'))).rejects.toThrow()
  })
})
