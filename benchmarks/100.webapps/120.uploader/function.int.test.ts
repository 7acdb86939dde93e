/**
 * Runs 120's Python and Node.js functions for real (child python3 / node, a
 * filesystem stand-in for storage) against a loopback HTTP file server that
 * serves the generated data directory, as the harness's does, and validates
 * what they stored.
 */
import { createReadStream } from 'node:fs'
import { rm, stat } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { dirname, join, normalize } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createFsStorage, createInputContext, makeTempDir, runFunction, type FsStorage } from '../../_lib/testing/run-function.ts'
import { bucketsCount, FILES, generateInput, validateOutput } from './input.ts'

const BENCH_DIR = dirname(fileURLToPath(import.meta.url))
const BENCH = '120.uploader'

let root: string
let dataDir: string
let storage: FsStorage
let server: Server
let baseUrl: string
const requests: Array<{ path: string; userAgent: string | undefined }> = []

beforeAll(async () => {
  root = await makeTempDir('120-fn')
  dataDir = join(root, 'data')
  storage = createFsStorage(join(root, 'storage'))
  // A minimal static file server for dataDir, standing in for the harness's.
  server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)
    requests.push({ path, userAgent: req.headers['user-agent'] })
    const file = normalize(join(dataDir, path.replace(/^\/files\//, '/')))
    if (!path.startsWith('/files/') || !file.startsWith(dataDir + '/')) {
      res.writeHead(403).end()
      return
    }
    stat(file).then(
      (s) => {
        res.writeHead(200, { 'content-length': s.size, 'content-type': 'application/octet-stream' })
        createReadStream(file).pipe(res)
      },
      () => res.writeHead(404, { 'content-type': 'text/plain' }).end('not found'),
    )
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/files`
})
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve))
  await rm(root, { recursive: true, force: true })
})

const SEBS_UA = 'SeBS/1.2 (serverless-benchmarks)'

describe.each(['python', 'nodejs'] as const)('120.uploader %s function', (language) => {
  it.each(['test', 'small'] as const)('downloads and stores the %s file, which validateOutput accepts', async (size) => {
    // The server is mounted under /files, so the generated URL must carry the base path.
    const ctx = createInputContext({ benchmark: BENCH, size, dataDir, storage, counts: bucketsCount(), fileServerUrl: baseUrl })
    const event = await generateInput(ctx)
    const seen = requests.length
    const run = await runFunction({ benchmarkDir: BENCH_DIR, language, event, storage })
    const { result, measurement } = run.output as { result: { bucket: string; url: string; key: string }; measurement: Record<string, number> }
    expect(requests.slice(seen)).toEqual([{ path: `/files/${FILES[size].name}`, userAgent: SEBS_UA }])
    const [stem, ext] = FILES[size].name.split(/\.(?=[^.]+$)/)
    expect(result).toEqual({ bucket: ctx.bucket, url: (event.object as { url: string }).url, key: expect.stringMatching(new RegExp(`^${BENCH}-0-output/${stem.replace(/\./g, '\\.')}\\.[0-9a-f]{8}\\.${ext}$`)) })
    expect(measurement).toMatchObject({ download_size: FILES[size].bytes, upload_size: FILES[size].bytes })
    expect(measurement.download_time).toBeGreaterThan(0)
    expect(measurement.upload_time).toBeGreaterThan(0)
    expect(run.tmpLeftovers).toEqual([])
    expect(await validateOutput({ dataDir, size, language, input: event, output: result, download: storage.get })).toBeUndefined()
  })

  it('fails with the HTTP status when the file is missing', async () => {
    const event = {
      object: { url: `${baseUrl}/no-such-file.bin`, size: 1 },
      bucket: { bucket: 'sebs-benchmarks-test', output: `${BENCH}-0-output` },
    }
    await expect(runFunction({ benchmarkDir: BENCH_DIR, language, event, storage })).rejects.toThrow(/404/)
  })
})
