/**
 * The fixture benchmarks the conformance suite deploys
 * (`test/fixtures/benchmarks/900.fixtures/`), loaded into
 * BenchmarkDefinitions without the plugin's discovery (providers do not
 * import the plugin).
 */
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { BenchmarkError } from '../../../core/errors.ts'
import { LANGUAGES, type BenchmarkDefinition, type Language } from '../../../core/types.ts'

export const FIXTURE_BENCHMARKS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'benchmarks')

const FIXTURE_GROUP = '900.fixtures'

/** Loads a fixture benchmark (`901.echo`, `902.storage-echo`, …) by id. */
export async function loadFixtureBenchmark(id: string): Promise<BenchmarkDefinition> {
  const dir = join(FIXTURE_BENCHMARKS_DIR, FIXTURE_GROUP, id)
  const configPath = join(dir, 'config.json')
  if (!existsSync(configPath)) {
    throw new BenchmarkError('BENCHMARK_NOT_FOUND', dir, `no fixture benchmark '${id}' (config.json missing)`)
  }
  const raw = JSON.parse(await readFile(configPath, 'utf8')) as {
    timeout: number
    memory: number
    languages: string[]
    modules?: Array<'storage' | 'nosql'>
    shared?: Partial<Record<Language, string[]>>
  }
  return {
    id,
    group: FIXTURE_GROUP,
    dir,
    config: {
      timeout: raw.timeout,
      memory: raw.memory,
      languages: raw.languages.filter((l): l is Language => (LANGUAGES as readonly string[]).includes(l)),
      variants: {},
      modules: raw.modules ?? [],
      // Our own fixtures, so without discovery's checks: relative to the benchmark, as discovery resolves them.
      shared: Object.fromEntries(Object.entries(raw.shared ?? {}).map(([language, dirs]) => [language, dirs.map((d) => resolve(dir, d))])),
    },
    input: { kind: 'ts', path: join(dir, 'input.ts') },
    source: FIXTURE_BENCHMARKS_DIR,
  }
}
