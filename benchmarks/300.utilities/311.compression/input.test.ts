import { createHash } from 'node:crypto'
import { mkdir, mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import yazl from 'yazl'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Size } from '../../../core/types.ts'
import { createFsStorage, createInputContext, runFunction, type FsStorage } from '../../_lib/testing/run-function.ts'
import { TREES, bucketsCount, ensureTree, generateInput, latexText, planTree, readZip, treeName, validateOutput } from './input.ts'

const DIR = dirname(fileURLToPath(import.meta.url))
const BUCKET = 'sebs-benchmarks-test'
const INPUT = '311.compression-0-input'
const OUTPUT = '311.compression-0-output'
// The large tree (50 MiB) runs through both functions only with SEBS_TEST_LARGE=1.
const FUNCTION_SIZES: Size[] = process.env.SEBS_TEST_LARGE === '1' ? ['test', 'small', 'large'] : ['test', 'small']

let scratch: string
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'sebs-311-'))
})
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true })
})

/** Generates the input like the harness: uploads land in `storage` under 311.compression-0-input/. */
function contextFor(size: Size, dataDir: string, storage: FsStorage) {
  const ctx = createInputContext({ benchmark: '311.compression', size, dataDir, storage, bucket: BUCKET, counts: bucketsCount() })
  expect([ctx.inputPrefixes, ctx.outputPrefixes]).toEqual([[INPUT], [OUTPUT]])
  return ctx
}

async function treeDigest(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue
    const full = join(entry.parentPath, entry.name)
    out[full.slice(root.length + 1)] = createHash('sha256').update(await readFile(full)).digest('hex')
  }
  return out
}

/** Zips a generated tree the way a right function would (or wrongly, by options). */
async function zipTree(
  size: Size,
  root: string,
  options: { skip?: string; extra?: string; compress?: boolean; alter?: string } = {},
): Promise<Buffer> {
  const zip = new yazl.ZipFile()
  for (const file of planTree(size)) {
    if (file.path === options.skip) continue
    const name = `${treeName(size)}/${file.path}`
    if (file.path === options.alter) {
      const data = await readFile(join(root, file.path))
      data[0] ^= 0xff
      zip.addBuffer(data, name, { compress: options.compress ?? true })
    } else zip.addFile(join(root, file.path), name, { compress: options.compress ?? true })
  }
  if (options.extra) zip.addBuffer(Buffer.from('extra'), options.extra)
  zip.end()
  const chunks: Buffer[] = []
  for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

describe('311.compression input plan', () => {
  it('uses one input and one output prefix', () => {
    expect(bucketsCount()).toEqual([1, 1])
  })

  it('scales: about 1 MiB, 10 MiB and 50 MiB, exact byte totals, unique names', () => {
    for (const size of ['test', 'small', 'large'] as const) {
      const files = planTree(size)
      expect(files.reduce((sum, f) => sum + f.bytes, 0)).toBe(TREES[size].bytes)
      expect(files).toHaveLength(TREES[size].textFiles + TREES[size].binaryFiles)
      expect(new Set(files.map((f) => f.path)).size).toBe(files.length)
      expect(files.every((f) => f.bytes > 0)).toBe(true)
      const text = files.filter((f) => f.kind === 'text').reduce((sum, f) => sum + f.bytes, 0)
      expect(text / TREES[size].bytes).toBeCloseTo(0.7, 2)
    }
    expect(TREES.test.bytes).toBe(1024 * 1024)
    expect(TREES.small.bytes).toBe(10 * TREES.test.bytes)
    expect(TREES.large.bytes).toBe(50 * TREES.test.bytes)
    expect(planTree('small')).toEqual(planTree('small'))
  })

  it('writes LaTeX-like ASCII text of the exact length, the same for the same seed', () => {
    const text = latexText(20_000, 7)
    expect(text).toHaveLength(20_000)
    expect(Buffer.byteLength(text)).toBe(20_000)
    expect(text).toMatch(/\\documentclass\[sigconf\]\{acmart\}/)
    expect(text).toMatch(/\\section\{/)
    expect(latexText(20_000, 7)).toBe(text)
    expect(latexText(20_000, 8)).not.toBe(text)
  })
})

describe('311.compression generateInput', () => {
  it.each(['test', 'small'] as const)(
    'size %s: uploads every file under <name>/, deterministically, and regenerates nothing the second time',
    { timeout: 120_000 },
    async (size) => {
      const storage = createFsStorage(join(scratch, `store-gen-${size}`))
      const dataDir = join(scratch, `data-gen-${size}`)
      const ctx = contextFor(size, dataDir, storage)
      const event = await generateInput(ctx)
      expect(event).toEqual({ object: { key: treeName(size) }, bucket: { bucket: BUCKET, input: INPUT, output: OUTPUT } })
      const plan = planTree(size)
      expect(ctx.uploads.every((u) => u.prefixIndex === 0)).toBe(true)
      expect(ctx.uploads.map((u) => u.key).sort()).toEqual(plan.map((f) => `${treeName(size)}/${f.path}`).sort())
      expect(await storage.list(BUCKET)).toEqual(plan.map((f) => `${INPUT}/${treeName(size)}/${f.path}`).sort())

      const root = join(dataDir, treeName(size))
      const digest = await treeDigest(root)
      expect(Object.keys(digest)).toHaveLength(plan.length)
      for (const file of plan) expect((await stat(join(root, file.path))).size).toBe(file.bytes)
      const mtimes = await Promise.all(plan.map(async (f) => (await stat(join(root, f.path))).mtimeMs))

      // Second run: nothing is generated again.
      expect((await ensureTree(dataDir, size)).generated).toBe(false)
      await generateInput(contextFor(size, dataDir, createFsStorage(join(scratch, `store-gen2-${size}`))))
      expect(await Promise.all(plan.map(async (f) => (await stat(join(root, f.path))).mtimeMs))).toEqual(mtimes)

      // A fresh data directory gets byte-identical files.
      const fresh = await ensureTree(join(scratch, `data-fresh-${size}`), size)
      expect(fresh.generated).toBe(true)
      expect(await treeDigest(fresh.root)).toEqual(digest)
    },
  )
})

describe('311.compression validateOutput', () => {
  const size = 'test'
  let dataDir: string
  let root: string
  let storage: FsStorage
  let event: Record<string, unknown>

  beforeAll(async () => {
    dataDir = join(scratch, 'data-validate')
    storage = createFsStorage(join(scratch, 'store-validate'))
    event = await generateInput(contextFor(size, dataDir, storage))
    root = join(dataDir, treeName(size))
  })

  async function check(archive: Buffer | undefined, key = `${OUTPUT}/${treeName(size)}.1a2b3c4d.zip`) {
    if (archive) {
      await mkdir(dirname(storage.path(BUCKET, key)), { recursive: true })
      await import('node:fs/promises').then((fs) => fs.writeFile(storage.path(BUCKET, key), archive))
    }
    return validateOutput({ dataDir, size, language: 'python', input: event, output: { bucket: BUCKET, key }, download: storage.get })
  }

  it('accepts an archive of the whole tree', async () => {
    expect(await check(await zipTree(size, root))).toBeUndefined()
  })

  it('rejects wrong archives with a message saying what differs', async () => {
    const plan = planTree(size)
    expect(await check(await zipTree(size, root, { skip: plan[3].path }))).toMatch(
      new RegExp(`files differ .*missing: ${treeName(size)}/${plan[3].path}`),
    )
    expect(await check(await zipTree(size, root, { extra: 'acmart-test/stray.txt' }))).toMatch(/unexpected: acmart-test\/stray\.txt/)
    expect(await check(await zipTree(size, root, { alter: plan[1].path }))).toMatch(/CRC-32 mismatch/)
    expect(await check(await zipTree(size, root, { compress: false }))).toMatch(/compression method 0, expected deflate/)
    expect(await check(Buffer.from('not a zip at all'))).toMatch(/not a readable zip archive/)
    expect(await check(undefined, `${OUTPUT}/missing.zip`)).toMatch(/should be acmart-test/)
    expect(await check(undefined, `elsewhere/${treeName(size)}.zip`)).toMatch(/outside the output prefix/)
    expect(await validateOutput({ dataDir, size, language: 'nodejs', input: event, output: 'x' })).toMatch(/expected \{bucket, key\}/)
    const key = `${OUTPUT}/${treeName(size)}.1a2b3c4d.zip`
    expect(await validateOutput({ dataDir, size, language: 'nodejs', input: event, output: { bucket: BUCKET, key } })).toMatch(
      /without storage access/,
    )
  })
})

describe.each(['python', 'nodejs'] as const)('311.compression %s handler (filesystem storage stand-in)', (language) => {
  it.each(FUNCTION_SIZES)('size %s: zips the tree, uploads it, and the archive validates', { timeout: 300_000 }, async (size) => {
    const storage = createFsStorage(join(scratch, `store-fn-${language}-${size}`))
    const dataDir = join(scratch, `data-fn-${size}`)
    const event = await generateInput(contextFor(size, dataDir, storage))
    const { output, tmpLeftovers } = await runFunction({ benchmarkDir: DIR, language, event, storage, timeoutMs: 240_000 })
    const result = output.result as { bucket: string; key: string }
    expect(result.bucket).toBe(BUCKET)
    expect(result.key).toMatch(new RegExp(`^${OUTPUT}/${treeName(size)}\\.[0-9a-f]{8}\\.zip$`))
    expect(await validateOutput({ dataDir, size, language, input: event, output: result, download: storage.get })).toBeUndefined()

    const measurement = output.measurement as Record<string, number>
    expect(measurement.download_size).toBe(TREES[size].bytes)
    expect(measurement.upload_size).toBe((await stat(storage.path(BUCKET, result.key))).size)
    expect(measurement.upload_size).toBeLessThan(measurement.download_size)
    for (const name of ['download_time', 'upload_time', 'compute_time']) {
      expect(Number.isInteger(measurement[name]) && measurement[name] > 0, `${name} = ${measurement[name]}`).toBe(true)
    }
    // Entries are <name>/<path> (plus directory entries), nothing from the download location.
    const names = (await readZip(await storage.get(BUCKET, result.key))).map((e) => e.fileName)
    expect(names.every((n) => n.startsWith(`${treeName(size)}/`))).toBe(true)
    // The function cleans up its temporary directory (warm containers keep /tmp).
    expect(tmpLeftovers).toEqual([])
  })

  it('fails with a clear message when the inputs are not there', { timeout: 180_000 }, async () => {
    const storage = createFsStorage(join(scratch, `store-empty-${language}`))
    await mkdir(join(storage.root, BUCKET), { recursive: true })
    const event = { object: { key: 'acmart-test' }, bucket: { bucket: BUCKET, input: INPUT, output: OUTPUT } }
    await expect(runFunction({ benchmarkDir: DIR, language, event, storage })).rejects.toThrow(/nothing was downloaded from .*are the inputs uploaded/)
  })
})
