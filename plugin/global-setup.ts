/**
 * Vitest global setup (main process): build → storage → inputs → deploy →
 * `provide` to the workers; the returned teardown removes what the run
 * created (unless `--keep`). Works only on the cases the filters select.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { TestProject } from 'vitest/node'
import { ConfigError, SebsError, errorMessage, listChoices } from '../core/errors.ts'
import { providerOptions } from '../engine/settings.ts'
import { workerSettings } from '../engine/settings-schema.ts'
import { createLogger, formatDuration } from '../core/logger.ts'
import { HEARTBEAT_MS, startProgress } from '../core/progress.ts'
import { RECORDS_FILE } from '../core/records.ts'
import type { BenchmarkInputModule } from '../core/benchmark-input.ts'
import type { BenchmarkDefinition, Language, Size } from '../core/types.ts'
import { loadProvider } from '../providers/registry.ts'
import type { CodePackage, DeployedFunction, NoSqlStorage, ObjectStorage, Provider } from '../providers/types.ts'
import { startFileServer, type FileServer } from '../engine/file-server.ts'
import { benchmarkDataDir, loadInputModule, prepareBenchmarkInputs, setModuleImporter } from '../engine/inputs.ts'
import { enumerateCases, nothingSelectedError, selectCases } from '../engine/selection.ts'
import { experimentCaseParts } from '../suites/index.ts'
import { getRunState, type ProvidedCase, type SebsProvided } from '../engine/run-state.ts'
import { redactConfig } from '../engine/redact.ts'
import { markRunInterrupted } from '../engine/interrupt.ts'
import { SetupFailures } from '../engine/setup-failures.ts'
import { DEFAULT_PRICE_TABLE } from '../analysis/cost.ts'
import { asPlainUserError } from './user-error.ts'
import { markTiming } from '../core/timing.ts'

export default async function globalSetup(project: TestProject): Promise<() => Promise<void>> {
  const state = getRunState()
  if (!state) {
    throw new ConfigError('CONFIG_INVALID', 'The sebs global setup ran without the sebs plugin; add sebs() to the plugins of your Vitest config.')
  }
  // Vitest 5 runs the global setup once per project, and its `vitest bench` has two that share this
  // run (the root project and its bench variant): the run is set up once, the others get the same data.
  if (state.provided) {
    project.provide('sebs', state.provided)
    return async () => {}
  }
  const { config } = state
  markTiming('main', 'global setup started')
  // Users' input.ts files load through Vitest's module runner (Node loads no TypeScript from our built code in node_modules).
  setModuleImporter((file) => project.import(file))
  const logger = createLogger('sebs')
  for (const notice of state.notices) logger.info(notice)

  // Vitest 4 keeps the positional file filters of `vitest bench FILTER` on the Vitest instance, not in the config.
  const fileFilters = project.globalConfig.filters ?? (project.vitest as unknown as { filenamePattern?: string[] }).filenamePattern
  const filters = { testNamePattern: project.globalConfig.testNamePattern, fileFilters, root: config.root }
  const descriptor = await loadProvider(config.provider)
  // An experiment's cases with their point names for `-t`, planned for this provider: a plan that
  // refuses its settings fails here, before anything is built.
  const parts = experimentCaseParts(config, descriptor.functionsOnThisMachine, { strict: true })
  const allCases = parts ? enumerateCases(state.benchmarks, { languages: config.languages, sizes: config.sizes, parts }) : state.cases
  const selected = selectCases(allCases, filters)
  if (selected.length === 0) throw nothingSelectedError(allCases, filters, { sizes: config.sizes, languages: config.languages })

  const costModel = config.costModel ?? descriptor.defaultCostModel(config.arch, config[config.provider] as Record<string, unknown> | undefined)
  if (!DEFAULT_PRICE_TABLE[costModel]) {
    throw new ConfigError('CONFIG_INVALID', `Unknown cost model '${costModel}'. Choose one of ${listChoices(Object.keys(DEFAULT_PRICE_TABLE))}.`)
  }

  const runDir = join(config.resultsDir, config.runId)
  mkdirSync(runDir, { recursive: true })
  writeFileSync(
    join(runDir, 'run.json'),
    JSON.stringify({ runId: config.runId, startedAt: new Date().toISOString(), provider: config.provider, cases: selected.map((c) => c.fullName), config: redactConfig(config) }, null, 2),
  )
  logger.info(`run ${config.runId}: ${selected.length} case(s) on provider '${config.provider}'; records in ${join(runDir, RECORDS_FILE)}`)

  const byId = new Map(state.benchmarks.map((b) => [b.id, b]))
  const benchmarks = [...new Set(selected.map((c) => c.benchmark))].map((id) => byId.get(id)!)
  const pairs = new Map<string, { bench: BenchmarkDefinition; language: Language }>()
  for (const c of selected) pairs.set(`${c.benchmark}/${c.language}`, { bench: byId.get(c.benchmark)!, language: c.language })

  const options = await providerOptions(config)
  const provider: Provider = await descriptor.create({
    runId: config.runId,
    cacheDir: config.cacheDir,
    logger: logger.child(`provider:${config.provider}`),
    options,
  })
  const deployed: DeployedFunction[] = []
  let storage: ObjectStorage | undefined
  let nosql: NoSqlStorage | undefined
  let fileServer: FileServer | undefined
  let modules = new Map<string, BenchmarkInputModule>()

  const release = async (removeFunctions: boolean) => {
    const results = await Promise.allSettled([
      ...(removeFunctions ? deployed.map((fn) => fn.delete()) : []),
      storage?.close(),
      nosql?.close(),
      fileServer?.close(),
      ...[...modules.values()].map((m) => m.close?.()),
    ])
    for (const r of results) if (r.status === 'rejected') logger.warn(`cleanup: ${errorMessage(r.reason)}`)
    await provider.close().catch((err) => logger.warn(`cleanup: ${errorMessage(err)}`))
  }

  // A benchmark whose preparation fails fails its own cases; the others run (setup-failures.ts).
  const failures = new SetupFailures({
    runId: config.runId,
    recordsFile: join(runDir, RECORDS_FILE),
    provider: config.provider,
    trigger: config.trigger,
    logger,
    cases: selected,
    dataDirOf: (id) => benchmarkDataDir(config.dataDir, byId.get(id)!),
    memoryOf: (id) => config.memory?.[0] ?? byId.get(id)!.config.memory,
  })

  markTiming('main', 'provider created')
  try {
    await provider.checkCredentials()

    const loaded = await Promise.all(
      benchmarks.map(async (b) => [b.id, await failures.guard(b.id, undefined, 'loading input module', () => loadInputModule(b, { python: config.runtimes.python, cacheDir: config.cacheDir, logger, force: config.force }))] as const),
    )
    markTiming('main', 'input modules loaded')
    modules = new Map(loaded.filter((entry): entry is readonly [string, BenchmarkInputModule] => entry[1] !== undefined))

    // Ctrl-C / SIGTERM during the setup (plugin/interrupt.ts sets state.interrupted): no further
    // build, input generation, storage start or deploy; the step in flight finishes (in a terminal
    // the signal also reaches its pip/npm children), then the teardown removes what was created.
    const stopping = (): boolean => {
      if (!state.interrupted) return false
      if (!stopNoticed) logger.info(`${state.interrupted}: skipping the remaining builds and deploys of run ${config.runId}`)
      stopNoticed = true
      return true
    }
    let stopNoticed = false

    const packages = new Map<string, CodePackage>()
    for (const [key, { bench, language }] of pairs) {
      if (stopping()) break
      if (failures.has(bench.id, language)) continue
      const pkg = await failures.guard(bench.id, language, 'building package', () =>
        provider.package(
          { benchmark: bench, language, arch: config.arch },
          { cacheDir: config.cacheDir, logger, runtimes: config.runtimes, force: config.force },
        ),
      )
      if (pkg) packages.set(key, pkg)
    }

    markTiming('main', 'packages ready')
    const needsStorage = benchmarks.some((b) => !failures.has(b.id) && (b.config.modules.includes('storage') || (modules.get(b.id)!.bucketsCount?.() ?? [0, 0]).some((n) => n > 0)))
    const needsNoSql = benchmarks.some((b) => !failures.has(b.id) && (b.config.modules.includes('nosql') || modules.get(b.id)!.allocateNosql))
    if (needsStorage && !stopping()) {
      const step = startProgress(logger, `starting storage on '${config.provider}'`, { quietStart: true })
      try {
        storage = await provider.storage()
      } finally {
        step.stop()
      }
    }
    if (needsNoSql && !stopping()) {
      if (!provider.nosql) throw new SebsError('NOT_SUPPORTED', `provider '${config.provider}' has no NoSQL storage, which ${benchmarks.filter((b) => b.config.modules.includes('nosql')).map((b) => b.id).join(', ')} need(s).`)
      nosql = await provider.nosql()
    }
    // Functions on this machine read benchmark data over loopback HTTP.
    if (descriptor.functionsOnThisMachine && !stopping()) fileServer = await startFileServer(config.dataDir)
    const fileServerUrl = (config[config.provider].fileServerUrl as string | undefined) ?? fileServer?.url

    const events = new Map<string, Map<Size, Record<string, unknown>>>()
    for (const bench of benchmarks) {
      if (stopping()) break
      if (failures.has(bench.id)) continue
      const sizes = [...new Set(selected.filter((c) => c.benchmark === bench.id).map((c) => c.size))]
      const prepared = await failures.guard(bench.id, undefined, 'generating inputs', () =>
        prepareBenchmarkInputs(bench, sizes, {
          dataRoot: config.dataDir,
          cacheDir: config.cacheDir,
          logger,
          python: config.runtimes.python,
          storageIdentity: storage ? `${config.provider}:${storage.connection.bucket}` : undefined,
          storage,
          nosql,
          fileServerUrl,
          force: config.force,
        }, modules.get(bench.id)),
      )
      if (prepared) events.set(bench.id, prepared)
    }

    markTiming('main', 'storage and inputs ready')
    const cases: ProvidedCase[] = []
    const deployStarted = Date.now()
    for (const [key, { bench, language }] of pairs) {
      if (stopping()) break
      if (failures.has(bench.id, language)) continue
      const memory = config.memory?.[0] ?? bench.config.memory
      // Local deploys take milliseconds (debug line only); a cloud deploy that runs past a heartbeat is shown with its wait.
      const step = startProgress(logger, `deploying ${bench.id} (${language})`, { quietStart: true })
      let fn: Awaited<ReturnType<typeof provider.deploy>> | undefined
      try {
        fn = await failures.guard(bench.id, language, 'deploying', () =>
          provider.deploy(packages.get(key)!, {
          runId: config.runId,
          memory,
          timeout: bench.config.timeout,
          trigger: config.trigger,
          env: descriptor.functionEnv(storage?.connection, nosql?.connection),
          }),
        )
      } finally {
        step.stop()
      }
      if (!fn) continue
      deployed.push(fn)
      const took = `deployed ${bench.id} (${language}) in ${formatDuration(step.elapsedMs())}`
      if (step.elapsedMs() >= HEARTBEAT_MS) logger.info(took)
      else logger.debug(took)
      for (const c of selected.filter((s) => s.benchmark === bench.id && s.language === language)) {
        cases.push({ benchmark: c.benchmark, language, size: c.size, handle: fn.handle, event: events.get(bench.id)!.get(c.size)!, memory })
      }
    }

    markTiming('main', 'deployed')
    logger.info(`deployed ${deployed.length} function(s) on '${config.provider}' in ${formatDuration(Date.now() - deployStarted)}`)

    const provided: SebsProvided = {
      runId: config.runId,
      provider: config.provider,
      functionsOnThisMachine: descriptor.functionsOnThisMachine,
      recordsFile: join(runDir, RECORDS_FILE),
      // The settings workers read (repetitions, sizes, memory, ciTarget, …): the table's `worker` rows.
      ...workerSettings(config),
      repetitionsSet: config.repetitionsSet,
      python: config.runtimes.python,
      providerOptions: options,
      benchmarks: benchmarks.map((b) => ({
        id: b.id,
        dir: b.dir,
        inputKind: b.input.kind,
        inputPath: b.input.path,
        dataDir: benchmarkDataDir(config.dataDir, b),
        languages: b.config.languages,
      })),
      cases,
      setupFailures: failures.list,
      storage: storage?.connection,
      costModel,
      experiment: config.experiment ? { name: config.experiment, options: config.experiments[config.experiment] ?? {} } : undefined,
    }
    // Benchmarks that were discovered but not selected still get a (skipped) suite.
    for (const b of state.benchmarks) {
      if (!provided.benchmarks.some((p) => p.id === b.id)) {
        provided.benchmarks.push({ id: b.id, dir: b.dir, inputKind: b.input.kind, inputPath: b.input.path, dataDir: benchmarkDataDir(config.dataDir, b), languages: b.config.languages })
      }
    }
    project.provide('sebs', provided)
    state.provided = provided
    state.setupDone = true
    // Ctrl-C during the setup: the workers must not start (plugin/interrupt.ts marks later signals itself).
    if (state.interrupted) markRunInterrupted(runDir, state.interrupted)
  } catch (err) {
    await release(true)
    throw asPlainUserError(err)
  }

  return async () => {
    if (config.keep) logger.info(`--keep: leaving deployed functions of run ${config.runId} in place ('npx sebs cleanup --provider=${config.provider}' removes them)`)
    await release(!config.keep)
  }
}
