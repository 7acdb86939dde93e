import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
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
    expect(benchmarks[0]!.config).toEqual({ timeout: 10, memory: 128, languages: ['python', 'nodejs'], variants: {}, modules: ['storage'], shared: {} })
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

  describe("config.json 'shared'", () => {
    /** A benchmarks folder with `100.webapps/_common/{python,nodejs}` and one benchmark declaring `shared`. */
    function withShared(shared: unknown, languages: unknown[] = ['python', 'nodejs']) {
      const root = mkdtempSync(join(tmpdir(), 'sebs-disc-'))
      for (const lang of ['python', 'nodejs']) mkdirSync(join(root, '100.webapps', '_common', lang), { recursive: true })
      const dir = makeBench(root, '100.webapps', '110.a', { ...good, languages, shared })
      return { root, dir, file: join(dir, 'config.json') }
    }
    const message = (fn: () => unknown): string => {
      try {
        fn()
      } catch (err) {
        expect(err).toBeInstanceOf(BenchmarkError)
        expect((err as BenchmarkError).code).toBe('BENCHMARK_CONFIG_INVALID')
        return (err as Error).message
      }
      return expect.unreachable('no error')
    }

    it('resolves the folders per language to absolute paths; the _-prefixed folder is no benchmark', () => {
      const { root } = withShared({ python: ['../_common/python'], nodejs: ['../_common/nodejs'] })
      const { benchmarks } = discoverBenchmarks({ builtin: false, extra: [root] })
      expect(benchmarks.map((b) => b.id)).toEqual(['110.a'])
      expect(benchmarks[0]!.config.shared).toEqual({
        python: [join(root, '100.webapps', '_common', 'python')],
        nodejs: [join(root, '100.webapps', '_common', 'nodejs')],
      })
      // Only one language may share, and a folder inside the benchmark is fine too.
      const one = withShared({ python: ['../_common/python'] })
      expect(discoverFolder(one.root, [])[0]!.config.shared).toEqual({ python: [join(one.root, '100.webapps', '_common', 'python')] })
      const own = withShared({ nodejs: ['python'] })
      expect(discoverFolder(own.root, [])[0]!.config.shared).toEqual({ nodejs: [join(own.dir, 'python')] })
    })

    it('refuses a folder that does not exist, naming the benchmark, the field and the fix', () => {
      const { root, file } = withShared({ python: ['../_common/python', '../_missing'] })
      const m = message(() => discoverFolder(root, []))
      expect(m).toContain(`${file}: field 'shared.python[1]': '../_missing' resolves to ${join(root, '100.webapps', '_missing')}, which is not a directory`)
      expect(m).toContain('fix the path (relative to')
      const notDir = withShared({ python: ['../110.a/config.json'] })
      expect(message(() => discoverFolder(notDir.root, []))).toMatch(/field 'shared\.python\[0\]'.*not a directory/)
    })

    it('refuses folders outside the benchmarks folder, also through a symlink, and absolute paths', () => {
      const outside = mkdtempSync(join(tmpdir(), 'sebs-disc-outside-'))
      const up = withShared({ python: [`../../../${basename(outside)}`] })
      // The path climbs out of the root (into tmpdir) to a real directory.
      expect(message(() => discoverFolder(up.root, []))).toMatch(/field 'shared\.python\[0\]'.*outside the benchmarks folder .*move the shared code inside it/)
      const link = withShared({ python: ['../_link'] })
      symlinkSync(outside, join(link.root, '100.webapps', '_link'))
      expect(message(() => discoverFolder(link.root, []))).toMatch(/outside the benchmarks folder/)
      const abs = withShared({ python: [outside] })
      expect(message(() => discoverFolder(abs.root, []))).toMatch(/field 'shared\.python\[0\]'.*is absolute; give the folder relative to the benchmark directory/)
    })

    it("refuses the benchmark directory, a folder above it, its own language folder, and a folder listed twice", () => {
      expect(message(() => discoverFolder(withShared({ python: ['.'] }).root, []))).toMatch(/is the benchmark directory or one above it/)
      expect(message(() => discoverFolder(withShared({ python: ['..'] }).root, []))).toMatch(/is the benchmark directory or one above it/)
      expect(message(() => discoverFolder(withShared({ python: ['python'] }).root, []))).toMatch(/field 'shared\.python\[0\]': 'python' is the benchmark's own python\/ folder/)
      const twice = withShared({ python: ['../_common/python', '../_common/python/'] })
      expect(message(() => discoverFolder(twice.root, []))).toMatch(/field 'shared\.python\[1\]'.*listed twice/)
    })

    it('refuses unknown languages and languages the benchmark does not run; skips java/cpp', () => {
      expect(message(() => discoverFolder(withShared({ rust: ['../_common/python'] }).root, []))).toMatch(/field 'shared\.rust': unknown language 'rust'; use 'python' or 'nodejs'/)
      const notRun = withShared({ nodejs: ['../_common/nodejs'] }, ['python'])
      expect(message(() => discoverFolder(notRun.root, []))).toMatch(/field 'shared\.nodejs': 'nodejs' is not in 'languages'; remove this entry or add the language/)
      const foreign = withShared({ java: ['../_nowhere'], python: ['../_common/python'] }, ['python', 'java'])
      expect(discoverFolder(foreign.root, [])[0]!.config.shared).toEqual({ python: [join(foreign.root, '100.webapps', '_common', 'python')] })
    })

    it('refuses a wrong shape with the expected shape in the message', () => {
      for (const bad of [['../_common/python'], { python: '../_common/python' }, { python: [] }, { python: [''] }]) {
        expect(message(() => discoverFolder(withShared(bad).root, []))).toMatch(/field 'shared.*Expected .*"shared"\?: \{ "python": \["\.\.\/_shared\/python"\]/)
      }
    })
  })
})
