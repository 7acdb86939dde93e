import { execFileSync } from 'node:child_process'
import { mkdir, readdir, readFile, rm, stat, symlink } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ValidateOutputContext } from '../../../core/benchmark-input.ts'
import { createInputContext, hashDir, makeTempDir, snapshotDir } from '../../_lib/testing/run-function.ts'
import { bucketsCount, generateInput, imageDimensions, imageName, imageNames, RESOLUTION, validateOutput } from './input.ts'

const BENCH = '210.thumbnailer'
let root: string

beforeAll(async () => {
  root = await makeTempDir('210-input')
})
afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})

const ctxFor = (size: 'test' | 'small' | 'large', dataDir: string) =>
  createInputContext({ benchmark: BENCH, size, dataDir, counts: bucketsCount() })

/** Scales `src` to exactly w×h with ffmpeg (a stand-in thumbnail for validator tests). */
function scaled(src: string, w: number, h: number, format: 'mjpeg' | 'png' = 'mjpeg'): Buffer {
  const codec = format === 'png' ? ['-c:v', 'png', '-f', 'image2', '-update', '1'] : ['-f', 'mjpeg']
  return execFileSync('ffmpeg', ['-nostdin', '-v', 'error', '-i', src, '-vf', `scale=${w}:${h}`, '-frames:v', '1', ...codec, 'pipe:1'])
}

describe('210 generateInput', () => {
  it('declares one input and one output prefix', () => {
    expect(bucketsCount()).toEqual([1, 1])
  })

  it('renders the image set once, uploads all of it, and names the test card', async () => {
    const dataDir = join(root, 'cache')
    const ctx = ctxFor('test', dataDir)
    const event = await generateInput(ctx)
    expect(event).toEqual({
      object: { key: 'testcard-640x480.jpg', width: 200, height: 200 },
      bucket: { bucket: ctx.bucket, input: `${BENCH}-0-input`, output: `${BENCH}-0-output` },
    })
    expect(ctx.uploads.map((u) => [u.prefixIndex, u.key])).toEqual(imageNames('test').map((n) => [0, n]))
    const before = await snapshotDir(dataDir)
    expect(Object.keys(before).sort()).toEqual(imageNames('test').sort())
    const again = ctxFor('test', dataDir)
    expect(await generateInput(again)).toEqual(event)
    expect(again.uploads).toEqual(ctx.uploads)
    expect(await snapshotDir(dataDir)).toEqual(before)
  })

  it('renders byte-identical images in every data directory', async () => {
    const dirs = [join(root, 'det-a'), join(root, 'det-b')]
    for (const dataDir of dirs) await generateInput(ctxFor('test', dataDir))
    const [a, b] = await Promise.all(dirs.map(hashDir))
    expect(Object.keys(a).length).toBe(3)
    expect(a).toEqual(b)
  })

  it('grows in pixels with the size', async () => {
    const dataDir = join(root, 'sizes')
    let previousPixels = 0
    let previousBytes = 0
    for (const size of ['test', 'small', 'large'] as const) {
      const event = await generateInput(ctxFor(size, dataDir))
      const key = (event.object as { key: string }).key
      const body = await readFile(join(dataDir, key))
      expect(imageDimensions(body)).toEqual({ format: 'jpeg', ...RESOLUTION[size] })
      const pixels = RESOLUTION[size].width * RESOLUTION[size].height
      expect(pixels).toBeGreaterThan(previousPixels * 4 - 1)
      expect(body.length).toBeGreaterThan(previousBytes)
      previousPixels = pixels
      previousBytes = body.length
    }
    expect((await stat(join(dataDir, imageName('testcard', 'large')))).size).toBeGreaterThan(500_000)
  }, 300_000)

  it('generates with the static ffmpeg of the npm package when PATH has none', async () => {
    const path = process.env.PATH
    const own = process.env.SEBS_FFMPEG
    // A PATH with node alone (node lives in /usr/bin next to Debian's ffmpeg here).
    const bin = join(root, 'node-only-bin')
    await mkdir(bin, { recursive: true })
    await symlink(process.execPath, join(bin, 'node')).catch(() => undefined)
    process.env.PATH = bin
    delete process.env.SEBS_FFMPEG
    try {
      const dataDir = join(root, 'npm-ffmpeg')
      await generateInput(ctxFor('test', dataDir))
      expect((await readdir(dataDir)).length).toBeGreaterThan(0)
    } finally {
      process.env.PATH = path
      if (own !== undefined) process.env.SEBS_FFMPEG = own
    }
  }, 120_000)

  it('names SEBS_FFMPEG and the fix when it points at no binary', async () => {
    const own = process.env.SEBS_FFMPEG
    process.env.SEBS_FFMPEG = join(root, 'no-such-ffmpeg')
    try {
      await expect(generateInput(ctxFor('test', join(root, 'noffmpeg')))).rejects.toThrow(/SEBS_FFMPEG=.*no-such-ffmpeg is not an executable file: point it at an ffmpeg binary or unset it/)
    } finally {
      if (own === undefined) delete process.env.SEBS_FFMPEG
      else process.env.SEBS_FFMPEG = own
    }
  })
})

describe('210 imageDimensions', () => {
  it('reads JPEG frame headers past other segments, and PNG headers', () => {
    // SOI, APP0 (length 4), progressive SOF2 with height 0x0102, width 0x0304.
    const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x04, 0x00, 0x00, 0xff, 0xc2, 0x00, 0x11, 0x08, 0x01, 0x02, 0x03, 0x04, 0x03])
    expect(imageDimensions(jpeg)).toEqual({ format: 'jpeg', width: 0x0304, height: 0x0102 })
    // DHT (C4) is not a frame header.
    const dhtFirst = Buffer.from([0xff, 0xd8, 0xff, 0xc4, 0x00, 0x02, 0xff, 0xc0, 0x00, 0x11, 0x08, 0x00, 0x10, 0x00, 0x20, 0x03])
    expect(imageDimensions(dhtFirst)).toEqual({ format: 'jpeg', width: 32, height: 16 })
    const png = Buffer.alloc(33)
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]).copy(png)
    png.write('IHDR', 12, 'latin1')
    png.writeUInt32BE(200, 16)
    png.writeUInt32BE(113, 20)
    expect(imageDimensions(png)).toEqual({ format: 'png', width: 200, height: 113 })
    expect(imageDimensions(Buffer.from('GIF89a......'))).toBeUndefined()
    expect(imageDimensions(Buffer.from([0xff, 0xd8, 0xff, 0xda, 0x00, 0x02]))).toBeUndefined()
  })
})

describe('210 validateOutput', () => {
  let dataDir: string
  let event: Record<string, unknown>
  let source: string
  const KEY = `${BENCH}-0-output/testcard-640x480.0a1b2c3d.jpg`
  const vctx = (output: unknown, body?: Buffer): ValidateOutputContext => ({
    dataDir,
    size: 'test',
    language: 'python',
    input: event,
    output,
    download: async (bucket, key) => {
      if (!body) throw new Error(`NoSuchKey ${bucket}/${key}`)
      return body
    },
  })
  const result = { bucket: 'sebs-benchmarks-test', key: KEY }

  beforeAll(async () => {
    dataDir = join(root, 'validate')
    event = await generateInput(ctxFor('test', dataDir))
    source = join(dataDir, 'testcard-640x480.jpg')
  })

  it('accepts 200×150 JPEG and PNG thumbnails of a 640×480 image, and 1 px of rounding', async () => {
    expect(await validateOutput(vctx(result, scaled(source, 200, 150)))).toBeUndefined()
    expect(await validateOutput(vctx(result, scaled(source, 200, 150, 'png')))).toBeUndefined()
    expect(await validateOutput(vctx(result, scaled(source, 200, 151)))).toBeUndefined()
  })

  it('rejects thumbnails that are too big, distorted, or smaller than the box allows', async () => {
    expect(await validateOutput(vctx(result, scaled(source, 300, 225)))).toBe('the thumbnail is 300×225, which does not fit inside 200×200')
    expect(await validateOutput(vctx(result, scaled(source, 200, 200)))).toMatch(/is 200×200, expected about 200\.0×150\.0 \(the 640×480 input/)
    expect(await validateOutput(vctx(result, scaled(source, 100, 75)))).toMatch(/is 100×75, expected about 200\.0×150\.0/)
  })

  it('rejects non-images, missing objects, keys outside the output prefix and bad results', async () => {
    expect(await validateOutput(vctx(result, Buffer.from('not an image')))).toMatch(/neither a JPEG nor a PNG/)
    expect(await validateOutput(vctx(result))).toMatch(/could not download the thumbnail .*NoSuchKey/)
    expect(await validateOutput(vctx({ ...result, key: 'elsewhere/t.jpg' }, scaled(source, 200, 150)))).toMatch(/not under the output prefix/)
    expect(await validateOutput(vctx({ key: KEY }))).toMatch(/expected result \{bucket, key\}/)
    expect(await validateOutput({ ...vctx(result), download: undefined })).toMatch(/needs storage access/)
  })
})
