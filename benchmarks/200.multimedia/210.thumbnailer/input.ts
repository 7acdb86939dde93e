/**
 * 210.thumbnailer inputs: deterministic JPEGs rendered by ffmpeg's test
 * sources, whose pixel count grows with the size (SeBS uses one 2 MB photo
 * for every size). Each size has a small set of images, all uploaded as SeBS
 * uploads its ten photos; the event names one of them.
 */
import { spawn } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { GenerateInputContext, ValidateOutputContext } from '../../../core/benchmark-input.ts'
import { ensureFile } from '../../_lib/data.ts'
import { findFfmpeg } from '../../_lib/ffmpeg.mjs'

type Size = GenerateInputContext['size']

/** Image resolution per size: VGA, Full HD, 4K UHD. */
export const RESOLUTION: Record<Size, { width: number; height: number }> = {
  test: { width: 640, height: 480 },
  small: { width: 1920, height: 1080 },
  large: { width: 3840, height: 2160 },
}

/** The thumbnail box, as in SeBS. */
export const THUMBNAIL = { width: 200, height: 200 }

interface ImageRecipe {
  name: string
  /** lavfi source graph for a width × height frame. */
  graph: (width: number, height: number) => string
}

// Seeded sources and filters only: ffmpeg renders them byte-identically run after run.
// Film-grain noise gives the JPEGs a photo-like entropy (and decode cost).
const RECIPES: ImageRecipe[] = [
  { name: 'testcard', graph: (w, h) => `testsrc2=size=${w}x${h}:rate=1,noise=alls=10:allf=u:all_seed=2101` },
  { name: 'mandelbrot', graph: (w, h) => `mandelbrot=size=${w}x${h}:rate=1` },
  {
    name: 'texture',
    graph: (w, h) =>
      `life=size=${Math.round(w / 4)}x${Math.round(h / 4)}:rate=1:seed=2103:mold=10:life_color=#C83232:death_color=#204060,` +
      `scale=${w}:${h}:flags=bicubic,noise=alls=10:allf=u:all_seed=2103`,
  },
]

/** The image the event names. */
const EVENT_IMAGE = 'testcard'

export function imageName(recipe: string, size: Size): string {
  const { width, height } = RESOLUTION[size]
  return `${recipe}-${width}x${height}.jpg`
}

export function imageNames(size: Size): string[] {
  return RECIPES.map((r) => imageName(r.name, size))
}

function runFfmpeg(args: string[], timeoutMs = 300_000): Promise<void> {
  // SEBS_FFMPEG, PATH, or the static build of the npm package: throws with the fixes when none is there.
  const ffmpeg = findFfmpeg()
  return new Promise((resolve, reject) => {
    const child = spawn(ffmpeg, ['-nostdin', '-hide_banner', '-v', 'error', '-y', ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: timeoutMs,
    })
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.on('error', (err: NodeJS.ErrnoException) => reject(err))
    child.on('close', (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`ffmpeg ${args.join(' ')} failed (${signal ?? `exit code ${code}`}): ${stderr.trim()}`)),
    )
  })
}

async function renderJpeg(graph: string, out: string): Promise<void> {
  // -f mjpeg: the temporary name has no extension to guess from; one frame of MJPEG is a JFIF file.
  await runFfmpeg(['-f', 'lavfi', '-i', graph, '-frames:v', '1', '-q:v', '3', '-pix_fmt', 'yuvj420p', '-bitexact', '-flags', '+bitexact', '-f', 'mjpeg', out])
}

export function bucketsCount(): [number, number] {
  return [1, 1]
}

export async function generateInput(ctx: GenerateInputContext): Promise<Record<string, unknown>> {
  const { width, height } = RESOLUTION[ctx.size]
  for (const recipe of RECIPES) {
    const name = imageName(recipe.name, ctx.size)
    const path = join(ctx.dataDir, name)
    await ensureFile(path, (tmp) => renderJpeg(recipe.graph(width, height), tmp))
    await ctx.upload(0, name, path)
  }
  return {
    object: { key: imageName(EVENT_IMAGE, ctx.size), width: THUMBNAIL.width, height: THUMBNAIL.height },
    bucket: { bucket: ctx.bucket, input: ctx.inputPrefixes[0], output: ctx.outputPrefixes[0] },
  }
}

/**
 * Width and height from a JPEG's SOF marker or a PNG's IHDR chunk; undefined
 * for anything else.
 */
export function imageDimensions(data: Uint8Array): { format: 'jpeg' | 'png'; width: number; height: number } | undefined {
  const u16 = (i: number): number => (data[i] << 8) | data[i + 1]
  if (data.length >= 24 && data[0] === 0x89 && data[1] === 0x50 && data[2] === 0x4e && data[3] === 0x47) {
    if (String.fromCharCode(data[12], data[13], data[14], data[15]) !== 'IHDR') return undefined
    const u32 = (i: number): number => ((data[i] << 24) | (data[i + 1] << 16) | (data[i + 2] << 8) | data[i + 3]) >>> 0
    return { format: 'png', width: u32(16), height: u32(20) }
  }
  if (data.length < 4 || data[0] !== 0xff || data[1] !== 0xd8) return undefined
  let i = 2
  while (i + 3 < data.length) {
    if (data[i] !== 0xff) return undefined
    const marker = data[i + 1]
    if (marker === 0xff) {
      i++ // fill byte
      continue
    }
    // Markers without a length field.
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) {
      i += 2
      continue
    }
    if (marker === 0xd9 || marker === 0xda) return undefined // end of image / start of scan before any frame header
    const length = u16(i + 2)
    // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC).
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      if (i + 8 >= data.length) return undefined
      return { format: 'jpeg', height: u16(i + 5), width: u16(i + 7) }
    }
    i += 2 + length
  }
  return undefined
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

export async function validateOutput(ctx: ValidateOutputContext): Promise<string | undefined> {
  const out = ctx.output
  if (!isRecord(out) || typeof out.bucket !== 'string' || typeof out.key !== 'string') {
    return `expected result {bucket, key}, got ${JSON.stringify(out)}`
  }
  const input = ctx.input as { object?: { key?: string; width?: number; height?: number }; bucket?: { output?: string } }
  const outputPrefix = input.bucket?.output
  if (outputPrefix && !out.key.startsWith(`${outputPrefix}/`)) {
    return `result key '${out.key}' is not under the output prefix '${outputPrefix}/'`
  }
  const boxW = input.object?.width ?? THUMBNAIL.width
  const boxH = input.object?.height ?? THUMBNAIL.height
  const sourceName = input.object?.key ?? imageName(EVENT_IMAGE, ctx.size)
  const source = imageDimensions(await readFile(join(ctx.dataDir, sourceName)))
  if (!source) return `cannot read the dimensions of the input image ${sourceName} in ${ctx.dataDir}`

  if (!ctx.download) return 'validation needs storage access (ctx.download) to read the thumbnail'
  let body: Buffer
  try {
    body = await ctx.download(out.bucket, out.key)
  } catch (err) {
    return `could not download the thumbnail '${out.bucket}/${out.key}': ${err instanceof Error ? err.message : String(err)}`
  }
  const thumb = imageDimensions(body)
  if (!thumb) return `the thumbnail '${out.key}' (${body.length} bytes) is neither a JPEG nor a PNG with a readable header`
  const { width, height } = thumb
  if (width < 1 || height < 1 || width > boxW || height > boxH) {
    return `the thumbnail is ${width}×${height}, which does not fit inside ${boxW}×${boxH}`
  }
  // Fit inside the box keeping the aspect ratio (never enlarging): one side meets the box, the other follows within 1 px.
  const scale = Math.min(boxW / source.width, boxH / source.height, 1)
  const expectW = source.width * scale
  const expectH = source.height * scale
  if (Math.abs(width - expectW) > 1 || Math.abs(height - expectH) > 1) {
    return (
      `the thumbnail is ${width}×${height}, expected about ${expectW.toFixed(1)}×${expectH.toFixed(1)} ` +
      `(the ${source.width}×${source.height} input scaled to fit ${boxW}×${boxH} with its aspect ratio)`
    )
  }
  return undefined
}
