/**
 * Runs 220's Python and Node.js functions for real (child python3 / node
 * running the OS ffmpeg, a filesystem stand-in for storage) and validates
 * what they store.
 */
import { execFileSync } from 'node:child_process'
import { mkdir, rm, symlink } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createFsStorage,
  createInputContext,
  makeTempDir,
  runFunction,
  type FsStorage,
} from '../../_lib/testing/run-function.ts'
import { bucketsCount, generateInput, validateOutput } from './input.ts'

const BENCH_DIR = dirname(fileURLToPath(import.meta.url))
const BENCH = '220.video-processing'

let root: string
let dataDir: string
let storage: FsStorage

beforeAll(async () => {
  root = await makeTempDir('220-fn')
  dataDir = join(root, 'data')
  storage = createFsStorage(join(root, 'storage'))
})
afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})

type Output = { result: { bucket: string; key: string }; measurement: Record<string, number> }

describe.each(['python', 'nodejs'] as const)('220.video-processing %s function', (language) => {
  const cases = [
    { size: 'test', op: 'watermark', keyPattern: /processed-clip-320x240\.[0-9a-f]{8}\.mp4$/ },
    { size: 'small', op: 'watermark', keyPattern: /processed-clip-640x480\.[0-9a-f]{8}\.mp4$/ },
    // The GIF operation on the test video: the large input (a 1080p GIF) is exercised by the benchmark itself.
    { size: 'test', op: 'extract-gif', keyPattern: /processed-clip-320x240\.mp4\.[0-9a-f]{8}\.gif$/ },
  ] as const
  it.each(cases)('$op on the $size video gives output that validateOutput accepts', async ({ size, op, keyPattern }) => {
    const ctx = createInputContext({ benchmark: BENCH, size, dataDir, storage, counts: bucketsCount() })
    const generated = await generateInput(ctx)
    const object = { ...(generated.object as { key: string }), op }
    const event = { ...generated, object }
    const run = await runFunction({ benchmarkDir: BENCH_DIR, language, event, storage })
    const { result, measurement } = run.output as Output
    expect(result.bucket).toBe(ctx.bucket)
    expect(result.key.startsWith(`${BENCH}-0-output/`)).toBe(true)
    expect(result.key).toMatch(keyPattern)
    const stored = await storage.get(result.bucket, result.key)
    const video = await storage.get(ctx.bucket, `${BENCH}-0-input/${object.key}`)
    expect(measurement).toMatchObject({ download_size: video.length, upload_size: stored.length })
    for (const name of ['download_time', 'compute_time', 'upload_time']) expect(measurement[name], name).toBeGreaterThan(0)
    expect(run.tmpLeftovers).toEqual([])
    expect(await validateOutput({ dataDir, size, language, input: event, output: result, download: storage.get })).toBeUndefined()
  }, 120_000)

  it('says how to install ffmpeg when it is not on PATH', async () => {
    const event = await generateInput(createInputContext({ benchmark: BENCH, size: 'test', dataDir, storage, counts: bucketsCount() }))
    // A PATH with only the interpreter on it.
    const bin = join(root, `bin-${language}`)
    await mkdir(bin, { recursive: true })
    const python = execFileSync('python3', ['-c', 'import sys; print(sys.executable)']).toString().trim()
    await symlink(python, join(bin, 'python3'))
    await expect(runFunction({ benchmarkDir: BENCH_DIR, language, event, storage, env: { PATH: bin } })).rejects.toThrow(
      /ffmpeg not found: install Debian's ffmpeg \(apt-get install ffmpeg\)/,
    )
  })

  it('rejects an unknown operation, listing the known ones', async () => {
    const generated = await generateInput(createInputContext({ benchmark: BENCH, size: 'test', dataDir, storage, counts: bucketsCount() }))
    const event = { ...generated, object: { ...(generated.object as object), op: 'transcode' } }
    await expect(runFunction({ benchmarkDir: BENCH_DIR, language, event, storage })).rejects.toThrow(
      /unknown operation 'transcode': choose one of extract-gif, watermark/,
    )
  })
})
