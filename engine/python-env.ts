/**
 * The managed Python environment SeBS-format `input.py` files run in (main
 * process at setup; bench workers only look it up for `validate_output`).
 *
 * SeBS runs its input generators inside its own tool's virtualenv, so they
 * may import what that tool installs (Pillow, numpy, scipy, pandas, …). We
 * give them the same: a `python -m venv` under `<cacheDir>/python-env/<key>/`
 * holding SeBS's generator packages plus whatever the benchmark declares in
 * `input-requirements.txt` beside its `input.py`. The key covers the
 * interpreter (version, ABI, machine, base prefix), the requirement set and
 * pip's index settings, so the environment is created once and reused by
 * every later run. Built-in benchmarks (`input.ts`) never come here.
 *
 * Where a package cannot be installed (no index reachable, or the index does
 * not have it), a SeBS package is recorded as missing (one warning, and a
 * clear error naming it if `input.py` then imports it); a package the
 * benchmark declared fails that benchmark with DEPENDENCY_UNAVAILABLE.
 */
import { execFile } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { BenchmarkError, ConfigError, SebsError, errorMessage } from '../core/errors.ts'
import type { Logger } from '../core/logger.ts'
import { withProgress } from '../core/progress.ts'
import { indexFromConfig, indexUnreachable, interpreterTag, pipIndexEnv } from '../providers/packaging/pip-cache.ts'
import { findExecutable, meaningfulLines, pidAlive, runCommand } from '../providers/packaging/run-command.ts'

/**
 * What SeBS installs for its input generators and validators, taken from
 * spcl/serverless-benchmarks `pyproject.toml` at version 1.2.1 (commit
 * 1556477d383c023f17da3112489ca38399674c96; the same numeric stack as its
 * root `requirements.txt`): `requests`, `pandas>=1.1.3`, `numpy`, `scipy`
 * ("core"), `Pillow` ("benchmark verification - process image") and
 * `imageio-ffmpeg>=0.4.9` ("benchmark verification - video processing").
 * Left out: what only the tool itself uses (docker, click, rich, pycurl,
 * testtools, tzlocal, the cloud SDKs and minio): generators reach storage
 * through `upload_func`, never through a client of their own.
 */
export const SEBS_INPUT_REQUIREMENTS = ['numpy', 'scipy', 'pandas>=1.1.3', 'Pillow', 'requests', 'imageio-ffmpeg>=0.4.9'] as const

/** The file beside `input.py` where a benchmark declares extra generator requirements (pip's requirements format). */
export const INPUT_REQUIREMENTS_FILE = 'input-requirements.txt'

/** An interpreter used as it is for every input.py, instead of the managed environment. */
export const INPUT_PYTHON_ENV = 'SEBS_INPUT_PYTHON'
/** A requirements file that replaces SEBS_INPUT_REQUIREMENTS (a smaller or pinned set; empty: no environment). */
export const INPUT_REQUIREMENTS_ENV = 'SEBS_INPUT_REQUIREMENTS'

/** Marks a created environment as complete. */
export const PYTHON_ENV_COMPLETE = '.sebs-input-env.json'
/** Bump when the layout of an environment changes. */
const PYTHON_ENV_FORMAT = 1
const INSTALL_TIMEOUT_MS = 20 * 60_000

/** Import names of SeBS's packages whose module is not the package's name. */
const MODULE_OF: Record<string, string> = { pillow: 'PIL', 'imageio-ffmpeg': 'imageio_ffmpeg' }

/** A requirement that could not be installed. */
export interface MissingPackage {
  /** The requirement line (`pandas>=1.1.3`). */
  requirement: string
  /** The module `input.py` would import (`PIL` for Pillow). */
  module: string
  /** pip's own reason (its error lines). */
  why: string
}

/** The interpreter an input.py runs with, and what its environment lacks. */
export interface InputPython {
  python: string
  /** The environment's folder; undefined when an interpreter is used as it is. */
  dir?: string
  /** SeBS packages that could not be installed into it. */
  missing: MissingPackage[]
  /** Where pip looked, for messages (`https://pypi.org/simple, extra file:///…`). */
  sources?: string
}

export interface InputPythonOptions {
  /** The base interpreter (config `runtimes.python`). */
  python: string
  cacheDir: string
  logger: Logger
  /** Retry the packages an existing environment lacks (`--force`). */
  force?: boolean
  /** Heartbeat interval of the progress lines. */
  heartbeatMs?: number
}

interface EnvMarker {
  format: number
  python: string
  requirements: string[]
  missing: MissingPackage[]
  sources: string
  createdAt: string
}

/** Requirement lines that install something (not blank, not comments). */
export function requirementLines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.replace(/(^|\s)#.*$/, '').trim())
    .filter((l) => l.length > 0)
}

/** The distribution name of a requirement line (`pandas>=1.1.3` → `pandas`), lower-case. */
export function requirementName(line: string): string {
  return (/^\s*([A-Za-z0-9][A-Za-z0-9._-]*)/.exec(line)?.[1] ?? line).toLowerCase().replace(/_/g, '-')
}

/** The module a requirement provides, as far as we can tell without installing it. */
export function moduleOf(requirement: string): string {
  const name = requirementName(requirement)
  return MODULE_OF[name] ?? name.replace(/[-.]/g, '_')
}

/** SeBS's generator requirements, or the file SEBS_INPUT_REQUIREMENTS names. */
async function baseRequirements(): Promise<string[]> {
  const file = process.env[INPUT_REQUIREMENTS_ENV]
  if (file === undefined || file === '') return [...SEBS_INPUT_REQUIREMENTS]
  try {
    return requirementLines(await readFile(file, 'utf8'))
  } catch (err) {
    throw new SebsError(
      'CONFIG_INVALID',
      `${INPUT_REQUIREMENTS_ENV}=${file}: cannot read it (${errorMessage(err)}). Point it at a requirements file for input.py's environment, or unset it to use SeBS's set.`,
      { cause: err },
    )
  }
}

/** The benchmark's own generator requirements (`input-requirements.txt` beside input.py). */
async function declaredRequirements(inputPath: string): Promise<{ file?: string; lines: string[] }> {
  const file = join(dirname(inputPath), INPUT_REQUIREMENTS_FILE)
  if (!existsSync(file)) return { lines: [] }
  return { file, lines: requirementLines(await readFile(file, 'utf8')) }
}

/** The interpreter's tag (pip-cache.ts), with a missing or broken interpreter worded for input.py. */
function inputInterpreterTag(python: string): Promise<string> {
  return interpreterTag(python).catch((err: unknown) => {
    const code = (err as NodeJS.ErrnoException).code
    throw new SebsError(
      'TOOL_MISSING',
      code === 'ENOENT'
        ? `Python interpreter '${python}' not found, needed to run input.py (a SeBS-format benchmark). Install Python 3 or set runtimes.python in sebs.config.ts.`
        : `Python interpreter '${python}' cannot run: ${errorMessage(err)}. Set runtimes.python in sebs.config.ts to a working Python 3.`,
      { cause: err },
    )
  })
}

/** What decides the environment's contents. */
async function envKey(python: string, requirements: string[]): Promise<string> {
  const material = JSON.stringify({
    format: PYTHON_ENV_FORMAT,
    interpreter: await inputInterpreterTag(python),
    requirements: [...requirements].sort(),
    env: pipIndexEnv(),
  })
  return createHash('sha256').update(material).digest('hex').slice(0, 16)
}

/** Where pip looks, as one line for messages: the index, extra indexes and find-links (environment and config files). */
async function pipSources(python: string): Promise<string> {
  let listing = ''
  try {
    listing = await execText(python, ['-m', 'pip', 'config', 'list'])
  } catch {
    // An old pip without `config`: the environment and PyPI.
  }
  const env = (name: string) => process.env[name]?.split(/\s+/).filter(Boolean) ?? []
  const fromConfig = (key: string): string[] => {
    const out: string[] = []
    for (const line of listing.split('\n')) {
      const m = new RegExp(`^[^=\\s]*\\.${key}='(.*)'$`).exec(line.trim())
      if (m) out.push(...m[1]!.split(/\s+/).filter(Boolean))
    }
    return out
  }
  const noIndex = process.env.PIP_NO_INDEX && !/^(0|false|no|off)$/i.test(process.env.PIP_NO_INDEX)
  const index = noIndex ? undefined : (indexFromConfig(listing) ?? process.env.PIP_INDEX_URL ?? 'https://pypi.org/simple')
  const extras = [...new Set([...env('PIP_EXTRA_INDEX_URL'), ...fromConfig('extra-index-url')])]
  const links = [...new Set([...env('PIP_FIND_LINKS'), ...fromConfig('find-links')])]
  const parts = [index ? `index ${index}` : 'no index (--no-index)']
  if (extras.length) parts.push(`extra index ${extras.join(' ')}`)
  if (links.length) parts.push(`find-links ${links.join(' ')}`)
  return parts.join(', ')
}

/** How to get past a package that cannot be installed. */
function fixHint(): string {
  return (
    `Point pip at an index that has it (PIP_INDEX_URL=URL, or 'pip config set global.index-url URL'), ` +
    `or install what input.py needs into a Python of your own and set ${INPUT_PYTHON_ENV}=/path/to/that/python to run input.py with it.`
  )
}

const pending = new Map<string, Promise<InputPython>>()

/**
 * The Python that runs this benchmark's `input.py`: the managed environment
 * for its requirement set (created now on first use, with progress lines),
 * the interpreter `SEBS_INPUT_PYTHON` names, or the base interpreter when the
 * set is empty. Throws DEPENDENCY_UNAVAILABLE (naming the packages, where
 * pip looked and the fix) when a package the benchmark declares cannot be
 * installed; SeBS's own packages that cannot be installed are reported in
 * `missing` and warned about once.
 */
export async function inputPython(inputPath: string, options: InputPythonOptions): Promise<InputPython> {
  const override = process.env[INPUT_PYTHON_ENV]
  if (override) {
    if (!findExecutable(override)) {
      throw new ConfigError(
        'CONFIG_INVALID',
        `${INPUT_PYTHON_ENV}=${override}: ${override.includes('/') ? 'is not an executable file' : 'was not found on PATH'}. Point it at the Python that should run input.py, or unset it to use the managed environment.`,
      )
    }
    return { python: override, missing: [] }
  }
  const base = await baseRequirements()
  const declared = await declaredRequirements(inputPath)
  const requirements = [...base, ...declared.lines]
  if (requirements.length === 0) return { python: options.python, missing: [] }
  const key = await envKey(options.python, requirements)
  let env = pending.get(key)
  if (!env) {
    env = ensureEnvironment(key, requirements, new Set(declared.lines), options)
    pending.set(key, env)
    // A failed attempt is not remembered: the next benchmark (or run) tries again.
    env.catch(() => pending.delete(key))
  }
  const result = await env
  const failedDeclared = result.missing.filter((m) => declared.lines.includes(m.requirement))
  if (failedDeclared.length > 0) throw declaredUnavailable(inputPath, declared.file!, failedDeclared, result.sources ?? '')
  return result
}

function declaredUnavailable(inputPath: string, file: string, missing: MissingPackage[], sources: string): BenchmarkError {
  const names = missing.map((m) => `'${m.requirement}'`).join(', ')
  return new BenchmarkError(
    'DEPENDENCY_UNAVAILABLE',
    inputPath,
    `the Python package${missing.length > 1 ? 's' : ''} ${names} that ${file} declares cannot be installed for input generation (pip looked in: ${sources}).\n` +
      `${missing.map((m) => `${m.requirement}: ${m.why}`).join('\n')}\n${fixHint()}`,
  )
}

async function readMarker(dir: string): Promise<EnvMarker | undefined> {
  try {
    const marker = JSON.parse(await readFile(join(dir, PYTHON_ENV_COMPLETE), 'utf8')) as EnvMarker
    return marker.format === PYTHON_ENV_FORMAT ? marker : undefined
  } catch {
    return undefined
  }
}

function venvPython(dir: string): string {
  return join(dir, 'bin', 'python')
}

async function ensureEnvironment(key: string, requirements: string[], declared: Set<string>, options: InputPythonOptions): Promise<InputPython> {
  const root = join(options.cacheDir, 'python-env')
  const dir = join(root, key)
  const existing = await readMarker(dir)
  if (existing && existsSync(venvPython(dir))) {
    // Declared packages fail their benchmark, so they are tried again on every run; SeBS's own on --force.
    const retry = existing.missing.filter((m) => options.force || declared.has(m.requirement))
    if (retry.length === 0) {
      options.logger.debug(`input.py environment ${dir} (cached)`)
      warnMissing(options.logger, dir, existing.missing, existing.sources, declared)
      return { python: venvPython(dir), dir, missing: existing.missing, sources: existing.sources }
    }
    // Try again what could not be installed last time, in place.
    const again = await withProgress(
      options.logger,
      `python environment for input.py: installing ${retry.map((m) => m.requirement).join(', ')} (missing last time) into ${dir}`,
      (step) => install(dir, retry.map((m) => m.requirement), options, 'retrying', (line) => step.update(line)),
      (m) => `python environment for input.py: ${retry.length - m.length} of ${retry.length} missing package(s) installed`,
      { heartbeatMs: options.heartbeatMs },
    )
    const missing = [...existing.missing.filter((m) => !retry.includes(m)), ...again]
    const marker: EnvMarker = { ...existing, missing }
    await writeFile(join(dir, PYTHON_ENV_COMPLETE), JSON.stringify(marker, null, 2) + '\n')
    warnMissing(options.logger, dir, missing, existing.sources, declared)
    return { python: venvPython(dir), dir, missing, sources: existing.sources }
  }

  await mkdir(root, { recursive: true })
  await removeDeadTemporaries(root, key, options.logger)
  const tmp = join(root, `${key}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`)
  try {
    const sources = await pipSources(options.python)
    const names = requirements.map(requirementName)
    const label = `python environment for input.py: installing ${names.length} package(s) (${names.join(', ')}) into ${dir}`
    const missing = await withProgress(
      options.logger,
      label,
      async (step) => {
        try {
          // Without a pip of its own when the base interpreter's pip can install into it (pip --python):
          // ensurepip is most of a venv's creation time.
          const ownPip = !(await pipCanTarget(options.python))
          await runCommand(options.python, ['-m', 'venv', ...(ownPip ? [] : ['--without-pip']), tmp], { cwd: root, timeoutMs: 5 * 60_000 })
        } catch (err) {
          throw new SebsError(
            'TOOL_MISSING',
            `cannot create a Python virtual environment for input.py with '${options.python} -m venv' (${errorMessage(err).split('\n').slice(-3).join(' ')}). ` +
              `Install the venv module (Debian/Ubuntu: apt-get install python3-venv), or set ${INPUT_PYTHON_ENV}=/path/to/python to run input.py with an interpreter that has its packages.`,
            { cause: err },
          )
        }
        return install(tmp, requirements, options, 'installing', (line) => step.update(line))
      },
      (m) => `python environment for input.py ready (${requirements.length - m.length} of ${requirements.length} package(s) installed)`,
      { heartbeatMs: options.heartbeatMs },
    )
    const marker: EnvMarker = { format: PYTHON_ENV_FORMAT, python: options.python, requirements, missing, sources, createdAt: new Date().toISOString() }
    await writeFile(join(tmp, PYTHON_ENV_COMPLETE), JSON.stringify(marker, null, 2) + '\n')
    await rm(dir, { recursive: true, force: true })
    try {
      // The venv keeps working after the move: its interpreter finds pyvenv.cfg beside itself, and we only ever run `python -m`.
      await rename(tmp, dir)
    } catch (err) {
      // Another run created the same environment meanwhile: use theirs.
      if (!(await readMarker(dir))) throw err
      const theirs = (await readMarker(dir))!
      warnMissing(options.logger, dir, theirs.missing, theirs.sources, declared)
      return { python: venvPython(dir), dir, missing: theirs.missing, sources: theirs.sources }
    }
    warnMissing(options.logger, dir, missing, sources, declared)
    return { python: venvPython(dir), dir, missing, sources }
  } finally {
    await rm(tmp, { recursive: true, force: true })
  }
}

/** Half-made environments of runs that were killed while creating one (their pid is gone). */
async function removeDeadTemporaries(root: string, key: string, logger: Logger): Promise<void> {
  for (const name of await readdir(root)) {
    const m = new RegExp(`^${key}\\.tmp-(\\d+)-[0-9a-f]+$`).exec(name)
    if (!m || pidAlive(Number(m[1]))) continue
    logger.debug(`removing ${join(root, name)}, left by process ${m[1]}`)
    await rm(join(root, name), { recursive: true, force: true })
  }
}

/** One warning per process and environment for SeBS packages it lacks (declared ones fail their benchmark instead). */
const warned = new Set<string>()
function warnMissing(logger: Logger, dir: string, missing: MissingPackage[], sources: string, declared: Set<string>): void {
  const sebs = missing.filter((m) => !declared.has(m.requirement))
  if (sebs.length === 0 || warned.has(dir)) return
  warned.add(dir)
  logger.warn(
    `input.py environment ${dir} lacks ${sebs.map((m) => m.requirement).join(', ')} (not installable from ${sources}); ` +
      `an input.py that imports ${sebs.length > 1 ? 'one of them' : 'it'} fails with a message naming it. Run with --force to try again.`,
  )
}

/**
 * Installs `requirements` with the environment's pip: all at once, and when
 * that fails, one by one, so that one package the index lacks does not keep
 * the others out. Returns the requirements that could not be installed.
 */
async function install(dir: string, requirements: string[], options: InputPythonOptions, verb: string, onLine?: (line: string) => void): Promise<MissingPackage[]> {
  const python = venvPython(dir)
  const pipCommand = (await pipCanTarget(options.python))
    ? { cmd: options.python, args: ['-m', 'pip', '--python', python] }
    : { cmd: python, args: ['-m', 'pip'] }
  // An unreachable index is probed once (pip-cache.ts) and then not retried by every pip run.
  const retries = (await indexUnreachable({ python: options.python, extraArgs: [], logger: options.logger })) ? ['--retries', '0'] : []
  // Unbuffered: pip's lines reach the heartbeat as they come, not all at the end.
  const env = { ...process.env, PIP_NO_INPUT: '1', PIP_DISABLE_PIP_VERSION_CHECK: '1', PYTHONUNBUFFERED: '1' }
  const pip = (reqs: string[]) =>
    runCommand(pipCommand.cmd, [...pipCommand.args, 'install', '--disable-pip-version-check', '--no-input', ...retries, ...reqs], {
      cwd: dir,
      env,
      timeoutMs: INSTALL_TIMEOUT_MS,
      onLine,
    })
  try {
    await pip(requirements)
    return []
  } catch (err) {
    if (requirements.length === 1) return [missingFrom(requirements[0]!, err)]
    options.logger.debug(`${verb} ${requirements.join(' ')} together failed; one by one now: ${errorMessage(err)}`)
  }
  const missing: MissingPackage[] = []
  for (const requirement of requirements) {
    onLine?.(`${verb} ${requirement}`)
    try {
      await pip([requirement])
    } catch (err) {
      missing.push(missingFrom(requirement, err))
    }
  }
  return missing
}

const pipTargets = new Map<string, Promise<boolean>>()

/** Whether the interpreter's own pip can install into another environment (`pip --python`, pip 22.3 and later). */
function pipCanTarget(python: string): Promise<boolean> {
  let can = pipTargets.get(python)
  if (!can) {
    can = execText(python, ['-m', 'pip', '--version']).then(
      (out) => {
        const [major = 0, minor = 0] = (/^pip (\d+)\.(\d+)/.exec(out)?.slice(1) ?? []).map(Number)
        return major > 22 || (major === 22 && minor >= 3)
      },
      () => false,
    )
    pipTargets.set(python, can)
  }
  return can
}

function missingFrom(requirement: string, err: unknown): MissingPackage {
  const message = errorMessage(err)
  // runCommand's message: the command line, then pip's meaningful lines.
  const lines = message.split('\n').slice(1).join('\n')
  return { requirement, module: moduleOf(requirement), why: meaningfulLines(lines || message).split('\n').slice(-3).join(' ') }
}

/**
 * The error for an input.py that failed on `import <module>`, when the
 * environment lacks the package that provides it (or never had it): names
 * the package, where pip looked and the fix. Undefined when the module is
 * not one we know of.
 */
export function missingModuleError(inputPath: string, module: string, env: InputPython | undefined): BenchmarkError | undefined {
  if (!env) return undefined
  const top = module.split('.')[0]!
  const gone = env.missing.find((m) => m.module === top)
  if (gone) {
    return new BenchmarkError(
      'DEPENDENCY_UNAVAILABLE',
      inputPath,
      `imports '${top}' from the Python package '${gone.requirement}', which could not be installed into input.py's environment ${env.dir} ` +
        `(pip looked in: ${env.sources}; ${gone.why}). ${fixHint()} Then run again with --force.`,
    )
  }
  if (env.dir) {
    return new BenchmarkError(
      'DEPENDENCY_UNAVAILABLE',
      inputPath,
      `imports '${top}', which input.py's environment ${env.dir} does not have. Declare the package that provides it in ` +
        `${join(dirname(inputPath), INPUT_REQUIREMENTS_FILE)} (one requirement per line, as in requirements.txt), or set ${INPUT_PYTHON_ENV}=/path/to/python to use an interpreter that has it.`,
    )
  }
  return undefined
}

function execText(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 60_000, encoding: 'utf8' }, (err, stdout) => (err ? reject(err) : resolve(stdout)))
  })
}
