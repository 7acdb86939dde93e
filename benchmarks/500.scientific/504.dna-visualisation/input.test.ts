import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ValidateOutputContext } from '../../../core/benchmark-input.ts'
import { createInputContext, hashDir, makeTempDir, snapshotDir } from '../../_lib/testing/run-function.ts'
import { bucketsCount, fastaFileName, generateFasta, generateInput, SEQUENCE_LENGTH, squiggleY, validateOutput } from './input.ts'

const BENCH = '504.dna-visualisation'
let root: string

beforeAll(async () => {
  root = await makeTempDir('504-input')
})
afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})

describe('504 squiggle transform (validator side)', () => {
  it('follows the rule on a hand-worked example', () => {
    // r: 0 -A-> 0 -C-> 0 -G-> 1 -T-> 0 -N-> 0
    expect(Array.from(squiggleY(Buffer.from('ACGTN')))).toEqual([0, 0.5, 0, -0.5, 0, 0.5, 1, 0.5, 0, 0, 0])
  })
})

describe('504 generateInput', () => {
  it('declares one input and one output prefix', () => {
    expect(bucketsCount()).toEqual([1, 1])
  })

  it('writes a FASTA file once and reuses it; the event names it', async () => {
    const dataDir = join(root, 'cache')
    const ctx = createInputContext({ benchmark: BENCH, size: 'test', dataDir, counts: bucketsCount() })
    const event = await generateInput(ctx)
    expect(event).toEqual({
      object: { key: fastaFileName('test') },
      bucket: { bucket: ctx.bucket, input: `${BENCH}-0-input`, output: `${BENCH}-0-output` },
    })
    expect(ctx.uploads).toEqual([{ prefixIndex: 0, key: fastaFileName('test'), filePath: join(dataDir, fastaFileName('test')) }])
    const before = await snapshotDir(dataDir)
    const again = createInputContext({ benchmark: BENCH, size: 'test', dataDir, counts: bucketsCount() })
    expect(await generateInput(again)).toEqual(event)
    expect(await snapshotDir(dataDir)).toEqual(before)
    expect(again.uploads).toEqual(ctx.uploads)
  })

  it('is deterministic across data directories', async () => {
    const dirs = [join(root, 'det-a'), join(root, 'det-b')]
    for (const dataDir of dirs) {
      await generateInput(createInputContext({ benchmark: BENCH, size: 'small', dataDir, counts: [1, 1] }))
    }
    const [a, b] = await Promise.all(dirs.map(hashDir))
    expect(Object.keys(a)).toEqual([fastaFileName('small')])
    expect(a).toEqual(b)
  })

  it('grows with the size and is a well-formed FASTA with a few N', () => {
    let previous = 0
    for (const size of ['test', 'small', 'large'] as const) {
      const text = generateFasta(size).toString('latin1')
      const [header, ...lines] = text.split('\n')
      expect(header.startsWith('>')).toBe(true)
      expect(lines.pop()).toBe('') // ends with a newline
      const seq = lines.join('')
      expect(seq.length).toBe(SEQUENCE_LENGTH[size])
      expect(lines.every((line) => line.length <= 80)).toBe(true)
      expect(lines.slice(0, -1).every((line) => line.length === 80)).toBe(true)
      expect(/^[ACGTN]+$/.test(seq)).toBe(true)
      const ns = seq.split('').filter((c) => c === 'N').length
      expect(ns).toBeGreaterThan(0)
      expect(ns).toBeLessThan(seq.length / 1000)
      expect(seq.length).toBeGreaterThan(previous * 4)
      previous = seq.length
    }
    expect(SEQUENCE_LENGTH.large).toBe(4_215_606)
  })
})

describe('504 validateOutput', () => {
  let dataDir: string
  let event: Record<string, unknown>
  let text: Buffer
  const objects = new Map<string, Buffer>()
  const ctxFor = (output: unknown): ValidateOutputContext => ({
    dataDir,
    size: 'test',
    language: 'python',
    input: event,
    output,
    download: async (bucket, key) => {
      const body = objects.get(`${bucket}/${key}`)
      if (!body) throw new Error(`no such object ${bucket}/${key}`)
      return body
    },
  })
  const jsonOf = (x: number[], y: number[]): Buffer => Buffer.from(JSON.stringify([x, y]))
  const KEY = `${BENCH}-0-output/bacillus-synthetic-test.1234abcd.json`

  beforeAll(async () => {
    dataDir = join(root, 'validate')
    event = await generateInput(createInputContext({ benchmark: BENCH, size: 'test', dataDir, counts: [1, 1] }))
    text = await readFile(join(dataDir, fastaFileName('test')))
  })

  const rightArrays = (): [number[], number[]] => {
    const y = Array.from(squiggleY(text))
    return [y.map((_, k) => k / 2), y]
  }

  it('accepts the right curve, whatever the number formatting', async () => {
    const [x, y] = rightArrays()
    objects.set(`b/${KEY}`, jsonOf(x, y))
    expect(await validateOutput(ctxFor({ bucket: 'b', key: KEY }))).toBeUndefined()
    // Python writes 0.0 for x and ", " separators: the same numbers.
    const pythonStyle = `[[${x.map((v) => (Number.isInteger(v) ? v.toFixed(1) : String(v))).join(', ')}], [${y.join(', ')}]]`
    objects.set(`b/${KEY}`, Buffer.from(pythonStyle))
    expect(await validateOutput(ctxFor({ bucket: 'b', key: KEY }))).toBeUndefined()
  })

  it('rejects a changed y value, naming the index and the checksums', async () => {
    const [x, y] = rightArrays()
    y[1000] += 0.5
    objects.set(`b/${KEY}`, jsonOf(x, y))
    const message = await validateOutput(ctxFor({ bucket: 'b', key: KEY }))
    expect(message).toMatch(/^y\[1000\] is .* expected .*; expected y: length \d+, sum .*; got y: /)
  })

  it('rejects wrong lengths, wrong x, non-JSON, bad shapes and bad results', async () => {
    const [x, y] = rightArrays()
    objects.set(`b/${KEY}`, jsonOf(x.slice(1), y.slice(1)))
    expect(await validateOutput(ctxFor({ bucket: 'b', key: KEY }))).toMatch(/expected \d+ points .* got x \d+ and y \d+/)
    const x2 = [...x]
    x2[7] = 99
    objects.set(`b/${KEY}`, jsonOf(x2, y))
    expect(await validateOutput(ctxFor({ bucket: 'b', key: KEY }))).toMatch(/^x\[7\] is 99, expected 3.5/)
    objects.set(`b/${KEY}`, Buffer.from('[[0, 0.5'))
    expect(await validateOutput(ctxFor({ bucket: 'b', key: KEY }))).toMatch(/not valid JSON/)
    objects.set(`b/${KEY}`, Buffer.from('{"x": []}'))
    expect(await validateOutput(ctxFor({ bucket: 'b', key: KEY }))).toMatch(/not \[x, y\]/)
    expect(await validateOutput(ctxFor({ bucket: 'b' }))).toMatch(/expected result \{bucket, key\}/)
    expect(await validateOutput(ctxFor({ bucket: 'b', key: 'elsewhere/x.json' }))).toMatch(/not under the output prefix/)
    expect(await validateOutput(ctxFor({ bucket: 'b', key: `${BENCH}-0-output/missing.json` }))).toMatch(/could not download .*no such object/)
  })

  it('needs storage access', async () => {
    const ctx = { ...ctxFor({ bucket: 'b', key: KEY }), download: undefined }
    expect(await validateOutput(ctx)).toMatch(/needs storage access/)
  })

  it('recomputes from the data file, so a different input fails', async () => {
    const other = join(root, 'validate-other')
    await mkdir(other, { recursive: true })
    const changed = Buffer.from(text)
    changed[changed.indexOf(0x0a) + 1] = changed[changed.indexOf(0x0a) + 1] === 0x41 ? 0x43 : 0x41
    await writeFile(join(other, fastaFileName('test')), changed)
    const [x, y] = rightArrays()
    objects.set(`b/${KEY}`, jsonOf(x, y))
    expect(await validateOutput({ ...ctxFor({ bucket: 'b', key: KEY }), dataDir: other })).toMatch(/^y\[\d+\] is/)
  })
})
