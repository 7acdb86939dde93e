/**
 * The shared benchmark test helper itself: the storage stand-ins behave like
 * the real storage modules (same methods, same key naming and directory
 * semantics) for a function run through runFunction, in both languages.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { REPO_ROOT, createFsStorage, createInputContext, installFunctionDeps, makeTempDir, runFunction, type FsStorage } from './run-function.ts'

const REAL_MODULES = join(REPO_ROOT, 'providers', 'storage', 'wrappers', 's3')
const BUCKET = 'sebs-benchmarks-test'

const PY_FUNCTION = `
import os, tempfile, time
from . import storage

client = storage.storage.get_instance()

def handler(event):
    b = event["bucket"]
    work = tempfile.mkdtemp()
    src = os.path.join(work, "in.txt")
    with open(src, "w") as f:
        f.write("hello " + event["who"])
    key = client.upload(b, "out/hello.txt", src)
    client.download(b, key, os.path.join(work, "back", "copy.txt"))
    with open(os.path.join(work, "back", "copy.txt")) as f:
        copy = f.read()
    stream_key = client.upload_stream(b, "out/stream.bin", b"\\x00\\x01bytes")
    streamed = client.download_stream(b, stream_key)
    client.download_directory(b, "in/tree/", os.path.join(work, "tree"))
    tree = sorted(os.path.relpath(os.path.join(d, n), os.path.join(work, "tree")) for d, _, ns in os.walk(os.path.join(work, "tree")) for n in ns)
    try:
        client.download(b, "in/missing.txt", os.path.join(work, "x"))
        missing = "no error"
    except Exception as e:
        missing = str(e)
    try:
        client.download(b, "../escape.txt", os.path.join(work, "x"))
        escape = "no error"
    except Exception as e:
        escape = str(e)
    import shutil
    shutil.rmtree(work)
    print("function stdout")
    return {"result": {"key": key, "copy": copy, "stream_key": stream_key, "streamed": streamed.decode("latin-1"),
                       "tree": tree, "missing": missing, "escape": escape, "waited": event.get("sleep", 0)},
            "measurement": {"n": 1}}
`

const NODE_FUNCTION = `
const fs = require('fs')
const os = require('os')
const path = require('path')
const storage = require('./storage')
const client = storage.storage.get_instance()

exports.handler = async function (event) {
  const b = event.bucket
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'w-'))
  const src = path.join(work, 'in.txt')
  fs.writeFileSync(src, 'hello ' + event.who)
  const [key, uploading] = client.upload(b, 'out/hello.txt', src)
  await uploading
  await client.download(b, key, path.join(work, 'back', 'copy.txt'))
  const copy = fs.readFileSync(path.join(work, 'back', 'copy.txt'), 'utf8')
  const [ws, done, streamKey] = client.uploadStream(b, 'out/stream.bin')
  ws.end(Buffer.from([0, 1, 98, 121, 116, 101, 115]))
  await done
  const chunks = []
  for await (const c of await client.downloadStream(b, streamKey)) chunks.push(c)
  const files = await client.downloadDirectory(b, 'in/tree/', path.join(work, 'tree'))
  const tree = files.map((f) => path.relative(path.join(work, 'tree'), f)).sort()
  const missing = await client.download(b, 'in/missing.txt', path.join(work, 'x')).then(() => 'no error', (e) => e.message)
  const escape = await client.download(b, '../escape.txt', path.join(work, 'x')).then(() => 'no error', (e) => e.message)
  fs.rmSync(work, { recursive: true, force: true })
  console.log('function stdout')
  return { result: { key, copy, stream_key: streamKey, streamed: Buffer.concat(chunks).toString('latin1'), tree, missing, escape },
           measurement: { n: 1 } }
}
`

let root: string
let benchDir: string
let storage: FsStorage

beforeAll(async () => {
  root = await makeTempDir('testing-lib')
  // A benchmark whose folder name is unique to this test (the dependency cache is keyed by it; it has none).
  benchDir = join(root, '999.storage-standin')
  await mkdir(join(benchDir, 'python'), { recursive: true })
  await mkdir(join(benchDir, 'nodejs'), { recursive: true })
  await writeFile(join(benchDir, 'python', 'function.py'), PY_FUNCTION)
  await writeFile(join(benchDir, 'python', 'requirements.txt'), '# standard library only\n')
  await writeFile(join(benchDir, 'nodejs', 'function.js'), NODE_FUNCTION)
  await writeFile(join(benchDir, 'nodejs', 'package.json'), JSON.stringify({ name: 'standin', dependencies: {} }))
  storage = createFsStorage(join(root, 'storage'))
  const src = join(root, 'src.txt')
  for (const key of ['in/tree/a.txt', 'in/tree/sub/b.txt', 'in/treehouse.txt']) {
    await writeFile(src, key)
    await storage.put(BUCKET, key, src)
  }
})

afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true })
})

/** Method names a storage module defines (class methods and Python defs). */
async function methods(file: string): Promise<Set<string>> {
  const text = await readFile(file, 'utf8')
  const names = file.endsWith('.py')
    ? [...text.matchAll(/^\s{4}def ([a-z_]+)\(/gm)].map((m) => m[1]!)
    : [...text.matchAll(/^\s{2}(?:static\s+)?(?:async\s+)?([a-zA-Z_]+)\([^)]*\)\s*\{/gm)].map((m) => m[1]!)
  return new Set(names.filter((n) => !n.startsWith('_') && n !== 'constructor'))
}

describe('storage stand-ins', () => {
  it.each([
    ['python', 'python/storage.py', 'fs-storage.py'],
    ['nodejs', 'nodejs/storage.js', 'fs-storage.js'],
  ])('%s offers every method of the real storage module', async (_language, real, standIn) => {
    const realMethods = await methods(join(REAL_MODULES, real))
    expect(realMethods.size).toBeGreaterThan(4)
    const ours = await methods(join(import.meta.dirname, standIn))
    expect([...realMethods].filter((m) => !ours.has(m))).toEqual([])
  })

  it.each(['python', 'nodejs'] as const)('%s: uploads under unique keys, downloads, streams, and copies whole keys below a directory', async (language) => {
    const run = await runFunction({ benchmarkDir: benchDir, language, event: { bucket: BUCKET, who: language }, storage })
    const r = run.output.result as Record<string, unknown>
    expect(r.key).toMatch(/^out\/hello\.[0-9a-f]{8}\.txt$/)
    expect(r.copy).toBe(`hello ${language}`)
    expect((await storage.get(BUCKET, r.key as string)).toString()).toBe(`hello ${language}`)
    expect(r.stream_key).toMatch(/^out\/stream\.[0-9a-f]{8}\.bin$/)
    expect(r.streamed).toBe('\x00\x01bytes')
    // A string prefix (not in/treehouse.txt), each object at its whole key, as SeBS's download_directory does.
    expect(r.tree).toEqual(['in/tree/a.txt', 'in/tree/sub/b.txt'])
    expect(r.missing).toMatch(/NoSuchKey|does not exist/)
    expect(r.escape).toMatch(/invalid key/)
    expect(run.output.measurement).toEqual({ n: 1 })
    expect(run.stdout).toContain('function stdout')
    expect(run.tmpLeftovers).toEqual([])
    expect(run.elapsedMs).toBeGreaterThan(0)
  })

  it('places no storage module without a store, like a package without the storage module', async () => {
    await expect(runFunction({ benchmarkDir: benchDir, language: 'python', event: { bucket: BUCKET, who: 'x' } })).rejects.toThrow(
      /cannot import name 'storage'/,
    )
  })
})

describe('helpers', () => {
  it('installs nothing for empty manifests', async () => {
    expect(await installFunctionDeps(benchDir, 'python')).toBeUndefined()
    expect(await installFunctionDeps(benchDir, 'nodejs')).toBeUndefined()
  })

  it('builds an input context like the harness: SeBS prefixes, upload resolves to <prefix>/<key>', async () => {
    const ctx = createInputContext({ benchmark: '999.x', size: 'small', dataDir: root, storage, counts: [2, 1] })
    expect([ctx.inputPrefixes, ctx.outputPrefixes]).toEqual([['999.x-0-input', '999.x-1-input'], ['999.x-0-output']])
    const file = join(root, 'up.txt')
    await writeFile(file, 'up')
    expect(await ctx.upload(1, 'd/up.txt', file)).toBe('999.x-1-input/d/up.txt')
    expect(ctx.uploads).toEqual([{ prefixIndex: 1, key: 'd/up.txt', filePath: file }])
    expect((await storage.get(ctx.bucket, '999.x-1-input/d/up.txt')).toString()).toBe('up')
    await expect(ctx.upload(2, 'x', file)).rejects.toThrow(/input prefix 2/)
  })
})
