/**
 * Python dependencies installed once per distinct requirement set (main
 * process, while packages are built): `pip install --target` runs into a
 * content-addressed directory under `<cacheDir>/pip/<key>/`, and every
 * package that needs the same set gets it linked in (hard links; copies
 * where the file system refuses them). Five SeBS benchmarks install the same
 * storage client (boto3, ≈ 25 MB, one pip run each); with this, a first
 * `npm run bench` runs pip once for them.
 *
 * Before the first install of a process, the index pip is configured to use
 * is probed once: when it cannot be reached (machines without PyPI, with
 * wheels from `find-links` or an extra index), one warning names it and pip
 * runs with `--retries 0`, instead of every install waiting through pip's
 * retries for an index that will not answer.
 */
import { execFile } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { copyFile, link, mkdir, readdir, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { errorMessage } from '../../core/errors.ts'
import type { Logger } from '../../core/logger.ts'

/** Bump when the layout of a cached set changes. */
const PIP_CACHE_FORMAT = 1
/** Marks a cached set as complete. */
export const PIP_SET_COMPLETE = '.sebs-pip-set.json'
const DEFAULT_INDEX = 'https://pypi.org/simple'
const PROBE_TIMEOUT_MS = 5000

export interface SharedPipInstall {
  /** The interpreter whose pip installs (its version is part of the key). */
  python: string
  /** Requirement lines, as pip reads them from a requirements file. */
  requirements: string[]
  /** Extra pip arguments (index URLs, platform pins): part of the key. */
  extraArgs: string[]
  /** Directory the set is linked into (the package's pip --target). */
  target: string
  cacheDir: string
  logger: Logger
  /** Runs pip: `args` start with `-m pip install`. */
  run: (args: string[], env: NodeJS.ProcessEnv) => Promise<unknown>
}

/**
 * Makes `target` hold the installed requirement set, installing it into the
 * shared cache first unless it is there. Returns whether pip ran.
 */
export async function installShared(req: SharedPipInstall): Promise<{ installed: boolean; key: string; dir: string }> {
  const key = await pipSetKey(req)
  const root = join(req.cacheDir, 'pip')
  const dir = join(root, key)
  let installed = false
  if (!existsSync(join(dir, PIP_SET_COMPLETE))) {
    await mkdir(root, { recursive: true })
    const tmp = join(root, `${key}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`)
    const reqFile = `${tmp}.txt`
    try {
      await writeFile(reqFile, req.requirements.join('\n') + '\n')
      const retries = (await indexUnreachable(req)) ? ['--retries', '0'] : []
      await req.run(
        ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', '--target', tmp, '-r', reqFile, ...retries, ...req.extraArgs],
        { ...process.env, PIP_NO_INPUT: '1', PIP_DISABLE_PIP_VERSION_CHECK: '1' },
      )
      await writeFile(join(tmp, PIP_SET_COMPLETE), JSON.stringify({ format: PIP_CACHE_FORMAT, requirements: req.requirements, extraArgs: req.extraArgs }) + '\n')
      await rm(dir, { recursive: true, force: true })
      try {
        await rename(tmp, dir)
        installed = true
      } catch (err) {
        // Another build installed the same set meanwhile: use theirs.
        if (!existsSync(join(dir, PIP_SET_COMPLETE))) throw err
      }
    } finally {
      await rm(tmp, { recursive: true, force: true })
      await rm(reqFile, { force: true })
    }
  } else {
    req.logger.debug(`python dependencies from the shared cache ${dir}`)
  }
  await linkTree(dir, req.target)
  return { installed, key, dir }
}

/** What decides the installed files: the requirement lines (order aside), pip's arguments, the interpreter and pip's index settings. */
async function pipSetKey(req: SharedPipInstall): Promise<string> {
  const material = JSON.stringify({
    format: PIP_CACHE_FORMAT,
    requirements: [...req.requirements].map((l) => l.trim()).filter(Boolean).sort(),
    extraArgs: req.extraArgs,
    interpreter: await interpreterTag(req.python).catch((err: unknown) => `unknown (${errorMessage(err)})`),
    env: pipIndexEnv(),
  })
  return createHash('sha256').update(material).digest('hex').slice(0, 16)
}

/** pip's index and resolution variables (`NAME=value`, sorted): what they say changes what pip installs. */
export function pipIndexEnv(): string[] {
  return Object.keys(process.env)
    .filter((k) => /^PIP_(INDEX_URL|EXTRA_INDEX_URL|FIND_LINKS|NO_INDEX|CONSTRAINT|ONLY_BINARY|NO_BINARY|PLATFORM|PREFER_BINARY|CONFIG_FILE)$/.test(k))
    .sort()
    .map((k) => `${k}=${process.env[k]}`)
}

const interpreterTags = new Map<string, Promise<string>>()

/**
 * Version, ABI, machine and installation of an interpreter (wheels differ by
 * the first three; a venv is tied to all four), asked once per process.
 * Rejects when the interpreter cannot run; callers word that for their use.
 */
export function interpreterTag(python: string): Promise<string> {
  let tag = interpreterTags.get(python)
  if (!tag) {
    tag = execText(python, ['-c', 'import sys, platform, sysconfig; print(sys.version, platform.machine(), sysconfig.get_config_var("SOABI"), sys.base_prefix)'])
    tag.catch(() => interpreterTags.delete(python))
    interpreterTags.set(python, tag)
  }
  return tag
}

const probes = new Map<string, Promise<boolean>>()

/**
 * Whether the index pip will use cannot be reached; probed once per index
 * and process, and said once. `--no-index` and file indexes are not probed
 * over the network.
 */
export async function indexUnreachable(req: Pick<SharedPipInstall, 'python' | 'extraArgs' | 'logger'>): Promise<boolean> {
  const index = await configuredIndex(req.python, req.extraArgs)
  if (index === undefined) return false
  let probe = probes.get(index)
  if (!probe) {
    probe = probeIndex(index).then((problem) => {
      if (problem === undefined) return false
      req.logger.warn(
        `pip's package index ${index} cannot be reached (${problem}); Python dependencies install from the other configured sources ` +
          `(extra indexes, find-links) without retrying it. Point pip at a reachable index (PIP_INDEX_URL, or 'pip config set global.index-url URL') to silence this.`,
      )
      return true
    })
    probes.set(index, probe)
  }
  return probe
}

/** The index URL pip uses: `-i`/`--index-url` in the arguments, else pip's configuration (environment, config files), else PyPI; undefined with --no-index. */
export async function configuredIndex(python: string, extraArgs: string[]): Promise<string | undefined> {
  for (let i = 0; i < extraArgs.length; i++) {
    const a = extraArgs[i]!
    if (a === '--no-index') return undefined
    if ((a === '-i' || a === '--index-url') && extraArgs[i + 1]) return extraArgs[i + 1]
    if (a.startsWith('--index-url=')) return a.slice('--index-url='.length)
  }
  if (process.env.PIP_NO_INDEX && !/^(0|false|no|off)$/i.test(process.env.PIP_NO_INDEX)) return undefined
  let config = ''
  try {
    config = await execText(python, ['-m', 'pip', 'config', 'list'])
  } catch {
    // No pip config command (old pip): PyPI unless the environment says otherwise.
  }
  return indexFromConfig(config) ?? process.env.PIP_INDEX_URL ?? DEFAULT_INDEX
}

/** `pip config list` lines (`global.index-url='…'`, `:env:.index-url='…'`): the index, the environment's first. */
export function indexFromConfig(listing: string): string | undefined {
  let found: string | undefined
  for (const line of listing.split('\n')) {
    const m = /^([^=\s]*)\.index-url='(.*)'$/.exec(line.trim())
    if (!m) continue
    if (m[1] === ':env:') return m[2]
    found ??= m[2]
  }
  return found
}

/** Undefined when the index answers (any HTTP status) or its directory exists; else why not. */
export async function probeIndex(index: string): Promise<string | undefined> {
  if (index.startsWith('file:')) {
    try {
      return existsSync(fileURLToPath(index)) ? undefined : 'no such directory'
    } catch (err) {
      return errorMessage(err)
    }
  }
  try {
    await fetch(index, { method: 'HEAD', signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) })
    return undefined
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause
    if ((err as Error).name === 'TimeoutError') return `no answer within ${PROBE_TIMEOUT_MS / 1000} s`
    return cause?.code ?? cause?.message ?? errorMessage(err)
  }
}

/** Recreates `from`'s tree in `to` with hard links (copies across file systems), keeping symlinks as they are. */
export async function linkTree(from: string, to: string): Promise<void> {
  await mkdir(to, { recursive: true })
  for (const entry of await readdir(from, { withFileTypes: true })) {
    if (entry.name === PIP_SET_COMPLETE) continue
    const src = join(from, entry.name)
    const dst = join(to, entry.name)
    if (entry.isDirectory()) await linkTree(src, dst)
    else if (entry.isSymbolicLink()) await symlink(await readlink(src), dst)
    else {
      try {
        await link(src, dst)
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code
        if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'EMLINK') throw err
        await copyFile(src, dst)
      }
    }
  }
}

function execText(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 60_000, encoding: 'utf8' }, (err, stdout) => (err ? reject(err) : resolve(stdout)))
  })
}
