/**
 * Code packages for Azure Functions (Linux, Functions runtime v4), in the
 * layout the host reads from a run-from-package zip:
 *
 *     host.json                                the host's config (extension bundle, http route prefix)
 *     function/function.json                   httpTrigger (anonymous, POST) + http output ($return)
 *     function/handler.py | handler.js         the wrapper (scriptFile), beside…
 *     function/function.py | function.js       …the benchmark's code and function modules
 *     function/storage.*, function/nosql.*     (when the benchmark declares them)
 *     function/node_modules/                   nodejs dependencies (Linux x64 builds)
 *     .python_packages/lib/site-packages/      python dependencies (manylinux x86_64 wheels)
 *
 * One function per app, named `function` (URL `/api/function`). The wrapper
 * sits inside the function folder rather than SeBS's `handler/function/`
 * nesting so that the package builder's directory *is* the deployable
 * layout (no copy before zipping) and benchmark code keeps its relative
 * imports (`from . import storage`, `require('./storage')`).
 *
 * Dependencies are installed for the platform, not for the machine that
 * builds: pip gets manylinux x86_64 wheels for the configured Python
 * (`--only-binary=:all:`), npm the Linux/x64/glibc variants of optional
 * native packages. `azure.functions` is provided by the platform's Python
 * worker and is not packaged.
 *
 * When a Docker engine answers, pip and npm run inside the Azure Functions
 * image of the runtime (`azure.buildImage`), where pip may also compile
 * packages that have no matching wheel (the wheel-only pins are dropped on
 * an x64 machine, whose containers are the platform). Without an engine, or
 * with `buildImage: false`, the install runs on the host with a warning.
 */
import { existsSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ProviderError } from '../../core/errors.ts'
import type { Language } from '../../core/types.ts'
import { WRAPPER_CORE } from '../packaging/wrapper-core/index.ts'
import { chooseDependencyInstaller } from '../docker/dependency-installer.ts'
import { formatBytes } from '../../core/format.ts'
import { buildPackage } from '../packaging/package-builder.ts'
import { zipDirectory } from '../packaging/zip.ts'
import type { BuildContext, CodePackage, FunctionSpec } from '../types.ts'

const here = dirname(fileURLToPath(import.meta.url))
const wrappers = join(here, 'wrappers')

export const HOST_JSON = join(wrappers, 'host.json')

/** Files of each language: the wrapper and function.json go into function/, next to the benchmark. */
export const AZURE_FUNCTION_FILES: Record<Language, { handler: string; functionJson: string; storage: string; nosql: string }> = {
  nodejs: {
    handler: join(wrappers, 'nodejs', 'handler.js'),
    functionJson: join(wrappers, 'nodejs', 'function.json'),
    storage: join(wrappers, 'nodejs', 'storage.js'),
    nosql: join(wrappers, 'nodejs', 'nosql.js'),
  },
  python: {
    handler: join(wrappers, 'python', 'handler.py'),
    functionJson: join(wrappers, 'python', 'function.json'),
    storage: join(wrappers, 'python', 'storage.py'),
    nosql: join(wrappers, 'python', 'nosql.py'),
  },
}

/**
 * Function-side SDKs per module. The nodejs versions are the ones the harness
 * itself uses (package.json pins them; both need Node >= 20).
 */
export const MODULE_DEPENDENCIES = {
  storage: { nodejs: { '@azure/storage-blob': '12.32.0' }, python: ['azure-storage-blob'] },
  nosql: { nodejs: { '@azure/cosmos': '4.9.3' }, python: ['azure-cosmos'] },
} as const

/** Where the Python worker looks for packaged dependencies. */
export const PYTHON_PACKAGES_DIR = '.python_packages/lib/site-packages'

/** Azure's Python images (Debian 11/12, glibc ≥ 2.31) load manylinux_2_28 and manylinux2014 wheels. */
export function pipInstallArgs(pythonVersion: string): string[] {
  if (!/^3\.\d{1,2}$/.test(pythonVersion)) {
    throw new ProviderError('azure', 'BUILD_FAILED', `'${pythonVersion}' is not a Python version like 3.11.`)
  }
  return [
    '--platform',
    'manylinux_2_28_x86_64',
    '--platform',
    'manylinux2014_x86_64',
    '--implementation',
    'cp',
    '--python-version',
    pythonVersion,
    // Cross-platform installs cannot build sdists: wheels only.
    '--only-binary=:all:',
  ]
}

/**
 * Linux x64 glibc binaries; no `.bin` symlinks (the run-from-package mount
 * need not preserve them, and nothing in a function runs npm's bins).
 */
export function npmInstallArgs(): string[] {
  return ['--os=linux', '--cpu=x64', '--libc=glibc', '--no-bin-links']
}

export interface AzurePackageOptions {
  runtime: { python: string; nodejs: string }
  /**
   * Build image for the dependency install when Docker answers (else the
   * host, with a warning); false: on the host, with a warning. Undefined: on
   * the host without a Docker check (programmatic callers that choose no
   * image; the config path always resolves one with `buildImageFor`).
   */
  buildImage?: string | false
  /** `buildImage` is the provider's default (not configured): unavailable → host install with a warning. */
  buildImageIsDefault?: boolean
}

/** The runtime identity in the package hash (and SeBS's version-specific files): `python3.11`, `node20`. */
export function packageRuntimeVersion(language: Language, options: AzurePackageOptions): string {
  return language === 'python' ? `python${options.runtime.python}` : `node${options.runtime.nodejs}`
}

/**
 * Builds the run-from-package zip of one benchmark (cached by content hash).
 * Needs no credentials: `npx sebs package --provider=azure` calls it directly.
 */
export async function buildAzurePackage(spec: FunctionSpec, ctx: BuildContext, options: AzurePackageOptions): Promise<CodePackage> {
  if (spec.arch !== 'x64') {
    throw new ProviderError(
      'azure',
      'NOT_SUPPORTED',
      `Azure Functions on Linux runs x64 only; ${spec.benchmark.id} was asked for ${spec.arch}. Use --arch x64 (the default) with --provider azure.`,
    )
  }
  const files = AZURE_FUNCTION_FILES[spec.language]
  const modules = spec.benchmark.config.modules
  const functionModules = [files.handler, WRAPPER_CORE[spec.language], files.functionJson]
  const nodeDeps: Record<string, string> = {}
  const pythonDeps: string[] = []
  for (const m of ['storage', 'nosql'] as const) {
    if (!modules.includes(m)) continue
    functionModules.push(files[m])
    Object.assign(nodeDeps, MODULE_DEPENDENCIES[m].nodejs)
    pythonDeps.push(...MODULE_DEPENDENCIES[m].python)
  }

  const choice =
    options.buildImage === undefined
      ? {}
      : await chooseDependencyInstaller({
          image: options.buildImage,
          configKey: 'azure.buildImage',
          defaultImage: options.buildImageIsDefault,
          benchmark: spec.benchmark.id,
          language: spec.language,
          platform: 'Azure Functions',
          logger: ctx.logger,
        })
  // Docker runs native images only: on an x64 machine the image is the platform, and pip may compile sdists there.
  const nativeInImage = choice.installer !== undefined && process.arch === 'x64'

  const built = await buildPackage(
    {
      benchmark: spec.benchmark,
      language: spec.language,
      provider: 'azure',
      arch: spec.arch,
      wrapperFiles: [HOST_JSON],
      functionModules,
      extraDependencies: spec.language === 'nodejs' ? { nodejs: nodeDeps } : { python: pythonDeps },
      pythonTarget: PYTHON_PACKAGES_DIR,
      pipExtraArgs: spec.language === 'python' && !nativeInImage ? pipInstallArgs(options.runtime.python) : undefined,
      npmExtraArgs: spec.language === 'nodejs' ? npmInstallArgs() : undefined,
      runtimeVersion: packageRuntimeVersion(spec.language, options),
      installer: choice.installer,
      installerId: choice.installerId,
    },
    ctx,
  )
  const zipPath = `${built.dir}.zip`
  // The zip is derived from the package directory alone and is deterministic,
  // so an existing zip next to a cached directory is the right one.
  let cached = built.cached && existsSync(zipPath)
  let sizeBytes: number
  if (cached) {
    sizeBytes = statSync(zipPath).size
  } else {
    sizeBytes = (await zipDirectory(built.dir, zipPath)).sizeBytes
    cached = false
  }
  ctx.logger.debug(`azure package ${zipPath} (${formatBytes(sizeBytes)})`)
  return {
    provider: 'azure',
    benchmark: spec.benchmark.id,
    language: spec.language,
    arch: spec.arch,
    kind: 'zip',
    path: zipPath,
    sizeBytes,
    hash: built.hash,
    cached,
  }
}

export { packagedModules } from '../packaging/packaged-modules.ts'
