/**
 * Provider-independent code-package builder.
 *
 * A package is a directory assembled from a benchmark's `<language>/` sources,
 * the provider's wrapper files and shared function modules, with the
 * dependencies installed next to them. Packages are content-addressed: the
 * hash covers everything that goes into them, so an unchanged benchmark is
 * never rebuilt, and a changed one gets a new directory built beside the old.
 *
 * Layout (the contract providers rely on):
 *
 *     <pkg>/                        wrapper files (handler.js, server.py, …)
 *     <pkg>/function/               the benchmark's <language>/ directory + the files of its
 *                                   shared folders (config.json `shared`) + function modules
 *     <pkg>/function/node_modules/  nodejs dependencies
 *     <pkg>/<pythonTarget>/         python dependencies (pip --target)
 *
 * Cache: `<cacheDir>/packages/<provider>/<benchmark>/<language>-<arch>/<hash>/`,
 * complete once it holds `.sebs-package.json`.
 */
import { createHash, randomBytes } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { cp, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { basename, dirname, isAbsolute, join, normalize, sep } from 'node:path'
import { BenchmarkError, SebsError, errorMessage } from '../../core/errors.ts'
import { formatBytes } from '../../core/format.ts'
import { formatDuration } from '../../core/logger.ts'
import { startProgress } from '../../core/progress.ts'
import type { Architecture, BenchmarkDefinition, Language } from '../../core/types.ts'
import { isExecutable, pidAlive, requireTool, runCommand } from './run-command.ts'
import { directorySize } from './sizes.ts'
import type { BuildContext } from '../types.ts'
import { installShared } from './pip-cache.ts'
import { chooseDependencyFile } from './dependency-files.ts'

/** Bump when the layout or the build steps change: every cached package is rebuilt. */
export const BUILD_FORMAT_VERSION = 1

/** The metadata file that marks a cached package as complete. */
export const PACKAGE_METADATA_FILE = '.sebs-package.json'

export interface AssembleOptions {
  benchmark: BenchmarkDefinition
  language: Language
  /** 'local' | 'aws' | 'azure': the cache folder name. */
  provider: string
  arch: Architecture
  /** Absolute paths of files copied to the package root (the provider's wrapper: handler.js, server.js, …). */
  wrapperFiles: string[]
  /** Absolute paths of files copied into function/ (storage.js/.py, nosql.js/.py). */
  functionModules?: string[]
  /** Dependencies added to the benchmark's own: nodejs package.json deps, python requirement lines. */
  extraDependencies?: { nodejs?: Record<string, string>; python?: string[] }
  /** Where pip installs python deps, relative to the package root (default 'python_packages'; AWS uses '.'). */
  pythonTarget?: string
  /** e.g. ['--platform','manylinux2014_x86_64','--only-binary=:all:'] */
  pipExtraArgs?: string[]
  /** e.g. ['--os=linux','--cpu=arm64'] */
  npmExtraArgs?: string[]
  /** Runtime identity, part of the hash, e.g. 'python3.11.7' or 'node20.20.2'. */
  runtimeVersion: string
  /** Timeout of each install step (pip, npm, init.sh); default 15 minutes. */
  installTimeoutMs?: number
  /**
   * Runs pip/npm somewhere else than on the host (e.g. in a build image that
   * matches the target runtime). Without it pip and npm run on the host.
   */
  installer?: DependencyInstaller
  /** Identity of the installer (e.g. `docker:<image>`), part of the hash; default 'custom' when `installer` is set. */
  installerId?: string
}

/**
 * One install step for an `installer`. Paths in `args` and `cwd` are relative
 * to the package root, so they mean the same at a mount point in a container:
 * run `<tool> ...args` in `<packageDir>/<cwd>` (or `<mount>/<cwd>`).
 * pip's args start with `install` (run them as `pip …` / `python -m pip …`).
 */
export interface InstallStep {
  tool: 'pip' | 'npm'
  args: string[]
  /** Relative to the package root ('.' for the root). */
  cwd: string
  /** Absolute host path of the package being built. */
  packageDir: string
  /** The build's per-step timeout (installTimeoutMs). */
  timeoutMs: number
}

export type DependencyInstaller = (step: InstallStep) => Promise<void>

/** Where the merged requirements go when an installer runs pip (inside the package; removed after the install). */
export const INSTALLER_REQUIREMENTS_FILE = '.sebs-requirements.txt'

export interface BuiltPackage {
  dir: string
  hash: string
  cached: boolean
  sizeBytes: number
}

/** Contents of `.sebs-package.json`. */
export interface PackageMetadata {
  formatVersion: number
  hash: string
  builtAt: string
  buildTimeMs: number
  sizeBytes: number
  benchmark: string
  language: Language
  provider: string
  arch: Architecture
  runtimeVersion: string
}

const DEFAULT_PYTHON_TARGET = 'python_packages'
const DEFAULT_INSTALL_TIMEOUT_MS = 15 * 60_000
/** Never part of a package: installed or generated per machine. */
const EXCLUDED_DIRS = new Set(['node_modules', '__pycache__'])

function excludedName(name: string, isDir: boolean): boolean {
  if (isDir) return EXCLUDED_DIRS.has(name)
  return name.endsWith('.pyc')
}

// ---------------------------------------------------------------------------
// Hash

/** Relative (posix) paths of the files below `root`, sorted, without excluded entries. */
function listSourceFiles(root: string): string[] {
  const out: string[] = []
  const walk = (dir: string, rel: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const childRel = rel ? `${rel}/${entry.name}` : entry.name
      const abs = join(dir, entry.name)
      // Follow symlinks the way the copy does (fs.cp copies links as links,
      // but their targets' contents are what the function sees).
      let isDir = entry.isDirectory()
      if (entry.isSymbolicLink()) {
        try {
          isDir = statSync(abs).isDirectory()
        } catch {
          continue // dangling link: nothing the function could read
        }
      }
      if (excludedName(entry.name, isDir)) continue
      if (isDir) walk(abs, childRel)
      else out.push(childRel)
    }
  }
  walk(root, '')
  return out.sort()
}

function languageDir(opts: AssembleOptions): string {
  return join(opts.benchmark.dir, opts.language)
}

/** One file of a package's `function/` that comes from the benchmark. */
export interface FunctionSourceFile {
  /** Where it lands, relative (posix) to `function/`. */
  rel: string
  /** Where it comes from. */
  abs: string
  /** The folder it comes from: the benchmark's `<language>/` or one of its shared folders. */
  folder: string
}

/**
 * The files a benchmark puts into `function/` for one language: its
 * `<language>/` folder and the shared folders config.json declares for that
 * language (`config.shared`), each folder's tree at the root of `function/`,
 * sorted by path (without node_modules, __pycache__, *.pyc). Two folders that
 * provide the same path (or a file where the other has a directory) are a
 * BENCHMARK_LAYOUT_INVALID error naming both files: nothing is overwritten.
 */
export function functionSourceFiles(
  benchmark: Pick<BenchmarkDefinition, 'dir'> & { config: Pick<BenchmarkDefinition['config'], 'shared'> },
  language: Language,
): FunctionSourceFile[] {
  const configFile = join(benchmark.dir, 'config.json')
  const own = join(benchmark.dir, language)
  const byRel = new Map<string, FunctionSourceFile>()
  for (const folder of [own, ...(benchmark.config.shared?.[language] ?? [])]) {
    if (!existsSync(folder) || !statSync(folder).isDirectory()) {
      throw new BenchmarkError(
        'BENCHMARK_LAYOUT_INVALID',
        folder === own ? benchmark.dir : configFile,
        folder === own
          ? `no ${language}/ directory, but ${language} was selected for it. Add ${language}/ with the function code or remove '${language}' from config.json's languages.`
          : // Checked at discovery; it may have gone since.
            `field 'shared.${language}' names ${folder}, which is not a directory; fix the path or restore the folder.`,
      )
    }
    for (const rel of listSourceFiles(folder)) {
      const file: FunctionSourceFile = { rel, abs: join(folder, ...rel.split('/')), folder }
      const same = byRel.get(rel)
      if (same) throw sourceClash(configFile, language, same, file)
      byRel.set(rel, file)
    }
  }
  // A file of one folder where another has a directory (`lib` and `lib/x.py`).
  for (const file of byRel.values()) {
    const parts = file.rel.split('/')
    for (let i = 1; i < parts.length; i++) {
      const parent = byRel.get(parts.slice(0, i).join('/'))
      if (parent) throw sourceClash(configFile, language, parent, file)
    }
  }
  return [...byRel.values()].sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0))
}

function sourceClash(configFile: string, language: Language, a: FunctionSourceFile, b: FunctionSourceFile): BenchmarkError {
  return new BenchmarkError(
    'BENCHMARK_LAYOUT_INVALID',
    configFile,
    `field 'shared.${language}': ${a.abs} and ${b.abs} both need function/${a.rel} in the package; ` +
      `rename or remove one of them (shared files go next to the benchmark's own, never over them).`,
  )
}

/** The init.sh scripts SeBS runs, in SeBS's order: the benchmark's, then the language's. */
function initScripts(opts: AssembleOptions): string[] {
  return [join(opts.benchmark.dir, 'init.sh'), join(languageDir(opts), 'init.sh')].filter((p) => existsSync(p))
}

function resolvedPythonTarget(opts: AssembleOptions): string {
  const target = normalize(opts.pythonTarget ?? DEFAULT_PYTHON_TARGET)
  if (isAbsolute(target) || target === '..' || target.startsWith(`..${sep}`)) {
    throw new SebsError(
      'BUILD_FAILED',
      `pythonTarget '${opts.pythonTarget}' must be a path inside the package (relative, without '..').`,
    )
  }
  return target
}

/**
 * Content hash of everything that goes into the package: the files of
 * `function/` from the benchmark's `<language>/` and shared folders (paths in
 * the package, contents, executable bit), `config.json`, any
 * `init.sh`, the wrapper files and function modules (by file name, so moving
 * the checkout does not invalidate the cache), the extra dependencies and
 * install arguments, the runtime, architecture and provider.
 */
export function computePackageHash(opts: AssembleOptions): string {
  const langDir = languageDir(opts)
  // Lists (and checks) the sources first: a missing folder or a clash is the error, not a hash.
  const sources = functionSourceFiles(opts.benchmark, opts.language)
  const h = createHash('sha256')
  // Length-prefixed fields: no two different inputs can produce the same byte stream.
  const add = (label: string, data: string | Buffer) => {
    const buf = typeof data === 'string' ? Buffer.from(data) : data
    h.update(`${label}\0${buf.length}\0`)
    h.update(buf)
  }
  const readOrFail = (path: string, what: string): Buffer => {
    try {
      return readFileSync(path)
    } catch (err) {
      throw new SebsError('BUILD_FAILED', `Cannot read ${what} ${path}: ${errorMessage(err)}`, { cause: err })
    }
  }

  add('format', String(BUILD_FORMAT_VERSION))
  add('benchmark', opts.benchmark.id)
  add('language', opts.language)
  add('provider', opts.provider)
  add('arch', opts.arch)
  add('runtime', opts.runtimeVersion)
  add('pythonTarget', resolvedPythonTarget(opts))
  add('pipArgs', JSON.stringify(opts.pipExtraArgs ?? []))
  add('npmArgs', JSON.stringify(opts.npmExtraArgs ?? []))
  const nodeDeps = Object.entries(opts.extraDependencies?.nodejs ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  add('extraNodeDeps', JSON.stringify(nodeDeps))
  add('extraPythonDeps', JSON.stringify([...(opts.extraDependencies?.python ?? [])].sort()))
  // Only when set, so that host-built packages keep the hashes they always had.
  if (opts.installer) add('installer', opts.installerId ?? 'custom')
  // Which dependency file installs (requirements.txt.3.11, package.json.20): its
  // contents are hashed with the sources; the choice itself too, when it is a versioned one.
  const depFile = chooseDependencyFile(
    sources.filter((f) => !f.rel.includes('/')).map((f) => f.rel),
    opts,
  )
  if (depFile && depFile !== 'requirements.txt' && depFile !== 'package.json') add('dependencyFile', depFile)

  // By their place in function/, not their folder: a benchmark without shared
  // folders keeps the hash it always had, and the package is what is hashed.
  for (const { rel, abs } of sources) {
    add(`src:${rel}`, readOrFail(abs, 'benchmark file'))
    add(`mode:${rel}`, statSync(abs).mode & 0o111 ? 'x' : '-')
  }
  for (const module of opts.functionModules ?? []) {
    // A function module replaces the benchmark's own file of that name (SeBS's storage.py), but a shared file must not vanish silently.
    const shadowed = sources.find((f) => f.rel === basename(module) && f.folder !== langDir)
    if (shadowed) {
      throw new BenchmarkError(
        'BENCHMARK_LAYOUT_INVALID',
        join(opts.benchmark.dir, 'config.json'),
        `field 'shared.${opts.language}': ${shadowed.abs} has the name of the function module ${module} that the provider puts into function/; rename the shared file.`,
      )
    }
  }
  const configPath = join(opts.benchmark.dir, 'config.json')
  if (existsSync(configPath)) add('config.json', readOrFail(configPath, 'benchmark config'))
  const rootInit = join(opts.benchmark.dir, 'init.sh')
  if (existsSync(rootInit)) add('init.sh', readOrFail(rootInit, 'init script'))

  for (const file of opts.wrapperFiles) add(`wrapper:${basename(file)}`, readOrFail(file, 'wrapper file'))
  for (const file of opts.functionModules ?? []) add(`module:${basename(file)}`, readOrFail(file, 'function module'))
  return h.digest('hex').slice(0, 16)
}

// ---------------------------------------------------------------------------
// Build

async function readMetadata(dir: string): Promise<PackageMetadata | undefined> {
  try {
    return JSON.parse(await readFile(join(dir, PACKAGE_METADATA_FILE), 'utf8')) as PackageMetadata
  } catch {
    return undefined
  }
}

/** Requirement lines that install something (not blank, not comments). */
function requirementEntries(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.replace(/(^|\s)#.*$/, '').trim())
    .filter((l) => l.length > 0)
}

/** The npm next to the configured node, so that both come from the same installation. */
function npmFor(node: string): string {
  if (node.includes('/')) {
    const sibling = join(dirname(node), 'npm')
    if (isExecutable(sibling)) return sibling
  }
  return 'npm'
}

/**
 * npm started through `npx`/`npm run` exports `npm_config_local_prefix`,
 * `npm_package_*` and friends; a nested `npm install` would obey them and
 * could install into the harness's own checkout. Drop them.
 */
export function cleanNpmEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) {
    const lower = k.toLowerCase()
    if (
      lower.startsWith('npm_package_') ||
      lower.startsWith('npm_lifecycle_') ||
      lower === 'npm_config_local_prefix' ||
      lower === 'npm_config_global' ||
      lower === 'npm_command' ||
      lower === 'init_cwd'
    ) {
      continue
    }
    env[k] = v
  }
  return env
}

async function copyInto(files: string[], destDir: string): Promise<void> {
  for (const file of files) {
    try {
      await cp(file, join(destDir, basename(file)), { force: true })
    } catch (err) {
      throw new SebsError('BUILD_FAILED', `Cannot copy ${file} into the package: ${errorMessage(err)}`, { cause: err })
    }
  }
}

async function installNode(opts: AssembleOptions, ctx: BuildContext, fnDir: string, timeoutMs: number, onLine?: (line: string) => void): Promise<void> {
  const pkgJsonPath = join(fnDir, 'package.json')
  // SeBS: a version-specific package.json.<major> replaces package.json (dependency-files.ts).
  const chosen = chooseDependencyFile(await readdir(fnDir), opts)
  if (chosen && chosen !== 'package.json') await cp(join(fnDir, chosen), pkgJsonPath, { force: true })

  const extra = opts.extraDependencies?.nodejs ?? {}
  const hasPkgJson = existsSync(pkgJsonPath)
  if (!hasPkgJson && Object.keys(extra).length === 0) return

  let pkg: Record<string, unknown> = { name: opts.benchmark.id.replace(/[^a-z0-9-]/g, '-'), version: '1.0.0', private: true }
  if (hasPkgJson) {
    try {
      pkg = JSON.parse(await readFile(pkgJsonPath, 'utf8')) as Record<string, unknown>
    } catch (err) {
      throw new BenchmarkError(
        'BENCHMARK_LAYOUT_INVALID',
        join(languageDir(opts), 'package.json'),
        `is not valid JSON: ${errorMessage(err)}`,
        { cause: err },
      )
    }
  }
  const deps = (pkg.dependencies ?? {}) as Record<string, string>
  pkg.dependencies = { ...deps, ...extra }
  await writeFile(pkgJsonPath, JSON.stringify(pkg, null, 2) + '\n')

  const args = ['install', '--omit=dev', '--no-audit', '--no-fund', '--no-package-lock', ...(opts.npmExtraArgs ?? [])]
  if (opts.installer) {
    await opts.installer({ tool: 'npm', args, cwd: 'function', packageDir: dirname(fnDir), timeoutMs })
    return
  }
  const npm = npmFor(ctx.runtimes.node)
  await requireTool(npm, 'Install Node.js with npm (https://nodejs.org, or apt-get install nodejs npm) to build nodejs packages.')
  await runCommand(npm, args, { cwd: fnDir, env: cleanNpmEnv(), timeoutMs, onLine })
}

async function installPython(
  opts: AssembleOptions,
  ctx: BuildContext,
  pkgDir: string,
  fnDir: string,
  timeoutMs: number,
  onLine?: (line: string) => void,
): Promise<void> {
  // SeBS: requirements.txt.arm.<version> (arm64), requirements.txt.<version> or requirements.txt,
  // the first that exists and only that one (dependency-files.ts).
  const chosen = chooseDependencyFile(await readdir(fnDir), opts)
  const lines = chosen ? requirementEntries(await readFile(join(fnDir, chosen), 'utf8')) : []
  lines.push(...(opts.extraDependencies?.python ?? []))
  if (lines.length === 0) return

  if (opts.installer) {
    const targetRel = resolvedPythonTarget(opts)
    await mkdir(join(pkgDir, targetRel), { recursive: true })
    // Inside the package so that the installer's environment (a container
    // with the package mounted) can read it; removed before the package is
    // published, so it is never deployed.
    const reqFile = join(pkgDir, INSTALLER_REQUIREMENTS_FILE)
    await writeFile(reqFile, lines.join('\n') + '\n')
    try {
      const args = [
        'install',
        '--disable-pip-version-check',
        '--no-input',
        '--target',
        targetRel,
        '-r',
        INSTALLER_REQUIREMENTS_FILE,
        ...(opts.pipExtraArgs ?? []),
      ]
      await opts.installer({ tool: 'pip', args, cwd: '.', packageDir: pkgDir, timeoutMs })
    } finally {
      await rm(reqFile, { force: true })
    }
    return
  }

  await requireTool(
    ctx.runtimes.python,
    'Install Python 3 with pip (e.g. apt-get install python3 python3-pip) or point the python runtime setting at an interpreter.',
  )
  // One pip run per distinct requirement set, shared by every package that needs it (pip-cache.ts).
  const target = join(pkgDir, resolvedPythonTarget(opts))
  await installShared({
    python: ctx.runtimes.python,
    requirements: lines,
    extraArgs: opts.pipExtraArgs ?? [],
    target,
    cacheDir: ctx.cacheDir,
    logger: ctx.logger,
    run: (args, env) => runCommand(ctx.runtimes.python, args, { cwd: fnDir, env, timeoutMs, onLine }),
  })
}

/**
 * Removes other hashes of the same benchmark/language/arch (with their derived
 * `<hash>.*` artifacts), and temp dirs of dead builders.
 */
async function pruneSiblings(parent: string, keep: string): Promise<void> {
  let names: string[]
  try {
    names = await readdir(parent)
  } catch {
    return
  }
  for (const name of names) {
    if (name === keep) continue
    const m = /\.(?:tmp|old)-(\d+)-/.exec(name)
    // Another process may be building right now; leave its temp dir alone.
    if (m && Number(m[1]) !== process.pid && pidAlive(Number(m[1]))) continue
    // Artifacts derived from the kept package (AWS's `<hash>.zip`) stay with it.
    if (!m && name.startsWith(`${keep}.`)) continue
    await rm(join(parent, name), { recursive: true, force: true }).catch(() => {})
  }
}

/**
 * Builds (or reuses from the cache) the code package of one benchmark in one
 * language for one provider and architecture. See the module comment for the
 * layout and the cache.
 */
export async function buildPackage(opts: AssembleOptions, ctx: BuildContext): Promise<BuiltPackage> {
  const label = `${opts.benchmark.id} (${opts.language}, ${opts.provider})`
  const hash = computePackageHash(opts)
  const parent = join(ctx.cacheDir, 'packages', opts.provider, opts.benchmark.id, `${opts.language}-${opts.arch}`)
  const finalDir = join(parent, hash)

  if (!ctx.force) {
    const meta = await readMetadata(finalDir)
    if (meta && meta.hash === hash) {
      ctx.logger.info(`${label}: package cached`)
      return { dir: finalDir, hash, cached: true, sizeBytes: meta.sizeBytes }
    }
  }

  // Heartbeats with pip's / npm's latest line while dependencies install.
  const step = startProgress(ctx.logger, `building ${label}`)
  const onLine = (line: string) => step.update(line)
  let installMs = 0
  const started = performance.now()
  const timeoutMs = opts.installTimeoutMs ?? DEFAULT_INSTALL_TIMEOUT_MS
  await mkdir(parent, { recursive: true })
  const tmp = join(parent, `${hash}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`)
  try {
    const fnDir = join(tmp, 'function')
    await mkdir(fnDir, { recursive: true })
    await copyInto(opts.wrapperFiles, tmp)
    // The benchmark's folder, then its shared folders into the same function/
    // (computePackageHash has refused clashes, so nothing is overwritten).
    for (const folder of [languageDir(opts), ...(opts.benchmark.config.shared?.[opts.language] ?? [])]) {
      await cp(folder, fnDir, {
        recursive: true,
        force: false,
        // Node 24's cp reports the existing destination folder itself as a clash when errorOnExist
        // is set (Node 20 merged into it); clashing files were already refused by computePackageHash.
        errorOnExist: false,
        // Keep relative links relative (the default rewrites them to absolute paths into the sources).
        verbatimSymlinks: true,
        filter: (src) => {
          if (src === folder) return true
          const name = basename(src)
          let isDir = false
          try {
            isDir = statSync(src).isDirectory()
          } catch {
            // A dangling symlink: copied as the link it is.
          }
          return !excludedName(name, isDir)
        },
      })
    }
    await copyInto(opts.functionModules ?? [], fnDir)
    if (opts.language === 'python') {
      // SeBS's function code does `from . import storage`: function/ must be a package.
      const init = join(fnDir, '__init__.py')
      if (!existsSync(init)) await writeFile(init, '')
    }

    const scripts = initScripts(opts)
    if (scripts.length > 0) {
      await requireTool('bash', 'Install bash (apt-get install bash): benchmarks with init.sh need it.')
      for (const script of scripts) {
        // SeBS passes the directory that holds the function's code, a verbosity flag and the architecture.
        await runCommand('bash', ['init.sh', fnDir, 'false', opts.arch], { cwd: dirname(script), timeoutMs })
      }
    }

    const installStarted = performance.now()
    if (opts.language === 'nodejs') await installNode(opts, ctx, fnDir, timeoutMs, onLine)
    else await installPython(opts, ctx, tmp, fnDir, timeoutMs, onLine)
    installMs = performance.now() - installStarted

    const sizeBytes = await directorySize(tmp)
    const buildTimeMs = performance.now() - started
    const meta: PackageMetadata = {
      formatVersion: BUILD_FORMAT_VERSION,
      hash,
      builtAt: new Date().toISOString(),
      buildTimeMs: Math.round(buildTimeMs),
      sizeBytes,
      benchmark: opts.benchmark.id,
      language: opts.language,
      provider: opts.provider,
      arch: opts.arch,
      runtimeVersion: opts.runtimeVersion,
    }
    await writeFile(join(tmp, PACKAGE_METADATA_FILE), JSON.stringify(meta, null, 2) + '\n')
    await publish(tmp, finalDir)
    await pruneSiblings(parent, hash)
    step.stop()
    ctx.logger.info(`built ${label} in ${formatDuration(buildTimeMs)}, ${formatBytes(sizeBytes)} (dependency install ${formatDuration(installMs)})`)
    return { dir: finalDir, hash, cached: false, sizeBytes }
  } catch (err) {
    step.stop()
    await rm(tmp, { recursive: true, force: true }).catch(() => {})
    // Benchmark-layout errors already name the file; everything else gets the benchmark and language.
    if (err instanceof BenchmarkError) throw err
    const code = err instanceof SebsError ? err.code : 'BUILD_FAILED'
    throw new SebsError(code, `Could not build ${label}: ${errorMessage(err)}`, { cause: err })
  }
}

/**
 * Moves a finished build into place. `rename` of a directory is atomic, so a
 * reader sees either no package or a complete one. An existing directory (a
 * forced rebuild, or a stale dir without metadata) is first moved aside.
 * When a concurrent builder won the race, its identical package is kept.
 */
async function publish(tmp: string, finalDir: string): Promise<void> {
  if (existsSync(finalDir)) {
    const aside = `${finalDir}.old-${process.pid}-${randomBytes(4).toString('hex')}`
    try {
      await rename(finalDir, aside)
    } catch {
      // Someone else moved or removed it meanwhile: fine, the rename below decides.
    }
    await rm(aside, { recursive: true, force: true }).catch(() => {})
  }
  try {
    await rename(tmp, finalDir)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if ((code === 'ENOTEMPTY' || code === 'EEXIST') && (await readMetadata(finalDir))) {
      await rm(tmp, { recursive: true, force: true })
      return
    }
    throw err
  }
}
