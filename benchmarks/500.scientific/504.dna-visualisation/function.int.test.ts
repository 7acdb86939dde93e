/**
 * Runs 504's Python and Node.js functions for real (child python3 / node, a
 * filesystem stand-in for storage) on the generated test input, validates
 * their uploads with validateOutput, and checks that both languages produce
 * the same numbers.
 */
import { rm, stat } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createFsStorage,
  createInputContext,
  makeTempDir,
  runFunction,
  type FsStorage,
  type FunctionLanguage,
} from '../../_lib/testing/run-function.ts'
import { bucketsCount, fastaFileName, generateInput, validateOutput } from './input.ts'

const BENCH_DIR = dirname(fileURLToPath(import.meta.url))
const BENCH = '504.dna-visualisation'

let root: string
let storage: FsStorage
let dataDir: string
let event: Record<string, unknown>
const outputs: Partial<Record<FunctionLanguage, { result: { bucket: string; key: string }; measurement: Record<string, number> }>> = {}

beforeAll(async () => {
  root = await makeTempDir('504-fn')
  storage = createFsStorage(join(root, 'storage'))
  dataDir = join(root, 'data')
  event = await generateInput(createInputContext({ benchmark: BENCH, size: 'test', dataDir, storage, counts: bucketsCount() }))
})
afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})

describe.each(['python', 'nodejs'] as const)('504.dna-visualisation %s function', (language) => {
  it('uploads the squiggle JSON, which validateOutput accepts', async () => {
    const run = await runFunction({ benchmarkDir: BENCH_DIR, language, event, storage })
    const { result, measurement } = run.output as (typeof outputs)['python'] & object
    outputs[language] = { result, measurement }
    expect(result.bucket).toBe('sebs-benchmarks-test')
    expect(result.key).toMatch(new RegExp(`^${BENCH}-0-output/bacillus-synthetic-test\\.[0-9a-f]{8}\\.json$`))
    const fastaSize = (await stat(join(dataDir, fastaFileName('test')))).size
    const uploaded = (await stat(storage.path(result.bucket, result.key))).size
    expect(measurement).toMatchObject({ download_size: fastaSize, upload_size: uploaded })
    for (const name of ['download_time', 'compute_time', 'upload_time']) {
      expect(Number.isInteger(measurement[name]) && measurement[name] > 0, `${name} = ${measurement[name]}`).toBe(true)
    }
    expect(run.tmpLeftovers).toEqual([])
    expect(await validateOutput({ dataDir, size: 'test', language, input: event, output: result, download: storage.get })).toBeUndefined()
  })
})

describe('504.dna-visualisation across languages', () => {
  it('Python and Node.js upload numerically identical curves', async () => {
    const { python, nodejs } = outputs
    if (!python || !nodejs) throw new Error('both language runs must pass first')
    const parse = async (key: string): Promise<[number[], number[]]> =>
      JSON.parse((await storage.get(python.result.bucket, key)).toString('utf8')) as [number[], number[]]
    const [px, py] = await parse(python.result.key)
    const [nx, ny] = await parse(nodejs.result.key)
    expect(px.length).toBeGreaterThan(100_000)
    // Element by element (not toEqual on 100k-element arrays, whose diff would be unreadable).
    const firstDiff = (a: number[], b: number[]): number => {
      if (a.length !== b.length) return Math.min(a.length, b.length)
      for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i
      return -1
    }
    expect(firstDiff(px, nx)).toBe(-1)
    expect(firstDiff(py, ny)).toBe(-1)
    // The texts differ only in formatting (Python writes "0.0" and ", ").
    const pythonText = (await storage.get(python.result.bucket, python.result.key)).toString('utf8')
    expect(pythonText.startsWith('[[0.0, 0.5, 1.0')).toBe(true)
  })
})
