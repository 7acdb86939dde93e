/**
 * The `sebs` command. `sebs bench` parses its own flags (Vitest's CLI rejects
 * unknown ones like `--provider`), hands them to the plugin through the
 * environment, and starts Vitest in benchmark mode. The other commands work
 * on the cache, the results and the providers directly.
 */
import { existsSync, readFileSync } from 'node:fs'
import { join, relative, resolve, sep } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs, type ParseArgsConfig } from 'node:util'
import { ConfigError, SebsError, errorMessage, listChoices } from '../core/errors.ts'
import { createLogger } from '../core/logger.ts'
import { SIZES } from '../core/types.ts'
import { createProvider, loadProvider } from '../providers/registry.ts'
import { formatHistory, readRunIndex } from '../reporters/run-index.ts'
import { configFromEnv, providerOptions, resolveConfig, validateUserConfig, type SebsConfig, type SebsUserConfig } from '../engine/settings.ts'
import { flagHelp, flagOptions, settingsFromEnv, settingsFromFlags } from '../engine/settings-schema.ts'
import { BUILTIN_BENCHMARKS_DIR, discoverBenchmarks } from '../engine/discovery.ts'
import type { InputManifest } from '../engine/inputs.ts'
import { enumerateCases, nothingSelectedError, selectCases } from '../engine/selection.ts'
import { getRunState } from '../engine/run-state.ts'
import { detectVitestMajor } from './vitest-major.ts'
import { signalExitCode } from '../engine/interrupt.ts'
import { checkListSettings, experimentCaseParts } from '../suites/index.ts'
import { markTiming } from '../core/timing.ts'

const COMMANDS = ['bench', 'compare', 'package', 'cleanup', 'inputs', 'history', 'docker'] as const

/** `sebs --help`; the bench flags come from the settings table. */
const usage = (): string => `Usage: sebs <command> [options]

Commands:
  bench      run benchmarks as Vitest bench suites (default provider: local)
  package    build a provider's code package without deploying
  cleanup    remove everything this suite created (found by run-id tags)
  inputs     list generated inputs per benchmark and size
  history    list runs from results/index.json
  compare    compare two runs (BASE NEW)
  docker     docker base: build the offline base images

sebs bench options (each also read from the SEBS_* variable in brackets, for 'npx vitest bench'):
${flagHelp()}
  -t PATTERN, --reporter NAME, --outputJson FILE, --compare FILE, [file filters…] and every
  other Vitest flag are passed to Vitest as they are ('npx vitest bench --help' lists them)
`

type Values = Record<string, string | boolean | string[] | undefined>

/**
 * `--repetitions -1` as `--repetitions=-1`: parseArgs takes a value that starts
 * with '-' for an option and calls the flag "ambiguous"; a negative number is
 * a value, which then gets the flag's own range message.
 */
function joinNegativeValues(args: string[], options: ParseArgsConfig['options']): string[] {
  const out: string[] = []
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!
    const name = arg.startsWith('--') ? arg.slice(2) : undefined
    const next = args[i + 1]
    if (name && options?.[name]?.type === 'string' && next !== undefined && /^-\d/.test(next)) {
      out.push(`${arg}=${next}`)
      i++
    } else out.push(arg)
  }
  return out
}

function parse(args: string[], options: ParseArgsConfig['options'], command: string): { values: Values; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args: joinNegativeValues(args, options), options, allowPositionals: true, strict: true })
    return { values: values as Values, positionals }
  } catch (cause) {
    const known = Object.keys(options ?? {}).map((o) => `--${o}`)
    throw new ConfigError('UNKNOWN_FLAG', `sebs ${command}: ${errorMessage(cause)}. Known options: ${known.join(', ')}.`, { cause })
  }
}

/**
 * Imports the user's config module. Node runs JavaScript, and TypeScript on
 * its own only from Node 22.18 and never for code it reaches from
 * node_modules (where this CLI lives once installed), so a `.ts` file that
 * Node refuses goes through Vite's module runner (`runnerImport`: the loader
 * Vite itself uses for config files), from the Vite that Vitest brings.
 */
async function importConfigModule(file: string): Promise<unknown> {
  try {
    return await import(pathToFileURL(file).href)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (!/\.[cm]?ts$/.test(file) || (code !== 'ERR_UNKNOWN_FILE_EXTENSION' && code !== 'ERR_UNSUPPORTED_NODE_MODULES_TYPE_STRIPPING')) throw err
    const { runnerImport } = await import('vite')
    return (await runnerImport(file, { configFile: false, logLevel: 'error' })).module
  }
}

type LoadedConfigFile = { source: string; config: SebsUserConfig } | undefined

/**
 * Config files this process has loaded, by folder: `sebs bench` needs the
 * file twice (the plugin's options and the settings it checks before Vitest
 * starts), and a `.ts` file costs a module-runner import each time (over a
 * second on a busy machine).
 */
const loadedConfigFiles = new Map<string, Promise<LoadedConfigFile>>()

/** `sebs.config.ts` (or .js/.mjs) in the working directory, when there is one (loaded once per process). */
function loadSebsConfigFile(root: string): Promise<LoadedConfigFile> {
  let loading = loadedConfigFiles.get(root)
  if (!loading) {
    loading = readSebsConfigFile(root)
    loadedConfigFiles.set(root, loading)
  }
  return loading
}

async function readSebsConfigFile(root: string): Promise<LoadedConfigFile> {
  for (const name of ['sebs.config.ts', 'sebs.config.mjs', 'sebs.config.js']) {
    const file = join(root, name)
    if (!existsSync(file)) continue
    const mod = (await importConfigModule(file)) as { default?: unknown }
    return { source: file, config: validateUserConfig(mod.default ?? {}, file) }
  }
  return undefined
}

async function resolveForCommand(root: string, flags: SebsUserConfig): Promise<SebsConfig> {
  const file = await loadSebsConfigFile(root)
  return resolveConfig(
    [...(file ? [file] : []), { source: 'environment', config: configFromEnv(process.env) }, { source: 'command line', config: flags }],
    { root },
  )
}

const helpOption = { help: { type: 'boolean', short: 'h' } } as const satisfies ParseArgsConfig['options']

/** The flags of `sebs bench`: every flag of the settings table (engine/settings-schema.ts), and --help. */
const BENCH_OPTIONS = { ...flagOptions('bench'), ...helpOption } satisfies ParseArgsConfig['options']

/** The options of a command other than `bench`: the settings flags it takes, its own, and --help. */
function commandOptions(command: 'cleanup' | 'history' | 'inputs' | 'package', own: ParseArgsConfig['options'] = {}): ParseArgsConfig['options'] {
  return { ...flagOptions(command), ...own, ...helpOption }
}

/**
 * Splits `sebs bench` arguments into ours (BENCH_OPTIONS) and Vitest's: every
 * other flag and every positional (file filters) goes to Vitest as given, so
 * `-t`, `--reporter`, `--outputJson`, `--compare` and the rest mean what they
 * mean to `vitest bench`.
 */
export function splitBenchArgs(args: readonly string[], options: ParseArgsConfig['options'] = BENCH_OPTIONS): { own: string[]; vitest: string[] } {
  const own: string[] = []
  const vitest: string[] = []
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!
    if (arg === '--') {
      vitest.push(...args.slice(i))
      break
    }
    const long = /^--([^=]+)(=.*)?$/.exec(arg)
    const name = long ? long[1]! : arg === '-h' ? 'help' : undefined
    const spec = name !== undefined ? options?.[name] : undefined
    if (!spec) {
      vitest.push(arg)
      continue
    }
    own.push(arg)
    if (spec.type === 'string' && !long?.[2] && i + 1 < args.length) own.push(args[++i]!)
  }
  return { own, vitest }
}

/**
 * The flags Vitest's `bench` command knows, read from its own help (the
 * public parseCLI prints it for --help): parseCLI itself accepts any flag,
 * while `vitest bench` refuses unknown ones, and so should `sebs bench`.
 * Empty when the help cannot be read; then nothing is refused here.
 */
function vitestBenchFlags(parseCLI: (argv: string[]) => unknown): Set<string> {
  const log = console.log
  let help = ''
  console.log = (...parts: unknown[]) => {
    help += parts.join(' ') + '\n'
  }
  // Vitest's help also reads process.argv: our own `--experiment` there made it print only its
  // `--experimental` options. Show it a plain `vitest bench --help` while it prints.
  const argv = process.argv
  process.argv = [argv[0]!, 'vitest', 'bench', '--help']
  try {
    parseCLI(['vitest', 'bench', '--help'])
  } catch {
    // no help: no check
  } finally {
    console.log = log
    process.argv = argv
  }
  // The help is coloured when the environment asks for colour (FORCE_COLOR, CI): match the plain text.
  help = help.replace(/\x1b\[[0-9;]*m/g, '')
  return new Set([...help.matchAll(/(?:^|[\s,[])(--[a-zA-Z][\w.-]*|-[a-zA-Z])(?=[\s,=<[\]]|$)/gm)].map((m) => m[1]!))
}

/** Vitest's own parse of its flags (the same parser `vitest bench` uses); an unknown flag is a UNKNOWN_FLAG error naming both sets. */
async function parseVitestArgs(args: string[]): Promise<{ filter: string[]; options: Record<string, unknown> }> {
  const { parseCLI } = await import('vitest/node')
  const known = vitestBenchFlags(parseCLI)
  const unknownFlag = (cause: string): never => {
    throw new ConfigError(
      'UNKNOWN_FLAG',
      `sebs bench: ${cause}. Known options: ${Object.keys(BENCH_OPTIONS).map((o) => `--${o}`).join(', ')}; every other flag goes to Vitest ('npx vitest bench --help' lists them).`,
    )
  }
  if (known.size > 0) {
    for (const arg of args) {
      if (arg === '--') break
      if (!arg.startsWith('-') || /^-\d/.test(arg)) continue
      const name = arg.split('=')[0]!.replace(/^--no-/, '--')
      const root = name.split('.')[0]!
      if (!known.has(name) && !known.has(root) && ![...known].some((k) => k.startsWith(`${root}.`))) unknownFlag(`Unknown option '${name}'`)
    }
  }
  try {
    const { filter, options } = parseCLI(['vitest', 'bench', ...args])
    return { filter, options: options as Record<string, unknown> }
  } catch (cause) {
    return unknownFlag(errorMessage(cause))
  }
}

async function benchCommand(args: string[]): Promise<number> {
  const split = splitBenchArgs(args)
  const { values } = parse(split.own, BENCH_OPTIONS, 'bench')
  if (values.help) {
    process.stdout.write(usage())
    return 0
  }
  const flags: SebsUserConfig = settingsFromFlags(values)
  // Validate now, so a bad flag or SEBS_* variable fails before Vitest is even loaded.
  validateUserConfig(JSON.parse(JSON.stringify(flags)), 'command line')
  settingsFromEnv(process.env)
  process.env.SEBS_CLI_OVERRIDES = JSON.stringify(flags)

  const root = process.cwd()
  markTiming('main', 'flags parsed')
  const vitestArgs = await parseVitestArgs(split.vitest)
  markTiming('main', "Vitest's flags parsed")
  const { startVitest } = await import('vitest/node')
  const { sebs } = await import('./vite-plugin.ts')
  markTiming('main', 'vitest/node and the plugin loaded')
  const file = await loadSebsConfigFile(root)
  markTiming('main', 'sebs.config loaded')
  const pattern = vitestArgs.options.testNamePattern as string | undefined
  if (pattern !== undefined) {
    // Vitest compiles it deep inside its start-up and the error surfaces with a stack.
    try {
      new RegExp(pattern)
    } catch (err) {
      throw new ConfigError(
        'CONFIG_INVALID',
        `-t '${pattern}' is not a valid regular expression (${errorMessage(err).replace(/^Invalid regular expression: /, '')}); ` +
          `escape special characters with a backslash (e.g. '\\('), or give part of a case name such as '110.dynamic-html python'.`,
      )
    }
  }
  const resolved = await resolveForCommand(root, flags)
  markTiming('main', 'settings resolved')
  // Here too (the plugin checks again for `vitest bench`): a plain message, before Vitest starts.
  checkListSettings(resolved)
  const descriptor = await loadProvider(resolved.provider)
  if (descriptor.remoteCredentials) {
    // Fail in the first second on missing credentials, with a plain message, before Vitest starts anything.
    const provider = await descriptor.create({ runId: resolved.runId, cacheDir: resolved.cacheDir, logger: createLogger('sebs'), options: await providerOptions(resolved) })
    try {
      await provider.checkCredentials()
    } finally {
      await provider.close()
    }
  }
  const files = preselectFiles(vitestArgs.filter, pattern, resolved, descriptor.functionsOnThisMachine)
  markTiming('main', 'files preselected; starting Vitest')
  const ctx = await startVitest(
    'benchmark',
    files,
    {
      // Bench files in worker threads, not forked processes: a thread starts
      // ~0.2 s sooner, and a bench worker only invokes (its instances are
      // child processes either way, tied to it by their stdin lifeline).
      pool: 'threads',
      // In this package's own checkout, Vite's module runner instead of a
      // bundle for the config (see configLoaderOption).
      ...configLoaderOption(root, vitestArgs.options),
      // Vitest's own flags as Vitest parsed them (-t, --reporter, --outputJson, --compare, …).
      ...vitestArgs.options,
      // Vitest 5's startVitest ignores the mode string: only benchmarkOnly makes its bench project.
      ...(detectVitestMajor(root) >= 5 ? ({ benchmarkOnly: true } as Record<string, unknown>) : {}),
      run: true,
      watch: false,
    },
    // Used only when the project's Vitest config does not add the plugin itself.
    { plugins: [sebs(file?.config ?? {})] },
  )
  markTiming('main', 'Vitest finished')
  if (!ctx) return 1
  await ctx.close()
  markTiming('main', 'Vitest closed')
  // Interrupted (plugin/interrupt.ts): the shell's status for the signal, whatever else happened.
  const interrupted = getRunState()?.interrupted
  if (interrupted) return signalExitCode(interrupted)
  const failed = ctx.state.getCountOfFailedTests() > 0 || ctx.state.getUnhandledErrors().length > 0
  return failed || (process.exitCode !== undefined && process.exitCode !== 0) ? 1 : 0
}

/** Vitest's config file names in the order it looks for them (vitest/dist constants: CONFIG_NAMES × CONFIG_EXTENSIONS). */
const VITEST_CONFIG_FILES = ['vitest.config', 'vite.config'].flatMap((name) => ['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs'].map((ext) => name + ext))

/**
 * `{ configLoader: 'runner' }` in this package's own source checkout (its
 * vitest.config.ts imports the plugin's TypeScript sources by relative
 * path), for an ES-module config file (.ts/.mts/.mjs, which the runner can
 * load); nothing (Vitest's default, the bundle) everywhere else, and never
 * over a loader the user chose. Bundling inlines every file the config
 * imports by relative path, dynamic imports included, so in the checkout
 * every provider and its cloud SDK loaded on each start (a cached no-op run
 * started ~3 s sooner with the runner, SEBS_DEBUG_TIMING=1). A user's config
 * imports the installed package, which the bundle leaves external (Node
 * loads its dist/ natively): there the bundle is as fast (1.22–1.50 s vs
 * 1.33–1.48 s, three pairs), and Vite 8.4 warns on every start that the
 * runner loader is deprecated.
 */
export function configLoaderOption(root: string, options: Record<string, unknown>): { configLoader?: 'runner' } {
  if (options.configLoader !== undefined || options.config === false || !isOwnCheckout(root)) return {}
  const file = typeof options.config === 'string' ? resolve(root, options.config) : VITEST_CONFIG_FILES.map((name) => join(root, name)).find((f) => existsSync(f))
  return file !== undefined && /\.(ts|mts|mjs)$/.test(file) ? { configLoader: 'runner' } : {}
}

/** True in this package's source checkout: its package.json, and the plugin's TypeScript sources beside it. */
function isOwnCheckout(root: string): boolean {
  try {
    return (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name?: string }).name === 'serverless-benchmarks' && existsSync(join(root, 'plugin', 'cli.ts'))
  } catch {
    return false
  }
}

/**
 * Vitest loads every bench file even when -t selects a few cases, and each
 * file costs a worker start. With no file filters of the user's, pass the
 * files of the selected benchmarks. When nothing matches, leave the filters
 * alone so that the global setup reports the empty selection with the list
 * of cases.
 */
function preselectFiles(positionals: string[], pattern: string | undefined, config: SebsConfig, functionsOnThisMachine: boolean): string[] {
  if (positionals.length > 0 || !pattern) return positionals
  let cases: ReturnType<typeof enumerateCases>
  let selected: ReturnType<typeof selectCases>
  const filters = { testNamePattern: new RegExp(pattern), root: config.root }
  try {
    const { benchmarks } = discoverBenchmarks({ builtin: config.builtinBenchmarks, extra: config.benchmarks })
    // An experiment's cases are selected by their point names too (`-t '… warm 128MB'`).
    const parts = experimentCaseParts(config, functionsOnThisMachine)
    cases = enumerateCases(benchmarks, { languages: config.languages, sizes: config.sizes, ...(parts ? { parts } : {}) })
    selected = selectCases(cases, filters)
  } catch {
    return positionals // the plugin reports discovery errors with full context
  }
  // Our message with the list of cases, before Vitest would print "No benchmark files found" and an "Unhandled Error".
  if (selected.length === 0) throw nothingSelectedError(cases, filters, { sizes: config.sizes, languages: config.languages })
  // A built-in benchmark's file as a path below the built-in folder: this CLI runs from dist/, while a
  // vitest.config.ts of this repository loads the plugin from its sources, whose built-in folder is the
  // source tree; Vitest's file filters (and ours) match a substring of the path, so both find it.
  return [...new Set(selected.map((c) => (c.file.startsWith(BUILTIN_BENCHMARKS_DIR + sep) ? relative(BUILTIN_BENCHMARKS_DIR, c.file) : c.file)))]
}

async function cleanupCommand(args: string[]): Promise<number> {
  const { values } = parse(args, commandOptions('cleanup', { 'dry-run': { type: 'boolean' }, 'run-id': { type: 'string' } }), 'cleanup')
  const config = await resolveForCommand(process.cwd(), settingsFromFlags(values))
  const logger = createLogger('sebs')
  const provider = await createProvider(config.provider, { runId: config.runId, cacheDir: config.cacheDir, logger, options: await providerOptions(config) })
  try {
    const swept = await provider.sweep({ runId: values['run-id'] as string | undefined, dryRun: Boolean(values['dry-run']) })
    if (swept.length === 0) process.stdout.write(`nothing to clean up on provider '${config.provider}'.\n`)
    for (const r of swept) {
      process.stdout.write(`${values['dry-run'] ? 'would remove' : r.removed ? 'removed' : 'could not remove'} ${r.kind} ${r.id}${r.runId ? ` (run ${r.runId})` : ''}\n`)
    }
    return swept.some((r) => !values['dry-run'] && !r.removed) ? 1 : 0
  } finally {
    await provider.close()
  }
}

async function historyCommand(args: string[]): Promise<number> {
  const { values } = parse(args, commandOptions('history'), 'history')
  const config = await resolveForCommand(process.cwd(), settingsFromFlags(values))
  const entries = await readRunIndex(config.resultsDir)
  process.stdout.write(entries.length ? formatHistory(entries) + '\n' : `no runs in ${config.resultsDir}\n`)
  return 0
}

async function inputsCommand(args: string[]): Promise<number> {
  const { values } = parse(args, commandOptions('inputs'), 'inputs')
  const config = await resolveForCommand(process.cwd(), settingsFromFlags(values))
  const dir = join(config.cacheDir, 'inputs', 'manifests')
  const { benchmarks } = discoverBenchmarks({ builtin: config.builtinBenchmarks, extra: config.benchmarks })
  const rows: string[] = []
  for (const b of benchmarks) {
    for (const size of SIZES) {
      const file = join(dir, b.id, `${size}.json`)
      if (!existsSync(file)) {
        rows.push(`${b.id.padEnd(26)} ${size.padEnd(6)} ${'-'.padStart(12)}  not generated yet`)
        continue
      }
      const m = JSON.parse(readFileSync(file, 'utf8')) as InputManifest
      const bytes = m.files.reduce((s, f) => s + f.bytes, 0)
      rows.push(`${b.id.padEnd(26)} ${size.padEnd(6)} ${`${(bytes / 1e6).toFixed(2)} MB`.padStart(12)}  ${m.files.length} object(s), data ${m.dataDir}`)
    }
  }
  process.stdout.write(`${'benchmark'.padEnd(26)} ${'size'.padEnd(6)} ${'input bytes'.padStart(12)}  cache\n${rows.join('\n')}\n`)
  return 0
}

async function packageCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, commandOptions('package'), 'package')
  const flags = settingsFromFlags(values)
  const config = await resolveForCommand(process.cwd(), flags)
  const { benchmarks } = discoverBenchmarks({ builtin: config.builtinBenchmarks, extra: config.benchmarks })
  if (positionals.length === 0) throw new ConfigError('BENCHMARK_NOT_FOUND', `sebs package needs a benchmark id. Known: ${listChoices(benchmarks.map((b) => b.id))}.`)
  const logger = createLogger('sebs')
  const provider = await createProvider(config.provider, { runId: config.runId, cacheDir: config.cacheDir, logger, options: await providerOptions(config) })
  try {
    for (const id of positionals) {
      const bench = benchmarks.find((b) => b.id === id)
      if (!bench) throw new ConfigError('BENCHMARK_NOT_FOUND', `Unknown benchmark '${id}'. Known: ${listChoices(benchmarks.map((b) => b.id))}.`)
      const langs = (flags.languages ?? bench.config.languages).filter((l) => bench.config.languages.includes(l))
      const arch = config.arch
      for (const language of langs) {
        const pkg = await provider.package({ benchmark: bench, language, arch }, { cacheDir: config.cacheDir, logger, runtimes: config.runtimes, force: config.force })
        process.stdout.write(`${id} ${language} ${arch}: ${pkg.path} (${(pkg.sizeBytes / 1e6).toFixed(2)} MB${pkg.cached ? ', cached' : ''})\n`)
      }
    }
  } finally {
    await provider.close()
  }
  return 0
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(usage())
    return command ? 0 : 1
  }
  switch (command) {
    case 'bench':
      return benchCommand(rest)
    case 'cleanup':
      return cleanupCommand(rest)
    case 'history':
      return historyCommand(rest)
    case 'inputs':
      return inputsCommand(rest)
    case 'package':
      return packageCommand(rest)
    case 'compare': {
      const { compareCommand } = await import('../reporters/compare.ts')
      return compareCommand(rest)
    }
    case 'docker': {
      const [sub, ...args] = rest
      if (sub !== 'base') throw new ConfigError('UNKNOWN_FLAG', `Unknown command 'docker ${sub ?? ''}'. Commands: 'docker base'.`)
      const config = await resolveForCommand(process.cwd(), {})
      const { dockerBaseCommand } = await import('../providers/docker/base-image.ts')
      // The project's interpreters first; the user's flags come last and win.
      return dockerBaseCommand(['--python', config.runtimes.python, '--node', config.runtimes.node, ...args])
    }
    default:
      throw new ConfigError('UNKNOWN_FLAG', `Unknown command '${command}'. Commands: ${listChoices(COMMANDS)}.`)
  }
}

/** Entry point used by bin/sebs.mjs. Prints errors without a stack unless DEBUG is set. */
export async function run(argv: string[]): Promise<void> {
  markTiming('main', 'sebs CLI loaded')
  try {
    process.exitCode = await main(argv)
  } catch (err) {
    if (err instanceof SebsError && !process.env.DEBUG) {
      process.stderr.write(`sebs: error [${err.code}]: ${err.message}\n`)
    } else {
      process.stderr.write(`sebs: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
    }
    process.exitCode = 1
  }
}

