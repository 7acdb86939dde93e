import { execFileSync } from 'node:child_process'
import { mkdir, readdir, readFile, rm, stat, symlink } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ValidateOutputContext } from '../../../core/benchmark-input.ts'
import { createInputContext, hashDir, makeTempDir, snapshotDir } from '../../_lib/testing/run-function.ts'
import { bucketsCount, generateInput, probeMedia, validateOutput, VIDEOS, videoName, WATERMARK_NAME } from './input.ts'

const BENCH = '220.video-processing'
let root: string

beforeAll(async () => {
  root = await makeTempDir('220-input')
})
afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})

const ctxFor = (size: 'test' | 'small' | 'large', dataDir: string) =>
  createInputContext({ benchmark: BENCH, size, dataDir, counts: bucketsCount() })

function ffmpeg(args: string[]): Buffer {
  return execFileSync('ffmpeg', ['-nostdin', '-v', 'error', '-y', ...args])
}

describe('220 generateInput', () => {
  it('declares one input and one output prefix', () => {
    expect(bucketsCount()).toEqual([1, 1])
  })

  it('renders the video and the watermark once, uploads both, and names the operation', async () => {
    const dataDir = join(root, 'cache')
    const ctx = ctxFor('test', dataDir)
    const event = await generateInput(ctx)
    expect(event).toEqual({
      object: { key: 'clip-320x240.mp4', op: 'watermark', duration: 1, watermark: WATERMARK_NAME },
      bucket: { bucket: ctx.bucket, input: `${BENCH}-0-input`, output: `${BENCH}-0-output` },
    })
    expect(ctx.uploads.map((u) => [u.prefixIndex, u.key])).toEqual([
      [0, 'clip-320x240.mp4'],
      [0, WATERMARK_NAME],
    ])
    const before = await snapshotDir(dataDir)
    const again = ctxFor('test', dataDir)
    expect(await generateInput(again)).toEqual(event)
    expect(again.uploads).toEqual(ctx.uploads)
    expect(await snapshotDir(dataDir)).toEqual(before)
    const png = await readFile(join(dataDir, WATERMARK_NAME))
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG')
  })

  it('renders byte-identical files in every data directory', async () => {
    const dirs = [join(root, 'det-a'), join(root, 'det-b')]
    for (const dataDir of dirs) await generateInput(ctxFor('test', dataDir))
    const [a, b] = await Promise.all(dirs.map(hashDir))
    expect(Object.keys(a).sort()).toEqual(['clip-320x240.mp4', WATERMARK_NAME])
    expect(a).toEqual(b)
  }, 120_000)

  it('grows in resolution, length and bytes with the size', async () => {
    const dataDir = join(root, 'sizes')
    let previousBytes = 0
    for (const size of ['test', 'small', 'large'] as const) {
      await generateInput(ctxFor(size, dataDir))
      const path = join(dataDir, videoName(size))
      const probe = await probeMedia(path)
      expect(probe?.video).toEqual({ width: VIDEOS[size].width, height: VIDEOS[size].height })
      expect(probe?.hasAudio).toBe(true)
      expect(Math.abs((probe?.durationS ?? 0) - VIDEOS[size].seconds)).toBeLessThan(0.1)
      const bytes = (await stat(path)).size
      expect(bytes).toBeGreaterThan(previousBytes * 2)
      previousBytes = bytes
    }
    expect(VIDEOS.test.duration < VIDEOS.small.duration && VIDEOS.small.duration < VIDEOS.large.duration).toBe(true)
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

describe('220 validateOutput', () => {
  let dataDir: string
  let event: Record<string, unknown>
  let video: string
  let watermark: string
  const outputs: Record<string, Buffer> = {}
  const KEY = `${BENCH}-0-output/processed-clip-320x240.0a1b2c3d.mp4`
  const GIF_KEY = `${BENCH}-0-output/processed-clip-320x240.mp4.0a1b2c3d.gif`
  const vctx = (output: unknown, body: Buffer | undefined, input: Record<string, unknown> = event): ValidateOutputContext => ({
    dataDir,
    size: 'test',
    language: 'nodejs',
    input,
    output,
    download: async (bucket, key) => {
      if (!body) throw new Error(`NoSuchKey ${bucket}/${key}`)
      return body
    },
  })
  const gifEvent = (): Record<string, unknown> => ({ ...event, object: { ...(event.object as object), op: 'extract-gif', duration: 1 } })
  const result = { bucket: 'sebs-benchmarks-test', key: KEY }
  const gifResult = { bucket: 'sebs-benchmarks-test', key: GIF_KEY }

  beforeAll(async () => {
    dataDir = join(root, 'validate')
    event = await generateInput(ctxFor('test', dataDir))
    video = join(dataDir, 'clip-320x240.mp4')
    watermark = join(dataDir, WATERMARK_NAME)
    const overlay = ['-filter_complex', 'overlay=main_w/2-overlay_w/2:main_h/2-overlay_h/2']
    const gif = ['-vf', 'fps=10,scale=320:-1:flags=lanczos,split[s0][s1];[s0]palettegen[p];[s1][p]paletteuse', '-loop', '0']
    // What the functions produce (SeBS's commands), and wrong variants.
    for (const [name, args] of Object.entries({
      right: ['-i', video, '-i', watermark, '-t', '1', ...overlay, join(root, 'right.mp4')],
      long: ['-i', video, '-i', watermark, '-t', '2', ...overlay, join(root, 'long.mp4')],
      small: ['-i', video, '-t', '1', '-vf', 'scale=160:120', join(root, 'small.mp4')],
      gif: ['-i', video, '-t', '1', ...gif, join(root, 'gif.gif')],
      narrow: ['-i', video, '-t', '1', '-vf', 'fps=10,scale=200:-1', join(root, 'narrow.gif')],
    })) {
      ffmpeg(args)
      outputs[name] = await readFile(args[args.length - 1])
    }
  }, 120_000)

  it('accepts what the operations produce', async () => {
    expect(await validateOutput(vctx(result, outputs.right))).toBeUndefined()
    expect(await validateOutput(vctx(gifResult, outputs.gif, gifEvent()))).toBeUndefined()
  })

  it('rejects a wrong duration, resolution or container, naming what differs', async () => {
    expect(await validateOutput(vctx(result, outputs.long))).toMatch(/lasts 2(\.\d+)? s, expected 1 s ± 0\.5/)
    expect(await validateOutput(vctx(result, outputs.small))).toBe('the watermarked video is 160×120, expected 320×240')
    expect(await validateOutput(vctx(result, outputs.gif))).toMatch(/not an MP4 file/)
    expect(await validateOutput(vctx(gifResult, outputs.right, gifEvent()))).toMatch(/does not start with 'GIF89a'/)
    expect(await validateOutput(vctx(gifResult, outputs.narrow, gifEvent()))).toBe('the GIF is 200×150, expected 320×240')
  })

  it('rejects truncated or unreadable media', async () => {
    expect(await validateOutput(vctx(result, outputs.right.subarray(0, 500)))).toBe('the processed file has only 500 bytes')
    // An 'ftyp' box and nothing playable after it.
    const broken = Buffer.concat([outputs.right.subarray(0, 32), Buffer.alloc(4096)])
    expect(await validateOutput(vctx(result, broken))).toMatch(/not readable media|lasts/)
  })

  it('rejects keys outside the output prefix, missing objects and bad results', async () => {
    expect(await validateOutput(vctx({ ...result, key: `${BENCH}-0-output/clip.mp4` }, outputs.right))).toMatch(/is not '.*\/processed-<name>'/)
    expect(await validateOutput(vctx(result, undefined))).toMatch(/could not download .*NoSuchKey/)
    expect(await validateOutput(vctx({ key: KEY }, outputs.right))).toMatch(/expected result \{bucket, key\}/)
    expect(await validateOutput({ ...vctx(result, outputs.right), download: undefined })).toMatch(/needs storage access/)
  })

  it("without ffprobe, reads duration and streams from ffmpeg's own report: the same checks", async () => {
    const files = { right: join(root, 'right.mp4'), long: join(root, 'long.mp4'), small: join(root, 'small.mp4'), gif: join(root, 'gif.gif') }
    const withProbe: Record<string, Awaited<ReturnType<typeof probeMedia>>> = {}
    for (const [name, file] of Object.entries(files)) withProbe[name] = await probeMedia(file)
    const path = process.env.PATH
    const own = process.env.SEBS_FFMPEG
    // No ffprobe and no Debian ffmpeg on PATH: the static ffmpeg of the npm package answers.
    process.env.PATH = join(root, 'no-such-bin')
    delete process.env.SEBS_FFMPEG
    try {
      for (const [name, file] of Object.entries(files)) {
        const viaFfmpeg = await probeMedia(file)
        expect(viaFfmpeg, name).toBeDefined()
        expect({ video: viaFfmpeg!.video, hasAudio: viaFfmpeg!.hasAudio }, name).toEqual({ video: withProbe[name]!.video, hasAudio: withProbe[name]!.hasAudio })
        expect(Math.abs(viaFfmpeg!.durationS - withProbe[name]!.durationS), `${name}: ${viaFfmpeg!.durationS} vs ${withProbe[name]!.durationS}`).toBeLessThan(0.15)
      }
      expect(await validateOutput(vctx(result, outputs.right))).toBeUndefined()
      expect(await validateOutput(vctx(gifResult, outputs.gif, gifEvent()))).toBeUndefined()
      expect(await validateOutput(vctx(result, outputs.long))).toMatch(/lasts 2(\.\d+)? s, expected 1 s ± 0\.5/)
      expect(await validateOutput(vctx(result, outputs.small))).toBe('the watermarked video is 160×120, expected 320×240')
      expect(await validateOutput(vctx(result, Buffer.concat([outputs.right.subarray(0, 32), Buffer.alloc(4096)])))).toMatch(/not readable media|lasts/)
    } finally {
      process.env.PATH = path
      if (own !== undefined) process.env.SEBS_FFMPEG = own
    }
  })

  it('still checks the container when neither ffprobe nor any ffmpeg is there', async () => {
    const path = process.env.PATH
    const own = process.env.SEBS_FFMPEG
    process.env.PATH = join(root, 'no-such-bin')
    // findFfmpeg refuses a SEBS_FFMPEG that is no binary: probeMedia then has no tool at all.
    process.env.SEBS_FFMPEG = join(root, 'no-such-ffmpeg')
    try {
      expect(await probeMedia(join(root, 'right.mp4'))).toBeUndefined()
      expect(await validateOutput(vctx(result, outputs.right))).toBeUndefined()
      expect(await validateOutput(vctx(result, outputs.gif))).toMatch(/not an MP4 file/)
    } finally {
      process.env.PATH = path
      if (own === undefined) delete process.env.SEBS_FFMPEG
      else process.env.SEBS_FFMPEG = own
    }
  })
})
