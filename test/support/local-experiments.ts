/**
 * Test support: the experiment fixtures (test/fixtures/experiments) built
 * and deployed on a real local provider, and an ExperimentContext over one
 * of them. Packages are cached in `<repo>/.sebs-cache/test-experiments`;
 * instances and records live in a temp dir per test file.
 */
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createLogger } from '../../core/logger.ts'
import type { Language } from '../../core/types.ts'
import { discoverBenchmarks } from '../../engine/discovery.ts'
import { loadInputModule } from '../../engine/inputs.ts'
import { createLocalProvider } from '../../providers/local/local-provider.ts'
import type { LocalFunction } from '../../providers/local/local-function.ts'
import type { Provider } from '../../providers/types.ts'
import { CostBudget, ExperimentContext } from '../../suites/context.ts'

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const EXPERIMENT_FIXTURES = join(ROOT, 'test', 'fixtures', 'experiments')
const BUILD_CACHE = join(ROOT, '.sebs-cache', 'test-experiments')
const logger = createLogger('sebs', { quiet: true })

export interface LocalTestbed {
  provider: Provider
  stateDir: string
  runId: string
  recordsFile: string
  deploy(benchmark: string, language: Language, options?: { memory?: number; env?: Record<string, string> }): Promise<LocalFunction>
  context(fn: LocalFunction, options?: { experiment?: string; maxCost?: number; payload?: Record<string, unknown> }): Promise<ExperimentContext>
  close(): Promise<void>
}

export async function createLocalTestbed(providerOptions: Record<string, unknown> = {}): Promise<LocalTestbed> {
  const stateDir = await mkdtemp(join(tmpdir(), 'sebs-experiments-'))
  const runId = `exp-${randomBytes(4).toString('hex')}`
  const provider = createLocalProvider({ runId, cacheDir: stateDir, logger, options: providerOptions })
  const { benchmarks } = discoverBenchmarks({ builtin: false, extra: [EXPERIMENT_FIXTURES] })
  const recordsFile = join(stateDir, 'results', 'invocations.jsonl')
  const events = new Map<string, Record<string, unknown>>()
  return {
    provider,
    stateDir,
    runId,
    recordsFile,
    async deploy(id, language, options = {}) {
      const benchmark = benchmarks.find((b) => b.id === id)
      if (!benchmark) throw new Error(`fixture ${id} not found in ${EXPERIMENT_FIXTURES}`)
      const pkg = await provider.package(
        { benchmark, language, arch: process.arch === 'arm64' ? 'arm64' : 'x64' },
        { cacheDir: BUILD_CACHE, logger, runtimes: { python: 'python3', node: process.execPath } },
      )
      const input = await loadInputModule(benchmark, { python: 'python3' })
      events.set(id, await input.generateInput({ dataDir: stateDir, size: 'test', bucket: '', inputPrefixes: [], outputPrefixes: [], upload: async (_i, k) => k }))
      return (await provider.deploy(pkg, {
        runId,
        memory: options.memory ?? benchmark.config.memory,
        timeout: benchmark.config.timeout,
        trigger: 'http',
        env: options.env ?? {},
      })) as LocalFunction
    },
    async context(fn, options = {}) {
      const benchmark = benchmarks.find((b) => b.id === fn.handle.benchmark)!
      const input = await loadInputModule(benchmark, { python: 'python3' })
      return new ExperimentContext({
        fn,
        payload: options.payload ?? events.get(fn.handle.benchmark) ?? {},
        runId,
        recordsFile,
        experiment: options.experiment ?? 'test',
        benchmark: fn.handle.benchmark,
        language: fn.handle.language,
        size: 'test',
        provider: 'local',
        trigger: 'http',
        memory: fn.handle.memory,
        dataDir: stateDir,
        ...(input.validateOutput ? { validator: input.validateOutput } : {}),
        costModel: 'aws-x86_64',
        budget: new CostBudget(options.maxCost),
      })
    },
    async close() {
      await provider.close()
      await provider.sweep({ runId, dryRun: false })
      await rm(stateDir, { recursive: true, force: true })
    },
  }
}
