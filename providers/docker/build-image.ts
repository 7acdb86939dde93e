/**
 * Dependency installs inside an image that matches the target runtime
 * (Amazon Linux for Lambda, …), so that native modules are built and chosen
 * for that platform rather than for the machine that builds. Used by the
 * cloud packagers when a Docker engine is available.
 *
 * The package directory is bind-mounted read-write at /package (the working
 * directory); each command runs in its own throwaway container on the host
 * network, so registries and package indexes are reached as from the host.
 * The host's pip settings (index URLs, find-links, constraints, certificate)
 * are passed on as PIP_* variables, and the local directories they name are
 * mounted read-only at the same paths: an offline machine with an on-disk
 * index installs in the container exactly what it installs on the host.
 */
import { execFile } from 'node:child_process'
import { existsSync, statSync } from 'node:fs'
import { dirname, isAbsolute, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ProviderError, errorMessage } from '../../core/errors.ts'
import type { Logger } from '../../core/logger.ts'
import type { Language } from '../../core/types.ts'
import { BASE_IMAGE_REPOSITORY } from './base-image.ts'
import { requireDocker } from './client.ts'
import { baseImageHint, imageExists, pullImage } from './images.ts'
import { tailLines } from '../../core/format.ts'
import { runContainer } from './run.ts'

/** Where the package directory is mounted in the build container. */
export const BUILD_MOUNT = '/package'

export interface InstallInImageOptions {
  /** The build image (e.g. `public.ecr.aws/sam/build-python3.11`, or an offline `sebs-base:…`). */
  image: string
  /** Host directory of the package; mounted read-write at /package, the working directory. */
  packageDir: string
  language: Language
  /** Commands in exec form, run in order, e.g. `[['pip','install','-r','requirements.txt','--target','.']]`. */
  commands: string[][]
  /** Per command. */
  timeoutMs: number
  /** Extra environment for the commands. */
  env?: Record<string, string>
  /** Pass the host's pip / npm registry settings on (default true). */
  forwardPackageSettings?: boolean
  /** Try `docker pull` when the image is missing (default true). */
  pull?: boolean
  logger?: Logger
}

/**
 * Runs the install commands in `image` with the package bind-mounted.
 * Resolves with the output of all commands; rejects with TOOL_MISSING (no
 * engine: the caller falls back to the host), DEPLOY_FAILED (image missing,
 * with how to get it), BUILD_FAILED (a command failed, with its output) or
 * TIMEOUT.
 */
export async function installDependenciesInImage(opts: InstallInImageOptions): Promise<{ logs: string }> {
  const packageDir = resolve(opts.packageDir)
  if (!existsSync(packageDir) || !statSync(packageDir).isDirectory()) {
    throw new ProviderError('docker', 'BUILD_FAILED', `cannot install dependencies in ${opts.image}: ${packageDir} is not a directory`)
  }
  if (opts.commands.length === 0 || opts.commands.some((c) => c.length === 0)) {
    throw new ProviderError('docker', 'BUILD_FAILED', 'installDependenciesInImage needs at least one non-empty command')
  }
  const docker = await requireDocker(`installing ${opts.language} dependencies in ${opts.image}`)

  if (!(await imageExists(docker, opts.image))) {
    const isBase = opts.image.startsWith(`${BASE_IMAGE_REPOSITORY}:`)
    let why = isBase ? 'it is built locally, not pulled' : 'pulling is disabled'
    if (!isBase && opts.pull !== false) {
      try {
        opts.logger?.info(`pulling build image ${opts.image}…`)
        await pullImage(docker, opts.image)
        why = ''
      } catch (err) {
        why = `it could not be pulled: ${errorMessage(err)}`
      }
    }
    if (why) {
      throw new ProviderError(
        'docker',
        'DEPLOY_FAILED',
        `the build image ${opts.image} is not in the Docker engine and ${why}. ` +
          (isBase
            ? `${baseImageHint(opts.language)}.`
            : `Pull it (\`docker pull ${opts.image}\`) on a machine that can, or configure another build image ` +
              `(an offline \`sebs-base:…\` image from \`npx sebs docker base\` works as a stand-in).`),
      )
    }
  }

  const settings = opts.forwardPackageSettings === false ? { env: {}, binds: [] } : await hostPackageSettings(opts.language)
  const env: Record<string, string> = {
    // Any uid can write there; caches stay inside the throwaway container.
    HOME: '/tmp',
    PIP_NO_INPUT: '1',
    PIP_DISABLE_PIP_VERSION_CHECK: '1',
    PIP_ROOT_USER_ACTION: 'ignore',
    npm_config_update_notifier: 'false',
    npm_config_fund: 'false',
    npm_config_audit: 'false',
    ...settings.env,
    ...(opts.env ?? {}),
  }
  const binds = [`${packageDir}:${BUILD_MOUNT}`, ...settings.binds]
  // Files written into the package belong to the user who builds, not to root.
  const uid = process.getuid?.()
  const user = uid !== undefined && uid !== 0 ? `${uid}:${process.getgid?.() ?? uid}` : undefined

  let logs = ''
  for (const cmd of opts.commands) {
    opts.logger?.debug(`in ${opts.image}: ${cmd.join(' ')}`)
    const result = await runContainer(docker, {
      image: opts.image,
      cmd,
      kind: 'build',
      env,
      binds,
      workingDir: BUILD_MOUNT,
      ...(user ? { user } : {}),
      timeoutMs: opts.timeoutMs,
    })
    logs += `$ ${cmd.join(' ')}\n${result.logs}`
    if (result.exitCode !== 0) {
      throw new ProviderError(
        'docker',
        'BUILD_FAILED',
        `\`${cmd.join(' ')}\` in ${opts.image} exited with code ${result.exitCode}` +
          `${result.oomKilled ? ' (out of memory)' : ''}; its output ends with:\n${tailLines(result.logs, 30, '…')}`,
      )
    }
  }
  return { logs }
}

// ---------------------------------------------------------------------------
// Host package settings

export interface PackageSettings {
  env: Record<string, string>
  /** `host:container:ro` binds of the local paths the settings name. */
  binds: string[]
}

function run(command: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolvePromise) => {
    execFile(command, args, { timeout: timeoutMs }, (err, stdout) => resolvePromise(err ? '' : stdout))
  })
}

/** `global.extra-index-url='a b'` lines of `pip config list` as PIP_* variables. */
export function pipConfigToEnv(listing: string): Record<string, string> {
  const env: Record<string, string> = {}
  const byScope: Array<[number, string, string]> = []
  for (const line of listing.split('\n')) {
    const m = /^(global|install|download)\.([A-Za-z0-9_-]+)=(.*)$/.exec(line.trim())
    if (!m) continue
    let value = m[3]!.trim()
    if ((value.startsWith("'") && value.endsWith("'")) || (value.startsWith('"') && value.endsWith('"'))) value = value.slice(1, -1)
    // install.* overrides global.* for `pip install`.
    byScope.push([m[1] === 'global' ? 0 : 1, `PIP_${m[2]!.toUpperCase().replace(/-/g, '_')}`, value])
  }
  for (const [, key, value] of byScope.sort((a, b) => a[0] - b[0])) env[key] = value
  return env
}

/**
 * Local paths named in settings values: absolute paths and file:// URLs.
 * A `…/simple` index is mounted with its parent: its pages link to
 * `../../files/…` beside it.
 */
export function localPathsIn(values: string[]): string[] {
  const paths = new Set<string>()
  for (const value of values) {
    for (const word of value.split(/\s+/)) {
      let path: string | undefined
      if (word.startsWith('file://')) {
        try {
          path = fileURLToPath(word)
        } catch {
          continue
        }
      } else if (isAbsolute(word)) {
        path = word
      }
      if (!path || !existsSync(path)) continue
      path = path.replace(/\/+$/, '')
      if (/\/simple$/.test(path)) path = dirname(path)
      paths.add(path)
    }
  }
  // A path inside another one is covered by the outer mount.
  const sorted = [...paths].sort()
  return sorted.filter((p) => !sorted.some((q) => q !== p && p.startsWith(q + '/')))
}

/**
 * Proxy and certificate-trust variables passed on to every build container:
 * a machine behind an intercepting proxy trusts its CA through these, and a
 * container that does not gets "self-signed certificate in chain" from
 * every registry.
 */
const TRUST_AND_PROXY_ENV = [
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'http_proxy',
  'https_proxy',
  'no_proxy',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
  'NODE_EXTRA_CA_CERTS',
  'REQUESTS_CA_BUNDLE',
]

const settingsCache = new Map<Language, Promise<PackageSettings>>()

/**
 * The host's package-index settings for a language, as environment and
 * read-only mounts for a build container: proxy and CA-trust variables;
 * for Python the PIP_* variables and `pip config list`; for Node.js a
 * non-default npm registry and npm's `cafile`.
 */
export function hostPackageSettings(language: Language): Promise<PackageSettings> {
  let pending = settingsCache.get(language)
  if (!pending) {
    pending = (async (): Promise<PackageSettings> => {
      const env: Record<string, string> = {}
      for (const key of TRUST_AND_PROXY_ENV) {
        const value = process.env[key]
        if (value) env[key] = value
      }
      if (language === 'python') {
        const fromConfig = pipConfigToEnv(await run('python3', ['-m', 'pip', 'config', 'list'], 20_000))
        const fromEnv = Object.fromEntries(
          Object.entries(process.env).filter((e): e is [string, string] => e[0].startsWith('PIP_') && e[1] !== undefined),
        )
        // Variables win over config files, in pip as here.
        Object.assign(env, fromConfig, fromEnv)
        // Where pip installs or finds its cache is the command's business, not the host's.
        for (const key of ['PIP_TARGET', 'PIP_PREFIX', 'PIP_USER', 'PIP_CACHE_DIR', 'PIP_CONFIG_FILE', 'PIP_REQUIRE_VIRTUALENV']) delete env[key]
      } else {
        const registry = process.env.npm_config_registry || (await run('npm', ['config', 'get', 'registry'], 20_000)).trim()
        if (registry && registry !== 'https://registry.npmjs.org/' && registry !== 'undefined') env.npm_config_registry = registry
        const cafile = process.env.npm_config_cafile || (await run('npm', ['config', 'get', 'cafile'], 20_000)).trim()
        if (cafile && cafile !== 'null' && cafile !== 'undefined') env.npm_config_cafile = cafile
      }
      return { env, binds: localPathsIn(Object.values(env)).map((p) => `${p}:${p}:ro`) }
    })()
    settingsCache.set(language, pending)
  }
  return pending
}
