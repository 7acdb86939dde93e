import { createHash, randomBytes } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SebsError } from '../../core/errors.ts'
import type { ObjectStorage } from '../types.ts'
import { createS3Storage } from './s3-storage.ts'
import { startS3rver, type RunningS3rver } from './s3rver-server.ts'

const BUCKET = 'sebs-shared-test'

let work: string
let dataDir: string
let server: RunningS3rver
let storage: ObjectStorage

function connect(s: RunningS3rver): ObjectStorage {
  return createS3Storage(
    { kind: 's3', endpoint: s.endpoint, bucket: BUCKET, accessKey: s.accessKey, secretKey: s.secretKey },
    { provider: 'local' },
  )
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'sebs-s3-'))
  dataDir = join(work, 's3rver')
  server = await startS3rver({ directory: dataDir })
  storage = connect(server)
})

afterAll(async () => {
  await storage?.close()
  await server?.close()
  await rm(work, { recursive: true, force: true })
})

describe('startS3rver', () => {
  it('listens on loopback with a random port and the S3RVER credentials', () => {
    expect(server.endpoint).toBe(`http://127.0.0.1:${server.port}`)
    expect(server.port).toBeGreaterThan(0)
    expect(server.accessKey).toBe('S3RVER')
    expect(server.secretKey).toBe('S3RVER')
  })
})

describe('createS3Storage against s3rver', () => {
  it('creates a bucket, idempotently', async () => {
    await storage.ensureBucket(BUCKET)
    await storage.ensureBucket(BUCKET)
    expect(await storage.list(BUCKET, '')).toEqual([])
  })

  it('uploads a buffer and a file, downloads, stats and lists them', async () => {
    const file = join(work, 'input.bin')
    const content = randomBytes(300_000)
    await writeFile(file, content)
    await storage.upload(BUCKET, 'bench-0-input/data/input.bin', file)
    await storage.uploadBuffer(BUCKET, 'bench-0-input/hello.txt', Buffer.from('hello'))
    await storage.uploadBuffer(BUCKET, 'other-0-input/x.txt', Buffer.from('x'))

    expect((await storage.download(BUCKET, 'bench-0-input/data/input.bin')).equals(content)).toBe(true)
    expect((await storage.download(BUCKET, 'bench-0-input/hello.txt')).toString()).toBe('hello')

    const stat = await storage.stat(BUCKET, 'bench-0-input/data/input.bin')
    expect(stat).toMatchObject({ key: 'bench-0-input/data/input.bin', size: 300_000 })
    expect(stat?.etag).toMatch(/^[0-9a-f]{32}$/)
    expect(await storage.stat(BUCKET, 'bench-0-input/missing')).toBeUndefined()

    const listed = await storage.list(BUCKET, 'bench-0-input/')
    expect(listed.map((o) => [o.key, o.size]).sort()).toEqual([
      ['bench-0-input/data/input.bin', 300_000],
      ['bench-0-input/hello.txt', 5],
    ])
  })

  it('removePrefix removes every object under the prefix and only those', async () => {
    for (let i = 0; i < 5; i++) await storage.uploadBuffer(BUCKET, `rm-me/${i}/obj.txt`, Buffer.from(String(i)))
    await storage.uploadBuffer(BUCKET, 'rm-meX/keep.txt', Buffer.from('keep'))
    expect(await storage.removePrefix(BUCKET, 'rm-me/')).toBe(5)
    expect(await storage.list(BUCKET, 'rm-me/')).toEqual([])
    expect((await storage.list(BUCKET, 'rm-meX/')).map((o) => o.key)).toEqual(['rm-meX/keep.txt'])
    expect(await storage.removePrefix(BUCKET, 'rm-me/')).toBe(0)
    expect(await storage.removePrefix('sebs-no-such-bucket', 'x/')).toBe(0)
  })

  it('uploads a 70 MiB file in one PUT (s3rver has no multipart listing)', async () => {
    const file = join(work, 'big.bin')
    const size = 70 * 1024 * 1024
    const hash = createHash('md5')
    // Written in chunks: keeps the test's own memory low.
    await new Promise<void>((resolve, reject) => {
      const out = createWriteStream(file)
      out.on('error', reject)
      const chunk = randomBytes(1024 * 1024)
      for (let i = 0; i < 70; i++) {
        chunk[0] = i
        hash.update(chunk)
        out.write(Buffer.from(chunk))
      }
      out.end(resolve)
    })
    await storage.upload(BUCKET, 'big/big.bin', file)
    const stat = await storage.stat(BUCKET, 'big/big.bin')
    expect(stat?.size).toBe(size)
    const back = await storage.download(BUCKET, 'big/big.bin')
    expect(createHash('md5').update(back).digest('hex')).toBe(hash.digest('hex'))
  }, 120_000)

  it('reports failures as STORAGE_FAILED with endpoint, bucket and key', async () => {
    const err = await storage.download(BUCKET, 'nope/missing.txt').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(SebsError)
    expect((err as SebsError).code).toBe('STORAGE_FAILED')
    expect((err as Error).message).toContain(`s3://${BUCKET}/nope/missing.txt`)
    expect((err as Error).message).toContain(server.endpoint)
    expect((err as Error).message).toContain('[local]')
    expect((err as Error).cause).toBeDefined()

    const bad = createS3Storage({ kind: 's3', endpoint: server.endpoint, bucket: BUCKET, accessKey: 'WRONG', secretKey: 'WRONG' })
    const authErr = await bad.uploadBuffer(BUCKET, 'k.txt', Buffer.from('x')).catch((e: unknown) => e)
    await bad.close()
    expect((authErr as SebsError).code).toBe('STORAGE_FAILED')
    expect((authErr as Error).message).toMatch(/credentials/)
  })

  it('reports an unreachable endpoint with a hint', async () => {
    // A port from a server that was just closed: nothing listens there.
    const tmp = await startS3rver({ directory: join(work, 'closed') })
    await tmp.close()
    const dead = createS3Storage({ kind: 's3', endpoint: tmp.endpoint, bucket: BUCKET, accessKey: 'S3RVER', secretKey: 'S3RVER' })
    const err = await dead.stat(BUCKET, 'a.txt').catch((e: unknown) => e)
    await dead.close()
    expect((err as SebsError).code).toBe('STORAGE_FAILED')
    expect((err as Error).message).toContain('is the storage server running')
  })

  it('keeps objects across a restart on the same directory', async () => {
    await storage.uploadBuffer(BUCKET, 'persist/p.txt', Buffer.from('persisted'))
    await storage.close()
    await server.close()

    server = await startS3rver({ directory: dataDir })
    storage = connect(server)
    expect((await storage.download(BUCKET, 'persist/p.txt')).toString()).toBe('persisted')
    expect((await storage.stat(BUCKET, 'big/big.bin'))?.size).toBe(70 * 1024 * 1024)
  })
})
