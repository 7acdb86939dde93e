import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { BenchmarkError } from '../core/errors.ts'
import { discoverBenchmarks, discoverFolder, loadBenchmark } from './discovery.ts'

function makeBench(root: string, group: string, id: string, config: unknown, langs: Record<string, string> = { python: 'function.py', nodejs: 'function.js' }, input = 'input.ts') {
  const dir = join(root, group, id)
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'config.json'), typeof config === 'string' ? config : JSON.stringify(config))
  for (const [lang, file] of Object.entries(langs)) {
    mkdirSync(join(dir, lang), { recursive: true })
    writeFileSync(join(dir, lang, file), '')
  }
  if (input) writeFileSync(join(dir, input), '')
  return dir
}

const good = { timeout: 10, memory: 128, languages: ['python', 'nodejs'] }

describe('discovery', () => {
  it('finds and normalises benchmarks, sorted by id', () => {
    const root = mkdtempSync(join(tmpdir(), 'sebs-disc-'))
    makeBench(root, '100.webapps', '120.b', good)
    makeBench(root, '100.webapps', '110.a', { ...good, modules: ['storage'] })
    const { benchmarks } = discoverBenchmarks({ builtin: false, extra: [root] })
    expect(benchmarks.map((b) => b.id)).toEqual(['110.a', '120.b'])
    expect(benchmarks[0]!.config).toEqual({ timeout: 10, memory: 128, languages: ['python', 'nodejs'], variants: {}, modules: ['storage'] })
    expect(benchmarks[0]!.group).toBe('100.webapps')
    expect(benchmarks[0]!.input.kind).toBe('ts')
  })

  it('accepts SeBS language objects and skips java/cpp with a notice', () => {
    const root = mkdtempSync(join(tmpdir(), 'sebs-disc-'))
    makeBench(root, '000.micro', '010.sleep', { timeout: 1, memory: 128, languages: [{ language: 'python', variants: ['default', 'pypy'] }, 'java', 'cpp'] }, { python: 'function.py' }, 'input.py')
    const { benchmarks, notices } = discoverBenchmarks({ builtin: false, extra: [root] })
    expect(benchmarks[0]!.config.languages).toEqual(['python'])
    expect(benchmarks[0]!.config.variants).toEqual({ python: ['default', 'pypy'] })
    expect(benchmarks[0]!.input.kind).toBe('py')
    expect(notices.filter((n) => /language '(java|cpp)' is not run/.test(n))).toHaveLength(2)
  })

  it('names the file and the field of a bad config.json', () => {
    const root = mkdtempSync(join(tmpdir(), 'sebs-disc-'))
    const dir = makeBench(root, '100.webapps', '110.a', { timeout: -1, memory: 128, languages: ['python'] }, { python: 'function.py' })
    expect(() => discoverFolder(root, [])).toThrow(BenchmarkError)
    expect(() => discoverFolder(root, [])).toThrow(`${join(dir, 'config.json')}: field 'timeout'`)
  })

  it('rejects malformed JSON with the path', () => {
    const root = mkdtempSync(join(tmpdir(), 'sebs-disc-'))
    const dir = makeBench(root, '100.webapps', '110.a', '{ "timeout": 1,', { python: 'function.py' })
    expect(() => discoverFolder(root, [])).toThrow(new RegExp(`${join(dir, 'config.json').replace(/[.]/g, '\\.')}: not valid JSON`))
  })

  it('rejects unknown languages and missing handlers', () => {
    const a = mkdtempSync(join(tmpdir(), 'sebs-disc-'))
    makeBench(a, '100.webapps', '110.a', { ...good, languages: ['rust'] }, {})
    expect(() => discoverFolder(a, [])).toThrow(/field 'languages': unknown language 'rust'/)
    const b = mkdtempSync(join(tmpdir(), 'sebs-disc-'))
    makeBench(b, '100.webapps', '110.a', good, { python: 'function.py' })
    expect(() => discoverFolder(b, [])).toThrow(/lists 'nodejs' but .*nodejs\/function\.js is missing/)
  })

  it('rejects a missing input generator, bad names and duplicates within a folder', () => {
    const a = mkdtempSync(join(tmpdir(), 'sebs-disc-'))
    makeBench(a, '100.webapps', '110.a', good, undefined, '')
    expect(() => discoverFolder(a, [])).toThrow(/no input generator/)
    const b = mkdtempSync(join(tmpdir(), 'sebs-disc-'))
    makeBench(b, '100.webapps', '110.Bad_Name', good)
    expect(() => discoverFolder(b, [])).toThrow(/must look like 'NNN.name'/)
    const c = mkdtempSync(join(tmpdir(), 'sebs-disc-'))
    makeBench(c, '100.webapps', '110.a', good)
    makeBench(c, '200.other', '110.a', good)
    try {
      discoverFolder(c, [])
      expect.unreachable()
    } catch (err) {
      expect((err as BenchmarkError).code).toBe('BENCHMARK_DUPLICATE')
    }
  })

  it('lets an extra folder shadow a built-in benchmark, with a notice', () => {
    const builtin = mkdtempSync(join(tmpdir(), 'sebs-disc-'))
    const extra = mkdtempSync(join(tmpdir(), 'sebs-disc-'))
    makeBench(builtin, '100.webapps', '110.a', good)
    const mine = makeBench(extra, '100.webapps', '110.a', { ...good, memory: 512 })
    const { benchmarks, notices } = discoverBenchmarks({ builtin: true, builtinDir: builtin, extra: [extra] })
    expect(benchmarks).toHaveLength(1)
    expect(benchmarks[0]!.dir).toBe(mine)
    expect(benchmarks[0]!.config.memory).toBe(512)
    expect(notices.some((n) => n.includes('shadows'))).toBe(true)
  })

  it('a missing extra folder is an error naming it', () => {
    expect(() => discoverBenchmarks({ builtin: false, extra: ['/nonexistent/benchmarks'] })).toThrow(/\/nonexistent\/benchmarks: benchmarks folder does not exist/)
  })

  it('loadBenchmark validates a single directory', () => {
    const root = mkdtempSync(join(tmpdir(), 'sebs-disc-'))
    const dir = makeBench(root, '500.scientific', '501.graph-pagerank', { ...good, languages: ['python'] }, { python: 'function.py' })
    expect(loadBenchmark(dir, root).id).toBe('501.graph-pagerank')
  })
})
