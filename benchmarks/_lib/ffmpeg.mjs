/**
 * Where benchmarks find ffmpeg (210.thumbnailer and 220.video-processing).
 * Plain JavaScript so that both the input generators (main process, through
 * `import`) and 220's `init.sh` (packaging, through `node ffmpeg.mjs install`)
 * use the same rules:
 *
 * - on the host (input generation): `SEBS_FFMPEG`, else `ffmpeg` on PATH, else the
 *   static build from the npm package `@ffmpeg-installer/linux-<arch>` that this
 *   package lists as an optional dependency (npm installs the one for this machine);
 * - inside a code package (`install <dir> <arch>`): `SEBS_FFMPEG`, else that static
 *   build for the target architecture; when the target is not this machine's
 *   architecture, the npm client fetches the pinned package (`npm pack`). A PATH ffmpeg
 *   is not used there: it is usually linked against the host's libraries and would not
 *   start in a Lambda or Azure sandbox.
 *
 * This folder holds no benchmark (no config.json), so discovery skips it.
 */
import { execFileSync } from 'node:child_process'
import { accessSync, constants, copyFileSync, existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, chmodSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { delimiter, dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const require = createRequire(import.meta.url)

/** The npm package holding a static ffmpeg for each architecture (names as in core/types.ts `Architecture`). */
export const FFMPEG_PACKAGES = { x64: '@ffmpeg-installer/linux-x64', arm64: '@ffmpeg-installer/linux-arm64' }

/** The variable that points at the user's own ffmpeg binary. */
export const FFMPEG_ENV = 'SEBS_FFMPEG'

/** Thrown when no ffmpeg can be found; `code` says why, the message says what to do. */
export class FfmpegNotFoundError extends Error {
  constructor(message, options) {
    super(message, options)
    this.name = 'FfmpegNotFoundError'
    this.code = 'TOOL_MISSING'
  }
}

function isExecutable(path) {
  try {
    accessSync(path, constants.X_OK)
    return true
  } catch {
    return false
  }
}

/** `ffmpeg` on PATH (`pathVar` defaults to process.env.PATH), or undefined. */
export function ffmpegOnPath(pathVar = process.env.PATH ?? '') {
  for (const dir of pathVar.split(delimiter)) {
    if (!dir) continue
    const candidate = join(dir, 'ffmpeg')
    if (isExecutable(candidate)) return candidate
  }
  return undefined
}

/** The version of `name` this package pins (its optionalDependencies), read from our package.json. */
export function pinnedVersion(name) {
  const pkg = JSON.parse(readFileSync(join(here, '..', '..', 'package.json'), 'utf8'))
  const version = pkg.optionalDependencies?.[name] ?? pkg.dependencies?.[name]
  if (!version) throw new FfmpegNotFoundError(`package.json lists no ${name}: reinstall serverless-benchmarks`)
  return version
}

/** The binary of the installed `@ffmpeg-installer/linux-<arch>` package, or undefined when npm did not install it. */
export function bundledFfmpeg(arch = process.arch) {
  const name = FFMPEG_PACKAGES[arch]
  if (!name) return undefined
  let manifest
  try {
    manifest = require.resolve(`${name}/package.json`)
  } catch {
    return undefined
  }
  const binary = join(dirname(manifest), 'ffmpeg')
  if (!existsSync(binary)) return undefined
  // The tarball carries the executable bit; npm keeps it even when install scripts (chmod) did not run.
  if (!isExecutable(binary)) {
    try {
      chmodSync(binary, 0o755)
    } catch {
      return undefined
    }
  }
  return binary
}

/**
 * The ffmpeg to run on this machine: `SEBS_FFMPEG`, PATH, or the npm package's
 * static build. Throws FfmpegNotFoundError naming the fixes.
 */
export function findFfmpeg(env = process.env) {
  const own = env[FFMPEG_ENV]
  if (own) {
    if (!isExecutable(own)) throw new FfmpegNotFoundError(`${FFMPEG_ENV}=${own} is not an executable file: point it at an ffmpeg binary or unset it`)
    return own
  }
  const found = ffmpegOnPath(env.PATH ?? '') ?? bundledFfmpeg(process.arch)
  if (found) return found
  throw new FfmpegNotFoundError(
    `ffmpeg not found: neither ${FFMPEG_ENV}, PATH nor the npm package ${FFMPEG_PACKAGES[process.arch] ?? `for ${process.arch}`} has one. ` +
      `Run npm install without --omit=optional (it installs ${FFMPEG_PACKAGES.x64} or ${FFMPEG_PACKAGES.arm64}), ` +
      `set ${FFMPEG_ENV} to an ffmpeg binary, or install one (apt-get install ffmpeg)`,
  )
}

/** Fetches the pinned static build for `arch` with the npm client into a temporary folder; returns the binary's path. */
function fetchFfmpeg(arch, workDir) {
  const name = FFMPEG_PACKAGES[arch]
  const spec = `${name}@${pinnedVersion(name)}`
  let tarball
  try {
    tarball = execFileSync('npm', ['pack', spec, '--silent', '--pack-destination', workDir], { cwd: workDir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
      .trim()
      .split('\n')
      .pop()
  } catch (err) {
    throw new FfmpegNotFoundError(
      `could not fetch ${spec} for the ${arch} package with npm (${err.stderr?.toString().trim() || err.message}); ` +
        `install it (npm i -O ${spec} --cpu=${arch} --os=linux) or set ${FFMPEG_ENV} to an ffmpeg built for linux ${arch}`,
      { cause: err },
    )
  }
  execFileSync('tar', ['-xzf', join(workDir, tarball), '-C', workDir, 'package/ffmpeg'])
  return join(workDir, 'package', 'ffmpeg')
}

/**
 * Puts an ffmpeg for `arch` at `<functionDir>/ffmpeg/ffmpeg` (SeBS's layout, which
 * 220's functions look at first). Hard-linked when possible: the binary is 30–70 MB
 * and packages are built per language.
 */
export function installFfmpeg(functionDir, arch) {
  if (!FFMPEG_PACKAGES[arch]) throw new FfmpegNotFoundError(`no ffmpeg package for architecture '${arch}' (known: ${Object.keys(FFMPEG_PACKAGES).join(', ')})`)
  const dest = join(functionDir, 'ffmpeg', 'ffmpeg')
  mkdirSync(dirname(dest), { recursive: true })
  rmSync(dest, { force: true })
  let workDir
  try {
    let source = process.env[FFMPEG_ENV]
    if (source && !isExecutable(source)) throw new FfmpegNotFoundError(`${FFMPEG_ENV}=${source} is not an executable file: point it at an ffmpeg binary or unset it`)
    if (!source) source = bundledFfmpeg(arch)
    if (!source) {
      workDir = mkdtempSync(join(tmpdir(), 'sebs-ffmpeg-'))
      source = fetchFfmpeg(arch, workDir)
    }
    try {
      linkSync(source, dest)
    } catch {
      copyFileSync(source, dest)
    }
    chmodSync(dest, 0o755)
    return { path: dest, source }
  } finally {
    if (workDir) rmSync(workDir, { recursive: true, force: true })
  }
}

// CLI for init.sh: node ffmpeg.mjs install <functionDir> <arch>
if (process.argv[1] && pathToFileURL(resolve(process.argv[1])).href === import.meta.url) {
  const [command, functionDir, arch] = process.argv.slice(2)
  if (command !== 'install' || !functionDir || !arch) {
    process.stderr.write('usage: node ffmpeg.mjs install <functionDir> <x64|arm64>\n')
    process.exit(2)
  }
  try {
    const { path, source } = installFfmpeg(functionDir, arch)
    process.stdout.write(`ffmpeg for ${arch}: ${source} -> ${path}\n`)
  } catch (err) {
    process.stderr.write(`${err.message}\n`)
    process.exit(1)
  }
}
