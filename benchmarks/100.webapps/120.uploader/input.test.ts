import { createHash } from 'node:crypto'
import { readFile, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ValidateOutputContext } from '../../../core/benchmark-input.ts'
import { seededBytes } from '../../_lib/data.ts'
import { createInputContext, hashDir, makeTempDir, snapshotDir } from '../../_lib/testing/run-function.ts'
import { bucketsCount, FILES, generateInput, validateOutput } from './input.ts'

const BENCH = '120.uploader'
const BASE_URL = 'http://127.0.0.1:9/files'
let root: string

beforeAll(async () => {
  root = await makeTempDir('120-input')
})
afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})

// null: no file server (undefined would pick the default).
const ctxFor = (size: 'test' | 'small' | 'large', dataDir: string, fileServerUrl: string | null = BASE_URL) =>
  createInputContext({ benchmark: BENCH, size, dataDir, counts: bucketsCount(), fileServerUrl: fileServerUrl ?? undefined })

describe('120 generateInput', () => {
  it('declares only an output prefix', () => {
    expect(bucketsCount()).toEqual([0, 1])
  })

  it('needs a file server URL and says so', async () => {
    await expect(generateInput(ctxFor('test', join(root, 'nourl'), null))).rejects.toThrow(/needs an HTTP server .*file server/)
  })

  it('writes the file once, reuses it, and points the event at the file server', async () => {
    const dataDir = join(root, 'cache')
    const ctx = ctxFor('test', dataDir, `${BASE_URL}/`)
    const event = await generateInput(ctx)
    expect(event).toEqual({
      object: { url: `${BASE_URL}/800px-synthetic-photo.jpg`, size: 230_000 },
      bucket: { bucket: ctx.bucket, output: `${BENCH}-0-output` },
    })
    expect(ctx.uploads).toEqual([])
    const before = await snapshotDir(dataDir)
    expect(Object.keys(before)).toEqual(['800px-synthetic-photo.jpg'])
    expect(await generateInput(ctxFor('test', dataDir))).toEqual(event)
    expect(await snapshotDir(dataDir)).toEqual(before)
  })

  it('is deterministic: the same seeded bytes in every data directory', async () => {
    const dirs = [join(root, 'det-a'), join(root, 'det-b')]
    for (const dataDir of dirs) {
      for (const size of ['test', 'small'] as const) await generateInput(ctxFor(size, dataDir))
    }
    const [a, b] = await Promise.all(dirs.map(hashDir))
    expect(Object.keys(a).sort()).toEqual(['800px-synthetic-photo.jpg', 'hpx-1.4.0-synthetic.zip'])
    expect(a).toEqual(b)
    // Chunked generation gives exactly _lib's seededBytes.
    const test = await readFile(join(dirs[0], FILES.test.name))
    expect(test.equals(seededBytes(FILES.test.seed, FILES.test.bytes))).toBe(true)
  })

  it('grows with the size, with SeBS-like names and extensions', async () => {
    const dataDir = join(root, 'sizes')
    const sizes: number[] = []
    for (const size of ['test', 'small', 'large'] as const) {
      await generateInput(ctxFor(size, dataDir))
      sizes.push((await stat(join(dataDir, FILES[size].name))).size)
    }
    expect(sizes).toEqual([230_000, 6_700_000, 102_502_400])
    expect([FILES.test.name, FILES.small.name, FILES.large.name].map((n) => n.split('.').pop())).toEqual(['jpg', 'zip', 'pth'])
  }, 120_000)
})

describe('120 validateOutput', () => {
  let dataDir: string
  let event: Record<string, unknown>
  let content: Buffer
  const objects = new Map<string, Buffer>()
  const KEY = `${BENCH}-0-output/800px-synthetic-photo.1a2b3c4d.jpg`
  const URL_ = `${BASE_URL}/800px-synthetic-photo.jpg`
  const vctx = (output: unknown, download: ValidateOutputContext['download'] | null = undefined): ValidateOutputContext => ({
    dataDir,
    size: 'test',
    language: 'nodejs',
    input: event,
    output,
    download:
      download === null
        ? undefined
        : (download ??
          (async (bucket, key) => {
            const body = objects.get(`${bucket}/${key}`)
            if (!body) throw new Error(`NoSuchKey ${bucket}/${key}`)
            return body
          })),
  })

  beforeAll(async () => {
    dataDir = join(root, 'validate')
    const ctx = ctxFor('test', dataDir)
    event = await generateInput(ctx)
    content = await readFile(join(dataDir, FILES.test.name))
    objects.set(`${ctx.bucket}/${KEY}`, content)
  })

  it('accepts the stored copy, with a unique or a plain key', async () => {
    expect(await validateOutput(vctx({ bucket: 'sebs-benchmarks-test', url: URL_, key: KEY }))).toBeUndefined()
    const plain = `${BENCH}-0-output/800px-synthetic-photo.jpg`
    objects.set(`sebs-benchmarks-test/${plain}`, content)
    expect(await validateOutput(vctx({ bucket: 'sebs-benchmarks-test', url: URL_, key: plain }))).toBeUndefined()
  })

  it('rejects a changed byte by MD5, and a truncated object by size', async () => {
    const changed = Buffer.from(content)
    changed[1234] ^= 0xff
    const expectedMd5 = createHash('md5').update(content).digest('hex')
    const r1 = await validateOutput(vctx({ bucket: 'sebs-benchmarks-test', url: URL_, key: KEY }, async () => changed))
    expect(r1).toMatch(new RegExp(`MD5 is [0-9a-f]{32}, expected ${expectedMd5}`))
    const r2 = await validateOutput(vctx({ bucket: 'sebs-benchmarks-test', url: URL_, key: KEY }, async () => content.subarray(1)))
    expect(r2).toBe('the uploaded object has 229999 bytes, expected 230000')
  })

  it('rejects keys that lose the name or extension, or leave the output prefix', async () => {
    const ok = { bucket: 'sebs-benchmarks-test', url: URL_ }
    expect(await validateOutput(vctx({ ...ok, key: `${BENCH}-0-output/800px-synthetic-photo.1a2b3c4d` }))).toMatch(/does not keep .*'\.jpg'/)
    expect(await validateOutput(vctx({ ...ok, key: `${BENCH}-0-output/download.1a2b3c4d.jpg` }))).toMatch(/does not keep the file's base name/)
    expect(await validateOutput(vctx({ ...ok, key: `other/800px-synthetic-photo.jpg` }))).toMatch(/not under the output prefix/)
  })

  it('rejects wrong url, bucket, shape, a missing object, and no storage access', async () => {
    expect(await validateOutput(vctx({ bucket: 'sebs-benchmarks-test', url: 'http://x/y.jpg', key: KEY }))).toMatch(/url .* differs/)
    expect(await validateOutput(vctx({ bucket: 'other', url: URL_, key: KEY }))).toMatch(/bucket 'other' differs/)
    expect(await validateOutput(vctx({ bucket: 'sebs-benchmarks-test', key: KEY }))).toMatch(/expected result \{bucket, url, key\}/)
    expect(await validateOutput(vctx('Error'))).toMatch(/expected result/)
    const missing = `${BENCH}-0-output/800px-synthetic-photo.00000000.jpg`
    expect(await validateOutput(vctx({ bucket: 'sebs-benchmarks-test', url: URL_, key: missing }))).toMatch(/could not download .*NoSuchKey/)
    expect(await validateOutput(vctx({ bucket: 'sebs-benchmarks-test', url: URL_, key: KEY }, null))).toMatch(/needs storage access/)
  })
})
