/**
 * Runs 210's Python (Pillow) and Node.js (sharp) functions for real (child
 * python3 / node with their dependencies installed from the registries, a
 * filesystem stand-in for storage) and validates the thumbnails they store.
 */
import { rm } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createFsStorage,
  createInputContext,
  installFunctionDeps,
  makeTempDir,
  runFunction,
  type FsStorage,
} from '../../_lib/testing/run-function.ts'
import { bucketsCount, generateInput, imageDimensions, RESOLUTION, validateOutput } from './input.ts'

const BENCH_DIR = dirname(fileURLToPath(import.meta.url))
const BENCH = '210.thumbnailer'

let root: string
let dataDir: string
let storage: FsStorage

beforeAll(async () => {
  root = await makeTempDir('210-fn')
  dataDir = join(root, 'data')
  storage = createFsStorage(join(root, 'storage'))
  // Installing pillow / sharp the first time takes a while; later runs reuse .sebs-cache/test-deps.
  await Promise.all([installFunctionDeps(BENCH_DIR, 'python'), installFunctionDeps(BENCH_DIR, 'nodejs')])
}, 600_000)
afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})

describe.each(['python', 'nodejs'] as const)('210.thumbnailer %s function', (language) => {
  it.each(['test', 'small'] as const)('stores a thumbnail of the %s image that validateOutput accepts', async (size) => {
    const ctx = createInputContext({ benchmark: BENCH, size, dataDir, storage, counts: bucketsCount() })
    const event = await generateInput(ctx)
    const run = await runFunction({ benchmarkDir: BENCH_DIR, language, event, storage })
    const { result, measurement } = run.output as { result: { bucket: string; key: string }; measurement: Record<string, number> }
    const { width, height } = RESOLUTION[size]
    expect(result.bucket).toBe(ctx.bucket)
    expect(result.key).toMatch(new RegExp(`^${BENCH}-0-output/testcard-${width}x${height}\\.[0-9a-f]{8}\\.jpg$`))
    const thumbnail = await storage.get(result.bucket, result.key)
    const dims = imageDimensions(thumbnail)
    // Both languages keep the aspect ratio and write JPEG.
    expect(dims?.format).toBe('jpeg')
    expect(dims?.width).toBe(200)
    expect(Math.abs((dims?.height ?? 0) - (200 * height) / width)).toBeLessThanOrEqual(1)
    const source = await storage.get(ctx.bucket, `${BENCH}-0-input/testcard-${width}x${height}.jpg`)
    expect(measurement).toMatchObject({ download_size: source.length, upload_size: thumbnail.length })
    for (const name of ['download_time', 'compute_time', 'upload_time']) {
      expect(measurement[name], name).toBeGreaterThan(0)
    }
    expect(await validateOutput({ dataDir, size, language, input: event, output: result, download: storage.get })).toBeUndefined()
  }, 120_000)
})
