/**
 * 501/502/503 take the generator from python/ and nodejs/ here through
 * config.json `shared`: their packages must carry it, and an edit here must
 * change exactly the package hashes of the benchmarks and language that use
 * it (so the cache rebuilds those, and only those). Runs on a copy of
 * 500.scientific with the real config.json files; the tree is not touched.
 */
import { appendFile, cp, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LANGUAGES, type BenchmarkDefinition, type Language } from '../../../core/types.ts'
import { discoverFolder } from '../../../engine/discovery.ts'
import { computePackageHash, functionSourceFiles } from '../../../providers/packaging/package-builder.ts'

const GROUP_DIR = dirname(dirname(fileURLToPath(import.meta.url)))
const GRAPH = ['501.graph-pagerank', '502.graph-mst', '503.graph-bfs']
const GENERATOR: Record<Language, string> = { python: 'graph_generator.py', nodejs: 'graph-generator.cjs' }

let root: string
let benchmarks: BenchmarkDefinition[]

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'sebs-graph-packaging-'))
  await cp(GROUP_DIR, join(root, '500.scientific'), { recursive: true })
  benchmarks = discoverFolder(root, [])
})
afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})

/** `<id> <language>` → package hash, for every benchmark of the group. */
function hashes(): Record<string, string> {
  const out: Record<string, string> = {}
  for (const benchmark of benchmarks) {
    for (const language of benchmark.config.languages) {
      out[`${benchmark.id} ${language}`] = computePackageHash({
        benchmark,
        language,
        provider: 'local',
        arch: 'x64',
        wrapperFiles: [],
        runtimeVersion: 'test',
      })
    }
  }
  return out
}

function changedKeys(before: Record<string, string>, after: Record<string, string>): string[] {
  expect(Object.keys(after)).toEqual(Object.keys(before))
  return Object.keys(before).filter((key) => before[key] !== after[key])
}

describe('the graph benchmarks share the generator through config.json', () => {
  it('discovers all four benchmarks of the group and nothing from _graph/', () => {
    expect(benchmarks.map((b) => b.id)).toEqual([...GRAPH, '504.dna-visualisation'])
  })

  it.each(GRAPH)('%s packages its own files and the generator from _graph/, for both languages', (id) => {
    const benchmark = benchmarks.find((b) => b.id === id)!
    for (const language of LANGUAGES) {
      const files = functionSourceFiles(benchmark, language)
      const generator = files.find((f) => f.rel === GENERATOR[language])
      expect(generator?.folder, `${id} ${language}`).toBe(join(root, '500.scientific', '_graph', language))
      expect(files.map((f) => f.rel)).toContain(language === 'python' ? 'function.py' : 'function.js')
      // The benchmark's own folder no longer holds a copy.
      expect(files.filter((f) => f.folder === join(benchmark.dir, language)).map((f) => f.rel)).not.toContain(GENERATOR[language])
    }
  })

  it('an edit of a shared file changes the hashes of exactly the packages that use it', async () => {
    const start = hashes()
    expect(hashes()).toEqual(start)

    await appendFile(join(root, '500.scientific', '_graph', 'python', 'graph_generator.py'), '# edited\n')
    const afterPython = hashes()
    expect(changedKeys(start, afterPython).sort()).toEqual(GRAPH.map((id) => `${id} python`))

    await appendFile(join(root, '500.scientific', '_graph', 'nodejs', 'graph-generator.cjs'), '// edited\n')
    expect(changedKeys(afterPython, hashes()).sort()).toEqual(GRAPH.map((id) => `${id} nodejs`))

    // The TypeScript side of _graph/ is not in any package.
    const before = hashes()
    await appendFile(join(root, '500.scientific', '_graph', 'generator.ts'), '// edited\n')
    expect(hashes()).toEqual(before)
  })
})
