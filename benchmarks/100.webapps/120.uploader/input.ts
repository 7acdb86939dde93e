/**
 * 120.uploader inputs. SeBS downloads three files from the internet
 * (a Wikimedia JPEG, a GitHub zip, the ResNet-50 weights), which is flaky
 * (SeBS issue #317) and impossible offline. Here the files are seeded bytes
 * of the same sizes and kinds of names, served by the harness's loopback
 * file server (`ctx.fileServerUrl`, which serves `ctx.dataDir`) or by a
 * configured public base URL on cloud runs.
 */
import { createHash } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { basename, extname, join } from 'node:path'
import { once } from 'node:events'
import type { GenerateInputContext, ValidateOutputContext } from '../../../core/benchmark-input.ts'
import { createRng, ensureFile } from '../../_lib/data.ts'

type Size = GenerateInputContext['size']

export interface UploaderFile {
  name: string
  bytes: number
  seed: number
}

/** The file each size downloads: the sizes of SeBS's files (230 kB JPEG, 6.7 MB zip, 98 MiB PyTorch weights). */
export const FILES: Record<Size, UploaderFile> = {
  test: { name: '800px-synthetic-photo.jpg', bytes: 230_000, seed: 1201 },
  small: { name: 'hpx-1.4.0-synthetic.zip', bytes: 6_700_000, seed: 1202 },
  large: { name: 'resnet50-synthetic.pth', bytes: 102_502_400, seed: 1203 },
}

const CHUNK = 1 << 20

/**
 * Writes `bytes` seeded bytes to `path` in 1 MiB chunks (the large file is
 * 98 MiB). The bytes equal `seededBytes(seed, bytes)` from `_lib/data.ts`.
 */
async function writeSeededFile(path: string, seed: number, bytes: number): Promise<void> {
  const rng = createRng(seed)
  const out = createWriteStream(path)
  const failed = once(out, 'error').then(([err]) => Promise.reject(err as Error))
  failed.catch(() => undefined)
  for (let offset = 0; offset < bytes; offset += CHUNK) {
    const chunk = Buffer.allocUnsafe(Math.min(CHUNK, bytes - offset))
    for (let i = 0; i < chunk.length; i++) chunk[i] = Math.floor(rng() * 256)
    if (!out.write(chunk)) await Promise.race([once(out, 'drain'), failed])
  }
  out.end()
  await Promise.race([once(out, 'finish'), failed])
}

export function md5File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('md5')
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolve(hash.digest('hex')))
      .on('error', reject)
  })
}

export function bucketsCount(): [number, number] {
  return [0, 1]
}

export async function generateInput(ctx: GenerateInputContext): Promise<Record<string, unknown>> {
  const file = FILES[ctx.size]
  if (!ctx.fileServerUrl) {
    throw new Error(
      `120.uploader needs an HTTP server that serves its data directory (${ctx.dataDir}): ` +
        'run it through the harness, which starts a loopback file server, or configure a base URL that serves these files',
    )
  }
  await ensureFile(join(ctx.dataDir, file.name), (tmp) => writeSeededFile(tmp, file.seed, file.bytes))
  return {
    object: { url: `${ctx.fileServerUrl.replace(/\/+$/, '')}/${encodeURIComponent(file.name)}`, size: file.bytes },
    bucket: { bucket: ctx.bucket, output: ctx.outputPrefixes[0] },
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

export async function validateOutput(ctx: ValidateOutputContext): Promise<string | undefined> {
  const out = ctx.output
  if (!isRecord(out) || typeof out.bucket !== 'string' || typeof out.key !== 'string' || typeof out.url !== 'string') {
    return `expected result {bucket, url, key}, got ${JSON.stringify(out)}`
  }
  const input = ctx.input as { object?: { url?: string }; bucket?: { bucket?: string; output?: string } }
  if (input.object?.url !== undefined && out.url !== input.object.url) {
    return `result url '${out.url}' differs from the input url '${input.object.url}'`
  }
  if (input.bucket?.bucket !== undefined && out.bucket !== input.bucket.bucket) {
    return `result bucket '${out.bucket}' differs from the input bucket '${input.bucket.bucket}'`
  }
  const outputPrefix = input.bucket?.output
  if (outputPrefix && !out.key.startsWith(`${outputPrefix}/`)) {
    return `result key '${out.key}' is not under the output prefix '${outputPrefix}/'`
  }
  const file = FILES[ctx.size]
  const ext = extname(file.name)
  const stem = file.name.slice(0, -ext.length)
  const keyBase = basename(out.key)
  // The storage wrappers make keys unique as `name.<id>.ext`; the name and the extension must survive.
  if (keyBase !== file.name && !(keyBase.startsWith(`${stem}.`) && keyBase.endsWith(ext))) {
    return `result key '${out.key}' does not keep the file's base name '${stem}' and extension '${ext}'`
  }
  if (!ctx.download) return 'validation needs storage access (ctx.download) to read the uploaded object'
  let body: Buffer
  try {
    body = await ctx.download(out.bucket, out.key)
  } catch (err) {
    return `could not download the uploaded object '${out.bucket}/${out.key}': ${err instanceof Error ? err.message : String(err)}`
  }
  if (body.length !== file.bytes) return `the uploaded object has ${body.length} bytes, expected ${file.bytes}`
  const expected = await md5File(join(ctx.dataDir, file.name))
  const got = createHash('md5').update(body).digest('hex')
  if (got !== expected) return `the uploaded object's MD5 is ${got}, expected ${expected} (the MD5 of ${file.name})`
  return undefined
}
