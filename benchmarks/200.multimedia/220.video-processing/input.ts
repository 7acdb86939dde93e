/**
 * 220.video-processing inputs: a deterministic test-pattern video with a
 * sine tone (ffmpeg's testsrc2 + sine, H.264/AAC in MP4) whose resolution and
 * length grow with the size, and a generated semi-transparent watermark PNG.
 * SeBS uses one Pexels video for every size and ships the watermark in the
 * code package; here both are generated and uploaded as inputs.
 */
import { spawn } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { GenerateInputContext, ValidateOutputContext } from '../../../core/benchmark-input.ts'
import { ensureFile } from '../../_lib/data.ts'
import { findFfmpeg } from '../../_lib/ffmpeg.mjs'

type Size = GenerateInputContext['size']
export type VideoOp = 'watermark' | 'extract-gif'

export interface VideoInput {
  width: number
  height: number
  /** Length of the generated video, seconds. */
  seconds: number
  op: VideoOp
  /** Seconds of video the operation processes (ffmpeg `-t`). */
  duration: number
}

/**
 * Per size: SeBS's operations (watermark for test and small, a GIF for
 * large), on videos that grow from 320×240 to Full HD. The large GIF covers
 * 5 s of 1080p instead of SeBS's 2 s, so that large is the heaviest size.
 */
export const VIDEOS: Record<Size, VideoInput> = {
  test: { width: 320, height: 240, seconds: 2, op: 'watermark', duration: 1 },
  small: { width: 640, height: 480, seconds: 4, op: 'watermark', duration: 3 },
  large: { width: 1920, height: 1080, seconds: 6, op: 'extract-gif', duration: 5 },
}

export const WATERMARK_NAME = 'watermark.png'
/** The GIF width of extract-gif (`scale=320:-1`). */
export const GIF_WIDTH = 320
/** Allowed difference between the expected and the probed output duration, seconds. */
export const DURATION_TOLERANCE_S = 0.5

export function videoName(size: Size): string {
  const { width, height } = VIDEOS[size]
  return `clip-${width}x${height}.mp4`
}

interface Captured {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

function capture(file: string, args: string[], timeoutMs: number): Promise<Captured> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.on('error', reject)
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }))
  })
}

async function runFfmpeg(args: string[]): Promise<void> {
  // SEBS_FFMPEG, PATH, or the static build of the npm package: throws with the fixes when none is there.
  const res = await capture(findFfmpeg(), ['-nostdin', '-hide_banner', '-v', 'error', '-y', ...args], 600_000)
  if (res.code !== 0) {
    throw new Error(`ffmpeg ${args.join(' ')} failed (${res.signal ?? `exit code ${res.code}`}): ${res.stderr.trim()}`)
  }
}

/** H.264 + AAC test pattern. One encoder thread and bitexact flags make the bytes reproducible. */
async function renderVideo(size: Size, out: string): Promise<void> {
  const { width, height, seconds } = VIDEOS[size]
  await runFfmpeg([
    '-f', 'lavfi', '-i', `testsrc2=size=${width}x${height}:rate=25`,
    '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100',
    '-t', String(seconds),
    '-c:v', 'libx264', '-preset', 'veryfast', '-threads', '1', '-pix_fmt', 'yuv420p',
    '-c:a', 'aac', '-b:a', '64k',
    '-map_metadata', '-1', '-fflags', '+bitexact', '-flags:v', '+bitexact', '-flags:a', '+bitexact',
    '-movflags', '+faststart', '-f', 'mp4', out,
  ])
}

/** A 256×144 semi-transparent frame-and-bar logo. */
async function renderWatermark(out: string): Promise<void> {
  const graph =
    'color=c=0x00000000:s=256x144,format=rgba,' +
    'drawbox=x=8:y=8:w=240:h=128:color=white@0.7:t=12,' +
    'drawbox=x=48:y=48:w=160:h=48:color=0xC83232@0.8:t=fill'
  await runFfmpeg(['-f', 'lavfi', '-i', graph, '-frames:v', '1', '-c:v', 'png', '-bitexact', '-f', 'image2', '-update', '1', out])
}

export function bucketsCount(): [number, number] {
  return [1, 1]
}

export async function generateInput(ctx: GenerateInputContext): Promise<Record<string, unknown>> {
  const name = videoName(ctx.size)
  const videoPath = join(ctx.dataDir, name)
  const watermarkPath = join(ctx.dataDir, WATERMARK_NAME)
  await ensureFile(videoPath, (tmp) => renderVideo(ctx.size, tmp))
  await ensureFile(watermarkPath, renderWatermark)
  await ctx.upload(0, name, videoPath)
  await ctx.upload(0, WATERMARK_NAME, watermarkPath)
  const { op, duration } = VIDEOS[ctx.size]
  return {
    object: { key: name, op, duration, watermark: WATERMARK_NAME },
    bucket: { bucket: ctx.bucket, input: ctx.inputPrefixes[0], output: ctx.outputPrefixes[0] },
  }
}

export interface ProbeResult {
  durationS: number
  video?: { width: number; height: number }
  hasAudio: boolean
}

/**
 * Duration and streams of a media file: ffprobe's report when ffprobe is
 * installed, else ffmpeg's own description of its input (`probeWithFfmpeg`:
 * the ffmpeg the benchmark itself uses, from the npm package on machines
 * without Debian's ffmpeg); undefined when neither exists (validation then
 * checks the container only).
 */
export async function probeMedia(path: string): Promise<ProbeResult | undefined> {
  let res: Captured
  try {
    res = await capture('ffprobe', ['-v', 'error', '-show_entries', 'format=duration:stream=codec_type,width,height', '-of', 'json', path], 60_000)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    let ffmpeg: string
    try {
      ffmpeg = findFfmpeg()
    } catch {
      return undefined
    }
    return probeWithFfmpeg(path, ffmpeg)
  }
  if (res.code !== 0) throw new Error(`ffprobe cannot read the file: ${res.stderr.trim()}`)
  const info = JSON.parse(res.stdout) as {
    format?: { duration?: string }
    streams?: Array<{ codec_type?: string; width?: number; height?: number }>
  }
  const video = info.streams?.find((s) => s.codec_type === 'video')
  return {
    durationS: Number(info.format?.duration ?? NaN),
    video: video?.width && video.height ? { width: video.width, height: video.height } : undefined,
    hasAudio: info.streams?.some((s) => s.codec_type === 'audio') ?? false,
  }
}

/** `HH:MM:SS.xx` in seconds. */
function clockSeconds(h: string, m: string, s: string): number {
  return Number(h) * 3600 + Number(m) * 60 + Number(s)
}

/**
 * What ffprobe would report, read from `ffmpeg -i <file>`: the input's
 * `Duration:` and its `Stream #0:N: Video: …, WxH` / `Audio:` lines. A GIF's
 * header has no duration (`Duration: N/A`): then the file is decoded
 * (`-f null -`) and the last `time=` of the decode is its length. A file
 * ffmpeg cannot open throws, as ffprobe's failure does.
 */
export async function probeWithFfmpeg(path: string, ffmpeg: string): Promise<ProbeResult> {
  // Without an output ffmpeg describes the input and exits 1 ("At least one output file must be specified").
  const res = await capture(ffmpeg, ['-nostdin', '-hide_banner', '-i', path], 60_000)
  const input = /^Input #0,[\s\S]*?(?=^\S|(?![\s\S]))/m.exec(res.stderr)?.[0]
  if (!input) throw new Error(`ffmpeg cannot read the file: ${res.stderr.trim().split('\n').slice(-3).join(' ')}`)
  const streams = input.split('\n').filter((l) => /^\s+Stream #0:\d+/.test(l))
  const videoLine = streams.find((l) => /: Video: /.test(l))
  const size = videoLine ? /, (\d{1,5})x(\d{1,5})\b/.exec(videoLine) : null
  let durationS = NaN
  const d = /Duration: (\d+):(\d{2}):(\d{2}(?:\.\d+)?)/.exec(input)
  if (d) durationS = clockSeconds(d[1]!, d[2]!, d[3]!)
  else {
    const decoded = await capture(ffmpeg, ['-nostdin', '-hide_banner', '-i', path, '-map', '0', '-f', 'null', '-'], 120_000)
    if (decoded.code !== 0) throw new Error(`ffmpeg cannot decode the file: ${decoded.stderr.trim().split('\n').slice(-3).join(' ')}`)
    const times = [...decoded.stderr.matchAll(/time=(\d+):(\d{2}):(\d{2}(?:\.\d+)?)/g)]
    const last = times.at(-1)
    if (last) durationS = clockSeconds(last[1]!, last[2]!, last[3]!)
  }
  return {
    durationS,
    video: size ? { width: Number(size[1]), height: Number(size[2]) } : undefined,
    hasAudio: streams.some((l) => /: Audio: /.test(l)),
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

export async function validateOutput(ctx: ValidateOutputContext): Promise<string | undefined> {
  const out = ctx.output
  if (!isRecord(out) || typeof out.bucket !== 'string' || typeof out.key !== 'string') {
    return `expected result {bucket, key}, got ${JSON.stringify(out)}`
  }
  const input = ctx.input as { object?: { op?: VideoOp; duration?: number }; bucket?: { output?: string } }
  const spec = VIDEOS[ctx.size]
  const op = input.object?.op ?? spec.op
  const outputPrefix = input.bucket?.output
  if (outputPrefix && !out.key.startsWith(`${outputPrefix}/processed-`)) {
    return `result key '${out.key}' is not '${outputPrefix}/processed-<name>'`
  }
  if (!ctx.download) return 'validation needs storage access (ctx.download) to read the processed video'
  let body: Buffer
  try {
    body = await ctx.download(out.bucket, out.key)
  } catch (err) {
    return `could not download the processed file '${out.bucket}/${out.key}': ${err instanceof Error ? err.message : String(err)}`
  }
  if (body.length < 1024) return `the processed file has only ${body.length} bytes`

  const expectedHeight = Math.round((GIF_WIDTH * spec.height) / spec.width)
  if (op === 'watermark') {
    if (body.subarray(4, 8).toString('latin1') !== 'ftyp') return `the watermarked video is not an MP4 file (no 'ftyp' box at offset 4)`
  } else if (op === 'extract-gif') {
    if (body.subarray(0, 6).toString('latin1') !== 'GIF89a') return `the extracted GIF does not start with 'GIF89a'`
    const width = body.readUInt16LE(6)
    const height = body.readUInt16LE(8)
    if (width !== GIF_WIDTH || Math.abs(height - expectedHeight) > 1) {
      return `the GIF is ${width}×${height}, expected ${GIF_WIDTH}×${expectedHeight}`
    }
  } else {
    return `unknown operation '${String(op)}' in the input`
  }

  const dir = await mkdtemp(join(tmpdir(), 'sebs-220-validate-'))
  try {
    const file = join(dir, op === 'watermark' ? 'out.mp4' : 'out.gif')
    await writeFile(file, body)
    let probe: ProbeResult | undefined
    try {
      probe = await probeMedia(file)
    } catch (err) {
      return `the processed file is not readable media: ${err instanceof Error ? err.message : String(err)}`
    }
    if (!probe) return undefined // neither ffprobe nor ffmpeg: container checks only
    const expected = Math.min(input.object?.duration ?? spec.duration, spec.seconds)
    if (!(Math.abs(probe.durationS - expected) <= DURATION_TOLERANCE_S)) {
      return `the processed file lasts ${probe.durationS} s, expected ${expected} s ± ${DURATION_TOLERANCE_S}`
    }
    if (op === 'watermark' && (probe.video?.width !== spec.width || probe.video?.height !== spec.height)) {
      return `the watermarked video is ${probe.video ? `${probe.video.width}×${probe.video.height}` : 'without a video stream'}, expected ${spec.width}×${spec.height}`
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
  return undefined
}
