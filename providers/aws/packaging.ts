/**
 * Code packages for Lambda: a deterministic zip whose root holds the wrapper
 * (`handler.py` / `handler.js`, Lambda handler `handler.handler`), the
 * benchmark's `function/` package and its dependencies, installed for
 * Lambda's platform rather than for the machine that builds.
 *
 * - Python: `pip --target . --only-binary=:all: --platform <tag>…` with
 *   every manylinux tag the runtime's glibc accepts, newest first (python3.12+
 *   run on Amazon Linux 2023, glibc 2.34: manylinux_2_34 … manylinux_2_17 =
 *   manylinux2014; python3.11 and older on Amazon Linux 2, glibc 2.26),
 *   plus `--python-version`/`--implementation cp` so that wheels match the
 *   runtime's interpreter, not the builder's. pip does not expand
 *   `manylinux_2_34` to the older `_2_N` tags itself, so each is listed.
 * - The runtime is checked against AWS's deprecation table first: a runtime
 *   whose creation is blocked fails before anything is built.
 * - A package over Lambda's 250 MB unzipped limit fails right after the
 *   build, naming the size, the limit and what to do.
 * - Node.js: `npm install --os=linux --cpu=<x64|arm64> --libc=glibc`, so that
 *   optional native packages (sharp's @img/sharp-linux-arm64, …) are the
 *   ones Lambda can load.
 *
 * When a Docker engine answers, pip and npm run inside a build image with
 * Lambda's OS and runtime (`aws.buildImage`, default the SAM build image
 * `public.ecr.aws/sam/build-<runtime>`), so packages without a matching
 * wheel are compiled for Amazon Linux. For the host's own architecture the
 * wheel-only platform pins are dropped there (the image *is* the platform);
 * for the other architecture they stay. Without an engine, or with
 * `buildImage: false`, the install runs on the host with a warning.
 */
import { existsSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ProviderError } from '../../core/errors.ts'
import type { Architecture, Language } from '../../core/types.ts'
import { WRAPPER_CORE } from '../packaging/wrapper-core/index.ts'
import { chooseDependencyInstaller } from '../docker/dependency-installer.ts'
import { formatBytes } from '../../core/format.ts'
import { buildPackage } from '../packaging/package-builder.ts'
import { zipDirectory } from '../packaging/zip.ts'
import { DYNAMODB_FUNCTION_NOSQL } from '../storage/nosql/wrappers/index.ts'
import type { BuildContext, CodePackage, FunctionSpec } from '../types.ts'
import { runtimeFor, runtimeVersion, type AwsOptions } from './config.ts'
import { functionStorageModule } from './function-modules.ts'
import { checkRuntime, lambdaRuntime } from './runtimes.ts'

const here = dirname(fileURLToPath(import.meta.url))

/** The wrapper file of each language, copied to the zip root. */
export const WRAPPER_FILES: Record<Language, string> = {
  nodejs: join(here, 'wrappers', 'nodejs', 'handler.js'),
  python: join(here, 'wrappers', 'python', 'handler.py'),
}

/** Lambda's limit for the unzipped code of a function (bytes). */
export const UNZIPPED_LIMIT = 250 * 1024 * 1024

function pythonMinor(runtime: string): number {
  const m = /^python3\.(\d+)$/.exec(runtime)
  if (!m) {
    throw new ProviderError('aws', 'BUILD_FAILED', `'${runtime}' is not a Python Lambda runtime (expected python3.N).`)
  }
  return Number(m[1])
}

/**
 * The wheel platform tags a Lambda Python runtime accepts, most specific
 * first: every `manylinux_2_N` from the runtime's glibc down to 2.17, then
 * `manylinux2014` (the legacy name of 2.17; pip adds manylinux2010/1 for
 * x86_64 itself). python3.12+ (Amazon Linux 2023) have glibc 2.34,
 * python3.11 and older (Amazon Linux 2) glibc 2.26.
 */
export function pipPlatformTags(runtime: string, arch: Architecture): string[] {
  const machine = arch === 'arm64' ? 'aarch64' : 'x86_64'
  const minor = pythonMinor(runtime)
  const glibcMinor = lambdaRuntime(runtime)?.glibc[1] ?? (minor >= 12 ? 34 : 26)
  const tags: string[] = []
  for (let m = glibcMinor; m >= 17; m--) tags.push(`manylinux_2_${m}_${machine}`)
  tags.push(`manylinux2014_${machine}`)
  return tags
}

/** pip arguments that install wheels for the Lambda runtime and architecture. */
export function pipInstallArgs(runtime: string, arch: Architecture): string[] {
  const minor = pythonMinor(runtime)
  return [
    ...pipPlatformTags(runtime, arch).flatMap((tag) => ['--platform', tag]),
    '--implementation',
    'cp',
    '--python-version',
    `3.${minor}`,
    // Cross-platform installs cannot build sdists: wheels only.
    '--only-binary=:all:',
  ]
}

/** npm arguments that pick the Linux/glibc binaries of the architecture. */
export function npmInstallArgs(arch: Architecture): string[] {
  // No node_modules/.bin links: Lambda never runs them, and a zip is safer without symlinks.
  return ['--os=linux', `--cpu=${arch === 'arm64' ? 'arm64' : 'x64'}`, '--libc=glibc', '--no-bin-links']
}

export interface AwsPackageOptions {
  /** Lambda runtime ids; default from the aws config section. */
  runtime: AwsOptions['runtime']
  /**
   * Build image for the dependency install when Docker answers (else the
   * host, with a warning); false: on the host, with a warning. Undefined: on
   * the host without a Docker check (programmatic callers that choose no
   * image; the config path always resolves one with `buildImageFor`).
   */
  buildImage?: string | false
  /** `buildImage` is the provider's default (not configured): unavailable → host install with a warning. */
  buildImageIsDefault?: boolean
  /** Lambda's unzipped-code limit to check against (tests use a small one to see the error); default UNZIPPED_LIMIT. */
  unzippedLimit?: number
  /** The date runtimes are checked at (tests); default now. */
  now?: Date
}

/** The architecture this machine's containers run (Docker runs native images only, without emulation). */
function hostArch(): Architecture | undefined {
  return process.arch === 'x64' ? 'x64' : process.arch === 'arm64' ? 'arm64' : undefined
}

/**
 * Builds the Lambda zip of one benchmark (cached by content hash). Needs no
 * credentials: `npx sebs package --provider=aws` calls it directly.
 */
export async function buildLambdaPackage(spec: FunctionSpec, ctx: BuildContext, options: AwsPackageOptions): Promise<CodePackage> {
  const runtime = runtimeFor(options, spec.language)
  runtimeVersion(runtime) // validates the id
  // A runtime AWS no longer creates functions with fails here, before anything is built.
  const { warning } = checkRuntime(runtime, spec.language, { now: options.now })
  if (warning) ctx.logger.warn(warning)
  const storage = functionStorageModule(spec.language)
  const modules = spec.benchmark.config.modules
  const functionModules: string[] = []
  const extraDependencies: { nodejs?: Record<string, string>; python?: string[] } = {}
  if (modules.includes('storage')) functionModules.push(storage.file)
  if (modules.includes('nosql')) {
    functionModules.push(spec.language === 'nodejs' ? DYNAMODB_FUNCTION_NOSQL.nodejs.file : DYNAMODB_FUNCTION_NOSQL.python.file)
  }
  // No extra dependencies: the Lambda runtimes ship boto3 (python) and the
  // AWS SDK v3 clients (nodejs18.x and later), which the function-side
  // storage and nosql modules use; bundling them would add megabytes to every
  // package and shadow the runtime's own copy.

  const choice =
    options.buildImage === undefined
      ? {}
      : await chooseDependencyInstaller({
          image: options.buildImage,
          configKey: 'aws.buildImage',
          defaultImage: options.buildImageIsDefault,
          benchmark: spec.benchmark.id,
          language: spec.language,
          platform: 'Lambda',
          logger: ctx.logger,
        })
  // In a build image of the target's own architecture pip may compile sdists
  // natively: the wheel-only cross-platform pins would only forbid that.
  const nativeInImage = choice.installer !== undefined && spec.arch === hostArch()

  const built = await buildPackage(
    {
      benchmark: spec.benchmark,
      language: spec.language,
      provider: 'aws',
      arch: spec.arch,
      wrapperFiles: [WRAPPER_FILES[spec.language], WRAPPER_CORE[spec.language]],
      functionModules,
      extraDependencies,
      pythonTarget: '.',
      pipExtraArgs: spec.language === 'python' && !nativeInImage ? pipInstallArgs(runtime, spec.arch) : undefined,
      npmExtraArgs: spec.language === 'nodejs' ? npmInstallArgs(spec.arch) : undefined,
      runtimeVersion: runtime,
      installer: choice.installer,
      installerId: choice.installerId,
    },
    ctx,
  )
  const unzippedLimit = options.unzippedLimit ?? UNZIPPED_LIMIT
  if (built.sizeBytes > unzippedLimit) {
    throw new ProviderError(
      'aws',
      'BUILD_FAILED',
      `${spec.benchmark.id} (${spec.language}) unzips to ${formatBytes(built.sizeBytes)}, over Lambda's ` +
        `${formatBytes(unzippedLimit)} limit for the unzipped code of a zip package: Lambda would refuse it. ` +
        `Trim its dependencies (${spec.language === 'python' ? 'requirements.txt' : 'package.json'} in ${spec.benchmark.dir}), ` +
        'choose a benchmark or language with a smaller dependency set, or deploy it as a container image (up to 10 GB), which this provider does not do yet.',
    )
  }
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
  return {
    provider: 'aws',
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
