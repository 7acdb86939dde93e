/**
 * 311.compression: the function downloads a directory tree from storage,
 * zips it (deflate) and uploads `<name>.zip`.
 *
 * SeBS zips the ACM LaTeX class (`acmart-master`, 39 files, about 10 MB)
 * for every size. Here the tree is generated, seeded and deterministic, and
 * it scales: `acmart-test` about 1 MiB, `acmart-small` about 10 MiB,
 * `acmart-large` about 50 MiB, each roughly 70% LaTeX-like text (from a
 * seeded word list) and 30% random bytes (like the PDFs and PNGs in acmart,
 * incompressible). The validator reads the archive back and checks its file
 * names, sizes and contents against the generated tree.
 */
import { createReadStream } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { crc32 } from 'node:zlib'
import yauzl from 'yauzl'
import type { GenerateInputContext, ValidateOutputContext } from '../../../core/benchmark-input.ts'
import type { Size } from '../../../core/types.ts'
import { createRng, ensureFile, seededBytes } from '../../_lib/data.ts'

const MiB = 1024 * 1024

interface TreeSpec {
  /** Total bytes of the tree. */
  bytes: number
  textFiles: number
  binaryFiles: number
}

/** The generated tree per size. */
export const TREES: Record<Size, TreeSpec> = {
  test: { bytes: 1 * MiB, textFiles: 12, binaryFiles: 4 },
  small: { bytes: 10 * MiB, textFiles: 24, binaryFiles: 8 },
  large: { bytes: 50 * MiB, textFiles: 48, binaryFiles: 16 },
}
const TEXT_SHARE = 0.7
const SEEDS: Record<Size, number> = { test: 311_001, small: 311_002, large: 311_003 }

export interface PlannedFile {
  /** Path inside the tree, `/`-separated. */
  path: string
  kind: 'text' | 'binary'
  bytes: number
  seed: number
}

/** The tree's directory name, which is also its key under the input prefix. */
export function treeName(size: Size): string {
  return `acmart-${size}`
}

const TEXT_PLACES: Array<[dir: string, stem: string, ext: string]> = [
  ['', 'acmart', 'dtx'],
  ['', 'acmart', 'cls'],
  ['', 'ACM-Reference-Format', 'bst'],
  ['samples', 'sample-sigconf', 'tex'],
  ['samples', 'sample-acmsmall', 'tex'],
  ['samples', 'sample-base', 'bib'],
  ['samples/sections', 'section', 'tex'],
  ['doc', 'acmguide', 'tex'],
]
const BINARY_PLACES: Array<[dir: string, stem: string, ext: string]> = [
  ['samples/figures', 'figure', 'png'],
  ['doc', 'acmart', 'pdf'],
  ['samples', 'sample-sigconf', 'pdf'],
  ['fonts', 'libertine', 'otf'],
]

/** Splits `total` into `count` seeded, uneven, positive parts that add up exactly. */
function splitBytes(total: number, count: number, rng: () => number): number[] {
  const weights = Array.from({ length: count }, () => 0.25 + rng())
  const sum = weights.reduce((a, b) => a + b, 0)
  const parts = weights.map((w) => Math.max(1, Math.floor((total * w) / sum)))
  parts[0] += total - parts.reduce((a, b) => a + b, 0)
  return parts
}

/** The files of the tree for `size`: names, kinds, exact sizes and content seeds. */
export function planTree(size: Size): PlannedFile[] {
  const spec = TREES[size]
  if (spec === undefined) throw new Error(`unknown size '${String(size)}'; expected one of ${Object.keys(TREES).join(', ')}`)
  const rng = createRng(SEEDS[size])
  const textBytes = Math.round(spec.bytes * TEXT_SHARE)
  const textSizes = splitBytes(textBytes, spec.textFiles, rng)
  const binarySizes = splitBytes(spec.bytes - textBytes, spec.binaryFiles, rng)
  const files: PlannedFile[] = []
  const place = (places: typeof TEXT_PLACES, i: number): string => {
    const [dir, stem, ext] = places[i % places.length]
    const round = Math.floor(i / places.length)
    const name = round === 0 ? `${stem}.${ext}` : `${stem}-${round}.${ext}`
    return dir === '' ? name : `${dir}/${name}`
  }
  textSizes.forEach((bytes, i) => files.push({ path: place(TEXT_PLACES, i), kind: 'text', bytes, seed: Math.floor(rng() * 2 ** 31) }))
  binarySizes.forEach((bytes, i) => files.push({ path: place(BINARY_PLACES, i), kind: 'binary', bytes, seed: Math.floor(rng() * 2 ** 31) }))
  return files
}

const WORDS = (
  'serverless function benchmark latency throughput cold warm start container memory storage bucket object ' +
  'invocation runtime provider cloud compute cost billing scaling concurrency elastic platform evaluation ' +
  'measurement experiment distribution median percentile variance workload application performance ' +
  'the of and a to in is for that with as on by this we are be from an it at which our can not'
).split(' ')
const COMMANDS = ['\\emph', '\\textbf', '\\texttt', '\\cite', '\\ref', '\\label']

/** LaTeX-like text, exactly `bytes` long (ASCII only, so bytes = characters). */
export function latexText(bytes: number, seed: number): string {
  const rng = createRng(seed)
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rng() * list.length)]
  const words = (count: number): string => {
    const out: string[] = []
    for (let i = 0; i < count; i++) {
      const roll = rng()
      if (roll < 0.04) out.push(`${pick(COMMANDS)}{${pick(WORDS)}}`)
      else if (roll < 0.06) out.push(`$x_{${Math.floor(rng() * 100)}}$`)
      else out.push(pick(WORDS))
    }
    return out.join(' ')
  }
  const parts: string[] = ['% Generated for 311.compression (seeded, deterministic)\n\\documentclass[sigconf]{acmart}\n\n']
  let length = parts[0].length
  let section = 0
  while (length < bytes) {
    const roll = rng()
    let chunk: string
    if (roll < 0.1) {
      chunk = `\\section{${words(2 + Math.floor(rng() * 4))}}\n\\label{sec:${++section}}\n\n`
    } else if (roll < 0.15) {
      const items = Array.from({ length: 2 + Math.floor(rng() * 4) }, () => `  \\item ${words(5 + Math.floor(rng() * 10))}.\n`)
      chunk = `\\begin{itemize}\n${items.join('')}\\end{itemize}\n\n`
    } else {
      const sentences = Array.from({ length: 3 + Math.floor(rng() * 6) }, () => `${words(6 + Math.floor(rng() * 15))}.`)
      // Wrap at about 72 columns like hand-written LaTeX.
      const lines: string[] = []
      let line = ''
      for (const word of sentences.join(' ').split(' ')) {
        if (line.length + word.length + 1 > 72 && line !== '') {
          lines.push(line)
          line = word
        } else line = line === '' ? word : `${line} ${word}`
      }
      lines.push(line)
      chunk = `${lines.join('\n')}\n\n`
    }
    parts.push(chunk)
    length += chunk.length
  }
  return parts.join('').slice(0, bytes)
}

async function writeTree(root: string, files: PlannedFile[]): Promise<void> {
  for (const file of files) {
    const path = join(root, ...file.path.split('/'))
    await mkdir(dirname(path), { recursive: true })
    if (file.kind === 'text') {
      await writeFile(path, latexText(file.bytes, file.seed))
    } else {
      await writeFile(path, seededBytes(file.seed, file.bytes))
    }
  }
}

/**
 * Generates the tree for `size` under `dataDir` unless it is there already
 * (written to a temporary directory and renamed, so a partial tree is never
 * taken for a complete one). Returns its path and whether it was generated now.
 */
export async function ensureTree(dataDir: string, size: Size): Promise<{ root: string; files: PlannedFile[]; generated: boolean }> {
  const files = planTree(size)
  const root = join(dataDir, treeName(size))
  const generated = await ensureFile(root, (tmp) => writeTree(tmp, files))
  return { root, files, generated }
}

export function bucketsCount(): [number, number] {
  return [1, 1]
}

export async function generateInput(ctx: GenerateInputContext): Promise<Record<string, unknown>> {
  const { root, files } = await ensureTree(ctx.dataDir, ctx.size)
  const name = treeName(ctx.size)
  for (const file of files) await ctx.upload(0, `${name}/${file.path}`, join(root, ...file.path.split('/')))
  return {
    object: { key: name },
    bucket: { bucket: ctx.bucket, input: ctx.inputPrefixes[0], output: ctx.outputPrefixes[0] },
  }
}

interface ZipEntry {
  fileName: string
  compressionMethod: number
  compressedSize: number
  uncompressedSize: number
  /** CRC-32 of the data as actually inflated (not the one the archive claims). */
  dataCrc: number
}

/** Reads every entry of a zip archive and inflates its data. */
export function readZip(archive: Buffer): Promise<ZipEntry[]> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(archive, { lazyEntries: true, validateEntrySizes: true }, (openError, zip) => {
      if (openError || !zip) {
        reject(openError ?? new Error('yauzl returned no archive'))
        return
      }
      const entries: ZipEntry[] = []
      zip.on('error', reject)
      zip.on('end', () => resolve(entries))
      zip.on('entry', (entry: yauzl.Entry) => {
        if (entry.fileName.endsWith('/')) {
          entries.push({ ...pickEntry(entry), dataCrc: 0 })
          zip.readEntry()
          return
        }
        zip.openReadStream(entry, (streamError, stream) => {
          if (streamError || !stream) {
            reject(streamError ?? new Error(`cannot read ${entry.fileName}`))
            return
          }
          let crc = 0
          stream.on('data', (chunk: Buffer) => {
            crc = crc32(chunk, crc)
          })
          stream.on('error', reject)
          stream.on('end', () => {
            entries.push({ ...pickEntry(entry), dataCrc: crc })
            zip.readEntry()
          })
        })
      })
      zip.readEntry()
    })
  })
}

function pickEntry(entry: yauzl.Entry): Omit<ZipEntry, 'dataCrc'> {
  const { fileName, compressionMethod, compressedSize, uncompressedSize } = entry
  return { fileName, compressionMethod, compressedSize, uncompressedSize }
}

async function fileCrc(path: string): Promise<number> {
  let crc = 0
  for await (const chunk of createReadStream(path)) crc = crc32(chunk as Buffer, crc)
  return crc
}

const DEFLATE = 8

function listSome(names: string[]): string {
  return names.length <= 5 ? names.join(', ') : `${names.slice(0, 5).join(', ')} and ${names.length - 5} more`
}

export async function validateOutput(ctx: ValidateOutputContext): Promise<string | undefined> {
  const out = ctx.output as { bucket?: unknown; key?: unknown } | null
  if (typeof out !== 'object' || out === null || typeof out.bucket !== 'string' || typeof out.key !== 'string') {
    return `expected {bucket, key} of the uploaded archive, got ${JSON.stringify(out)}`
  }
  const event = ctx.input as { object?: { key?: string }; bucket?: { output?: string } }
  const name = event.object?.key ?? treeName(ctx.size)
  const outputPrefix = event.bucket?.output
  if (outputPrefix !== undefined && !out.key.startsWith(`${outputPrefix}/`)) {
    return `the archive was uploaded as ${out.key}, outside the output prefix ${outputPrefix}/`
  }
  if (!out.key.endsWith('.zip') || !out.key.includes(name)) return `the archive key ${out.key} should be ${name}[.<id>].zip`
  if (!ctx.download) return 'cannot validate 311.compression without storage access (ctx.download) to read the archive back'
  let entries: ZipEntry[]
  try {
    entries = await readZip(await ctx.download(out.bucket, out.key))
  } catch (err) {
    return `${out.key} is not a readable zip archive: ${(err as Error).message}`
  }

  const { root, files } = await ensureTree(ctx.dataDir, ctx.size)
  const expected = new Map(files.map((f) => [`${name}/${f.path}`, f]))
  const found = new Map(entries.filter((e) => !e.fileName.endsWith('/')).map((e) => [e.fileName.replace(/^\.\//, ''), e]))
  const missing = [...expected.keys()].filter((path) => !found.has(path))
  const extra = [...found.keys()].filter((path) => !expected.has(path))
  if (missing.length > 0 || extra.length > 0) {
    return [
      `the archive's files differ from the ${expected.size} generated ones`,
      missing.length > 0 ? `missing: ${listSome(missing)}` : '',
      extra.length > 0 ? `unexpected: ${listSome(extra)}` : '',
    ]
      .filter(Boolean)
      .join('; ')
  }
  let compressed = 0
  for (const [path, file] of expected) {
    const entry = found.get(path)!
    if (entry.compressionMethod !== DEFLATE) return `${path} is stored with compression method ${entry.compressionMethod}, expected deflate (8)`
    if (entry.uncompressedSize !== file.bytes) return `${path} holds ${entry.uncompressedSize} bytes, expected ${file.bytes}`
    const crc = await fileCrc(join(root, ...file.path.split('/')))
    if (entry.dataCrc !== crc) return `${path}: the archived content differs from the generated file (CRC-32 mismatch)`
    compressed += entry.compressedSize
  }
  const total = files.reduce((sum, f) => sum + f.bytes, 0)
  // Text is about 70% of the bytes and compresses well; random bytes do not.
  if (compressed > 0.8 * total) return `the archive's data is ${compressed} bytes for ${total} input bytes: barely compressed`
  return undefined
}

