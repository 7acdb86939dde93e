/**
 * Cold start of a container instance versus a process instance, for the same
 * function, measured in one run (the two are interleaved so that both see
 * the same machine load), reported as a ratio.
 *
 *   node bin/run-ts.mjs scripts/perf-docker.ts [--language python|nodejs] [--repetitions N] [--memory MB] [--json]
 *
 * Needs a Docker engine (scripts/docker-setup.sh) and the offline base images
 * (`npx sebs docker base`, built here if missing). Exit code 1 when either is
 * not available or an invocation fails.
 */
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { errorMessage } from '../core/errors.ts'
import { createLogger } from '../core/logger.ts'
import { LANGUAGES, type Language } from '../core/types.ts'
import { loadFixtureBenchmark } from '../test/support/conformance/fixtures.ts'
import { buildBaseImage } from '../providers/docker/base-image.ts'
import { dockerAvailable } from '../providers/docker/client.ts'
import { LocalProvider } from '../providers/local/local-provider.ts'
import type { DeployedFunction, InvokeResult } from '../providers/types.ts'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')

const { values } = parseArgs({
  options: {
    language: { type: 'string', multiple: true },
    repetitions: { type: 'string', default: '7' },
    memory: { type: 'string', default: '256' },
    json: { type: 'boolean', default: false },
  },
})
const repetitions = Number(values.repetitions)
const memory = Number(values.memory)
const languages = (values.language ?? [...LANGUAGES]) as Language[]
if (!(repetitions >= 1) || !(memory > 0) || languages.some((l) => !(LANGUAGES as readonly string[]).includes(l))) {
  process.stderr.write('usage: perf-docker.ts [--language python|nodejs] [--repetitions N>=1] [--memory MB] [--json]\n')
  process.exit(2)
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

function expectOk(result: InvokeResult, what: string): Extract<InvokeResult, { state: 'ok' }> {
  if (result.state !== 'ok') throw new Error(`${what}: ${result.state}: ${result.error}`)
  return result
}

interface Sample {
  clientMs: number
  initMs: number
}

async function coldStart(fn: DeployedFunction, what: string): Promise<Sample> {
  await fn.forceColdStart()
  const result = expectOk(await fn.invoke({ message: 'cold' }), what)
  if (!result.envelope.isCold) throw new Error(`${what}: expected a cold start`)
  return { clientMs: result.clientTimeUs / 1000, initMs: (result.initTimeUs ?? 0) / 1000 }
}

async function main(): Promise<number> {
  const available = await dockerAvailable()
  if (!available.ok) {
    process.stderr.write(`perf-docker: ${available.reason}\n`)
    return 1
  }
  const logger = createLogger('sebs', { quiet: true })
  const runId = `perf-docker-${randomBytes(3).toString('hex')}`
  const stateDir = await mkdtemp(join(tmpdir(), 'sebs-perf-docker-'))
  const buildContext = { cacheDir: join(ROOT, '.sebs-cache', 'perf'), logger, runtimes: { python: 'python3', node: process.execPath } }
  const runtimes = {
    process: new LocalProvider({ runId, cacheDir: stateDir, logger, options: { runtime: 'process' } }),
    container: new LocalProvider({ runId, cacheDir: stateDir, logger, options: { runtime: 'docker' } }),
  }
  const rows: Array<Record<string, number | string>> = []
  try {
    const benchmark = await loadFixtureBenchmark('901.echo')
    for (const language of languages) {
      await buildBaseImage({ language, logger })
      const pkg = await runtimes.process.package({ benchmark, language, arch: process.arch === 'arm64' ? 'arm64' : 'x64' }, buildContext)
      const deploy = { runId, memory, timeout: 30, trigger: 'http' as const, env: {} }
      const fns = { process: await runtimes.process.deploy(pkg, deploy), container: await runtimes.container.deploy(pkg, deploy) }
      // One untimed start each: page cache and image layers warm for both.
      await coldStart(fns.process, `${language} process warm-up`)
      await coldStart(fns.container, `${language} container warm-up`)
      const samples: Record<'process' | 'container', Sample[]> = { process: [], container: [] }
      for (let i = 0; i < repetitions; i++) {
        // Alternate the order so neither runtime always goes first.
        const order = i % 2 === 0 ? (['process', 'container'] as const) : (['container', 'process'] as const)
        for (const kind of order) samples[kind].push(await coldStart(fns[kind], `${language} ${kind} #${i}`))
      }
      // Warm calls for scale (sequential: concurrent calls would start more instances).
      const warm = { process: [] as number[], container: [] as number[] }
      for (let i = 0; i < 5; i++) {
        for (const kind of ['process', 'container'] as const) warm[kind].push(expectOk(await fns[kind].invoke({}), `${language} ${kind} warm`).clientTimeUs / 1000)
      }
      const processCold = median(samples.process.map((s) => s.clientMs))
      const containerCold = median(samples.container.map((s) => s.clientMs))
      rows.push({
        language,
        repetitions,
        memoryMb: memory,
        processColdMs: round(processCold),
        containerColdMs: round(containerCold),
        processInitMs: round(median(samples.process.map((s) => s.initMs))),
        containerInitMs: round(median(samples.container.map((s) => s.initMs))),
        coldRatio: round(containerCold / processCold, 2),
        processWarmMs: round(median(warm.process), 2),
        containerWarmMs: round(median(warm.container), 2),
      })
      await fns.process.delete()
      await fns.container.delete()
    }
  } catch (err) {
    process.stderr.write(`perf-docker: ${errorMessage(err)}\n`)
    return 1
  } finally {
    await runtimes.process.close()
    await runtimes.container.close()
    await runtimes.container.sweep({ runId, dryRun: false })
    await rm(stateDir, { recursive: true, force: true })
  }

  if (values.json) {
    process.stdout.write(JSON.stringify(rows, null, 2) + '\n')
  } else {
    process.stdout.write(`cold start of 901.echo, container vs process (median of ${repetitions}, ${memory} MB, interleaved in one run)\n`)
    process.stdout.write('language  process cold  container cold  ratio  (init: process / container; warm: process / container)\n')
    for (const r of rows) {
      process.stdout.write(
        `${String(r.language).padEnd(9)} ${`${r.processColdMs} ms`.padStart(12)}  ${`${r.containerColdMs} ms`.padStart(14)}  ${`${r.coldRatio}x`.padStart(5)}` +
          `  (init ${r.processInitMs} / ${r.containerInitMs} ms; warm ${r.processWarmMs} / ${r.containerWarmMs} ms)\n`,
      )
    }
  }
  return 0
}

function round(value: number, digits = 1): number {
  const f = 10 ** digits
  return Math.round(value * f) / f
}

process.exitCode = await main()
