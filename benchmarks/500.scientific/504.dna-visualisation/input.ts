/**
 * 504.dna-visualisation inputs: a synthetic, seeded FASTA genome whose length
 * grows with the size (SeBS uses one 4.2 Mbp B. subtilis file for every size),
 * and a validator that recomputes the squiggle curve from the same file.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { GenerateInputContext, ValidateOutputContext } from '../../../core/benchmark-input.ts'
import { createRng, ensureFile } from '../../_lib/data.ts'

type Size = GenerateInputContext['size']

/** Sequence length in base pairs per size; large is B. subtilis 168's genome length. */
export const SEQUENCE_LENGTH: Record<Size, number> = {
  test: 50_000,
  small: 1_000_000,
  large: 4_215_606,
}

const LINE_WIDTH = 80
const SEED = 504

export function fastaFileName(size: Size): string {
  return `bacillus-synthetic-${size}.fasta`
}

/**
 * The FASTA text: one header line, then the sequence in 80-character lines.
 * Bases are drawn with B. subtilis' GC content (43.5 %), with a few runs of
 * N (unknown bases), as in real assemblies. Exported for tests.
 */
export function generateFasta(size: Size): Buffer {
  const length = SEQUENCE_LENGTH[size]
  const rng = createRng(SEED + length)
  const seq = Buffer.allocUnsafe(length)
  const gc = 0.435
  for (let i = 0; i < length; i++) {
    const u = rng()
    // G and C share the GC fraction, A and T the rest.
    seq[i] = u < gc / 2 ? 0x47 /* G */ : u < gc ? 0x43 /* C */ : u < gc + (1 - gc) / 2 ? 0x41 /* A */ : 0x54 /* T */
  }
  const nRuns = Math.max(1, Math.floor(length / 250_000))
  for (let run = 0; run < nRuns; run++) {
    const runLength = 1 + Math.floor(rng() * 60)
    const start = Math.floor(rng() * (length - runLength))
    seq.fill(0x4e /* N */, start, start + runLength)
  }
  const header = `>SEBS_SYNTHETIC_${size.toUpperCase()} synthetic Bacillus-like genome, ${length} bp, seed ${SEED}\n`
  const lines = Math.ceil(length / LINE_WIDTH)
  const out = Buffer.allocUnsafe(header.length + length + lines)
  let pos = out.write(header, 0, 'latin1')
  for (let start = 0; start < length; start += LINE_WIDTH) {
    const end = Math.min(start + LINE_WIDTH, length)
    pos += seq.copy(out, pos, start, end)
    out[pos++] = 0x0a
  }
  return out
}

/**
 * The squiggle y values for `text` (bytes of an ASCII file), the same rule as
 * the functions: A (r+0.5, r), C (r−0.5, r), T (r−0.5, r−1) r−=1,
 * G (r+0.5, r+1) r+=1, anything else (r, r). x is simply k/2.
 */
export function squiggleY(text: Uint8Array): Float64Array {
  const y = new Float64Array(2 * text.length + 1)
  let r = 0
  let j = 1
  for (let i = 0; i < text.length; i++) {
    switch (text[i]) {
      case 0x41:
        y[j++] = r + 0.5
        y[j++] = r
        break
      case 0x43:
        y[j++] = r - 0.5
        y[j++] = r
        break
      case 0x54:
        y[j++] = r - 0.5
        y[j++] = r - 1
        r -= 1
        break
      case 0x47:
        y[j++] = r + 0.5
        y[j++] = r + 1
        r += 1
        break
      default:
        y[j++] = r
        y[j++] = r
    }
  }
  return y
}

/** Summary numbers quoted in validation messages. */
export function summarize(values: ArrayLike<number>): { length: number; sum: number; last: number; min: number; max: number } {
  let sum = 0
  let min = Infinity
  let max = -Infinity
  for (let i = 0; i < values.length; i++) {
    const v = values[i]
    sum += v
    if (v < min) min = v
    if (v > max) max = v
  }
  return { length: values.length, sum, last: values[values.length - 1], min, max }
}

export function bucketsCount(): [number, number] {
  return [1, 1]
}

export async function generateInput(ctx: GenerateInputContext): Promise<Record<string, unknown>> {
  const name = fastaFileName(ctx.size)
  const path = join(ctx.dataDir, name)
  await ensureFile(path, (tmp) => writeFile(tmp, generateFasta(ctx.size)))
  await ctx.upload(0, name, path)
  return {
    object: { key: name },
    bucket: { bucket: ctx.bucket, input: ctx.inputPrefixes[0], output: ctx.outputPrefixes[0] },
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

const fmt = (s: ReturnType<typeof summarize>): string =>
  `length ${s.length}, sum ${s.sum}, last ${s.last}, min ${s.min}, max ${s.max}`

export async function validateOutput(ctx: ValidateOutputContext): Promise<string | undefined> {
  const out = ctx.output
  if (!isRecord(out) || typeof out.bucket !== 'string' || typeof out.key !== 'string') {
    return `expected result {bucket, key}, got ${JSON.stringify(out)}`
  }
  const input = ctx.input as { bucket?: { output?: string }; object?: { key?: string } }
  const outputPrefix = input.bucket?.output
  if (outputPrefix && !out.key.startsWith(`${outputPrefix}/`)) {
    return `result key '${out.key}' is not under the output prefix '${outputPrefix}/'`
  }
  if (!ctx.download) return 'validation needs storage access (ctx.download) to read the uploaded JSON'
  const fastaName = input.object?.key ?? fastaFileName(ctx.size)
  const text = await readFile(join(ctx.dataDir, fastaName))

  let body: Buffer
  try {
    body = await ctx.download(out.bucket, out.key)
  } catch (err) {
    return `could not download the uploaded object '${out.bucket}/${out.key}': ${err instanceof Error ? err.message : String(err)}`
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(body.toString('utf8'))
  } catch (err) {
    return `the uploaded object '${out.key}' is not valid JSON: ${err instanceof Error ? err.message : String(err)}`
  }
  if (!Array.isArray(parsed) || parsed.length !== 2 || !Array.isArray(parsed[0]) || !Array.isArray(parsed[1])) {
    return `the uploaded JSON is not [x, y] (two arrays)`
  }
  const [x, y] = parsed as [unknown[], unknown[]]
  const expectedLength = 2 * text.length + 1
  if (x.length !== expectedLength || y.length !== expectedLength) {
    return `expected ${expectedLength} points (2 × ${text.length} characters + 1), got x ${x.length} and y ${y.length}`
  }
  for (let k = 0; k < x.length; k++) {
    if (x[k] !== k * 0.5) return `x[${k}] is ${JSON.stringify(x[k])}, expected ${k * 0.5} (x = linspace(0, ${text.length}, ${expectedLength}))`
  }
  const expected = squiggleY(text)
  for (let k = 0; k < expected.length; k++) {
    if (y[k] !== expected[k]) {
      const got = summarize(y.map((v) => (typeof v === 'number' ? v : NaN)))
      return (
        `y[${k}] is ${JSON.stringify(y[k])}, expected ${expected[k]}; ` +
        `expected y: ${fmt(summarize(expected))}; got y: ${fmt(got)}`
      )
    }
  }
  return undefined
}
