/**
 * Offline base images: a runtime image per language built from this host's
 * own interpreter, for machines where nothing can be pulled (ours, CI).
 *
 * Recipe (ENVIRONMENT.md §2: `docker import` of a tar rootfs works offline):
 *  - busybox-static as /bin/busybox with its applets (a shell and the usual tools);
 *  - the interpreter binary at the same path as on the host (so that RUNPATHs
 *    and python's prefix lookup work unchanged), plus every shared library
 *    `ldd` lists for it, plus the system libraries prebuilt native packages
 *    may expect (the manylinux set: libpthread, libdl, librt, libstdc++, …);
 *  - python: the standard library without tests, IDLE, tkinter, lib2to3 and
 *    ensurepip; extension modules with their libraries; pip and setuptools
 *    (build images run `pip install`);
 *  - nodejs: npm (build images run `npm install`);
 *  - /usr/local/bin/{python3,pip,node,npm} pointing at them, /etc/passwd, /tmp.
 *
 * The image is tagged `sebs-base:<runtime>-<hash>` and labelled with the
 * full hash: the hash covers the recipe version, the runtime version and the
 * identity (path, size, mtime) of every input, so a changed interpreter gives
 * a new tag and an unchanged one is never rebuilt.
 */
import { execFile, spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { chmod, copyFile, lstat, mkdir, readdir, readlink, realpath, rm, stat, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, isAbsolute, join, normalize, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import type Docker from 'dockerode'
import { ProviderError, SebsError, errorMessage } from '../../core/errors.ts'
import { formatBytes } from '../../core/format.ts'
import { createLogger, formatDuration, type Logger } from '../../core/logger.ts'
import { LANGUAGES, type Language } from '../../core/types.ts'
import { dockerErrorMessage, isNotFound, requireDocker } from './client.ts'
import { LABEL_BASE_EXECUTABLE, LABEL_BASE_HASH, LABEL_BASE_LANGUAGE, LABEL_BASE_RUNTIME, LABEL_KIND, LABEL_MANAGED } from './labels.ts'
import { runContainer } from './run.ts'

export const BASE_IMAGE_REPOSITORY = 'sebs-base'
/** Bump when the recipe changes: every base image is then rebuilt. */
export const BASE_RECIPE_VERSION = 2

/** PATH inside base images. */
export const BASE_IMAGE_PATH = '/usr/local/bin:/usr/local/sbin:/usr/bin:/usr/sbin:/bin:/sbin'

/** Standard-library entries a function never needs; left out to keep the image small. */
const EXCLUDED_STDLIB = new Set([
  'test',
  'idlelib',
  'tkinter',
  'turtledemo',
  'turtle.py',
  'ensurepip',
  'lib2to3',
  'pydoc_data',
  'site-packages',
  'dist-packages',
  '__phello__',
])
/** Extension modules left out: tkinter drags in X11, the rest are CPython's own test modules. */
const EXCLUDED_DYNLOAD = /^(_tkinter|_test|_xxtest|xx|_ctypes_test)/

/**
 * System libraries that prebuilt native packages (manylinux wheels, Node
 * addons such as sharp) may link against without bundling them: the
 * manylinux policy's glibc/libgcc/libstdc++ set, plus zlib. Added from the
 * directory the interpreter's libc comes from, where present.
 */
const PORTABLE_SYSTEM_LIBS = [
  'libc.so.6',
  'libm.so.6',
  'libdl.so.2',
  'librt.so.1',
  'libpthread.so.0',
  'libutil.so.1',
  'libresolv.so.2',
  'libnsl.so.1',
  'libcrypt.so.1',
  'libanl.so.1',
  'libgcc_s.so.1',
  'libstdc++.so.6',
  'libz.so.1',
]

/** Packages installed next to the stdlib that build images need (`pip install`). */
const PYTHON_TOOLS = ['pip', 'setuptools', 'pkg_resources', '_distutils_hack', 'wheel']

/** Modules checked in the finished image, when they import on the host. */
const PYTHON_SMOKE_MODULES = ['json', 'http.server', 'hashlib', 'zlib', 'ssl', 'ctypes', 'sqlite3', 'lzma', 'bz2', 'uuid', 'decimal']

type Generated =
  | { path: string; kind: 'dir'; mode: number }
  | { path: string; kind: 'file'; content: string; mode: number }
  | { path: string; kind: 'copy'; source: string; mode: number }
  | { path: string; kind: 'symlink'; target: string }

/** Everything that goes into one base image, and its identity. */
export interface BaseImageRecipe {
  language: Language
  /** `python3.11.7` / `node20.20.2`. */
  runtime: string
  /** The command the recipe was resolved from (`python3`, `/usr/bin/node`). */
  command: string
  /** The interpreter binary, symlinks resolved. */
  executable: string
  /** Host paths archived at the same path (directories recursively, symlinks as links). */
  hostPaths: string[]
  /** Small files and links made for the image. */
  generated: Generated[]
  /** Shell command run in the finished image to check that it works. */
  smokeTest: string
  /** Full content hash of the inputs. */
  hash: string
  /** `sebs-base:python3.11.7-<12 hex>`. */
  tag: string
}

// ---------------------------------------------------------------------------
// Host inspection

function run(command: string, args: string[], timeoutMs = 30_000): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    execFile(command, args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(Object.assign(err, { stdout, stderr }))
      else resolvePromise({ stdout, stderr })
    })
  })
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile()
  } catch {
    return false
  }
}

/**
 * A path and the symlinks it leads through, each as the path that names it
 * (not its realpath): `/lib/x86_64-linux-gnu/libstdc++.so.6` and
 * `…/libstdc++.so.6.0.30`. Archived as they are, the links resolve inside the
 * image the way they do on the host.
 */
async function symlinkChain(path: string): Promise<string[]> {
  const chain: string[] = []
  let current = normalize(path)
  for (let i = 0; i < 40; i++) {
    chain.push(current)
    const info = await lstat(current)
    if (!info.isSymbolicLink()) return chain
    const target = await readlink(current)
    current = isAbsolute(target) ? normalize(target) : resolve(dirname(current), target)
  }
  throw new SebsError('BUILD_FAILED', `too many levels of symbolic links at ${path}`)
}

/** The libraries of PORTABLE_SYSTEM_LIBS next to the libc a binary loads (with their symlink chains). */
async function portableSystemLibs(executableLibs: string[]): Promise<string[]> {
  const libc = executableLibs.find((p) => p.endsWith('/libc.so.6'))
  if (!libc) return []
  const paths: string[] = []
  for (const name of PORTABLE_SYSTEM_LIBS) {
    const path = join(dirname(libc), name)
    if (existsSync(path)) paths.push(...(await symlinkChain(path)))
  }
  return paths
}

/** The shared libraries `ldd` lists for these binaries (absolute paths; vdso and missing ones left out). */
export async function sharedLibraries(binaries: string[]): Promise<string[]> {
  const found = new Set<string>()
  // Batches keep the command line short; ldd prints a header per file.
  for (let i = 0; i < binaries.length; i += 100) {
    const batch = binaries.slice(i, i + 100)
    let stdout: string
    try {
      ;({ stdout } = await run('ldd', batch))
    } catch (err) {
      const e = err as NodeJS.ErrnoException & { stdout?: string }
      if (e.code === 'ENOENT') {
        throw new ProviderError('docker', 'TOOL_MISSING', 'building a base image needs `ldd` (apt-get install libc-bin)')
      }
      // ldd exits 1 when one file of the batch is not dynamic (a static busybox): its output is still complete.
      stdout = e.stdout ?? ''
    }
    for (const line of stdout.split('\n')) {
      const arrow = /=>\s+(\/\S+)\s+\(0x/.exec(line)
      const plain = /^\s+(\/\S+)\s+\(0x/.exec(line)
      const path = arrow?.[1] ?? plain?.[1]
      if (path) found.add(path)
    }
  }
  return [...found].sort()
}

async function findBusybox(): Promise<string> {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/bin', '/bin', '/usr/sbin'])) {
    if (!dir) continue
    const candidate = join(dir, 'busybox')
    if (await isFile(candidate)) {
      // A dynamic busybox would need its libraries too; the static one stands alone.
      const libs = await sharedLibraries([candidate])
      if (libs.length === 0) return realpath(candidate)
    }
  }
  throw new ProviderError(
    'docker',
    'TOOL_MISSING',
    'building a base image needs a static busybox for the shell and tools inside the image: apt-get install busybox-static ' +
      '(scripts/docker-setup.sh installs it).',
  )
}

async function busyboxApplets(busybox: string): Promise<string[]> {
  const { stdout } = await run(busybox, ['--list'])
  return stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && l !== 'busybox' && !l.includes('/'))
}

interface InterpreterInfo {
  executable: string
  version: string
}

async function describeInterpreter(language: Language, command: string, script: string): Promise<InterpreterInfo & Record<string, unknown>> {
  const args = language === 'python' ? ['-c', script] : ['-e', script]
  let stdout: string
  try {
    ;({ stdout } = await run(command, args, 15_000))
  } catch (err) {
    throw new ProviderError(
      'docker',
      'TOOL_MISSING',
      `cannot run the ${language} interpreter '${command}' to build its base image (${errorMessage(err)}). ` +
        `Install it, or pass the interpreter with --${language === 'python' ? 'python' : 'node'} PATH.`,
      { cause: err },
    )
  }
  return JSON.parse(stdout.trim().split('\n').pop()!) as InterpreterInfo & Record<string, unknown>
}

const PYTHON_INFO = `
import importlib, importlib.util, json, os, platform, sys, sysconfig
def loc(name):
    try:
        spec = importlib.util.find_spec(name)
    except Exception:
        return None
    if spec is None:
        return None
    if spec.submodule_search_locations:
        return list(spec.submodule_search_locations)[0]
    return spec.origin
def imports(name):
    try:
        importlib.import_module(name)
        return True
    except Exception:
        return False
print(json.dumps({
    "executable": sys.executable,
    "version": platform.python_version(),
    "stdlib": sysconfig.get_path("stdlib"),
    "dynload": sysconfig.get_config_var("DESTSHARED") or os.path.join(sysconfig.get_path("platstdlib"), "lib-dynload"),
    "tools": {n: loc(n) for n in ${JSON.stringify(PYTHON_TOOLS)}},
    "smoke": [m for m in ${JSON.stringify(PYTHON_SMOKE_MODULES)} if imports(m)],
}))
`

const NODE_INFO = `console.log(JSON.stringify({ executable: process.execPath, version: process.versions.node }))`

function baseGenerated(busybox: string, applets: string[]): Generated[] {
  return [
    { path: 'bin', kind: 'dir', mode: 0o755 },
    { path: 'bin/busybox', kind: 'copy', source: busybox, mode: 0o755 },
    ...applets.map((a): Generated => ({ path: `bin/${a}`, kind: 'symlink', target: 'busybox' })),
    { path: 'usr/bin', kind: 'dir', mode: 0o755 },
    // `#!/usr/bin/env node` scripts (npm's bin links) need env at its usual place.
    { path: 'usr/bin/env', kind: 'symlink', target: '/bin/busybox' },
    { path: 'usr/local/bin', kind: 'dir', mode: 0o755 },
    { path: 'etc', kind: 'dir', mode: 0o755 },
    { path: 'etc/passwd', kind: 'file', mode: 0o644, content: 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' },
    { path: 'etc/group', kind: 'file', mode: 0o644, content: 'root:x:0:\nnogroup:x:65534:\n' },
    { path: 'root', kind: 'dir', mode: 0o700 },
    { path: 'tmp', kind: 'dir', mode: 0o1777 },
    // Mount points: the function package (runtime) and the package being built (build images).
    { path: 'function', kind: 'dir', mode: 0o755 },
    { path: 'package', kind: 'dir', mode: 0o755 },
  ]
}

/** Paths a link in /usr/local/bin would shadow are left alone. */
function linkUnlessSame(path: string, target: string): Generated[] {
  return `/${path}` === target ? [] : [{ path, kind: 'symlink', target }]
}

function shellWrapper(path: string, exec: string): Generated {
  return { path, kind: 'file', mode: 0o755, content: `#!/bin/sh\nexec ${exec} "$@"\n` }
}

/**
 * The parts of a recipe. `keyPaths` identify the image (cheap to stat);
 * `extraPaths` are the libraries of python's extension modules, which need
 * one `ldd` per module (seconds) and are only listed for a build.
 */
interface RecipeParts {
  language: Language
  runtime: string
  command: string
  executable: string
  keyPaths: string[]
  generated: Generated[]
  smokeTest: string
  extraPaths: () => Promise<string[]>
}

async function pythonParts(command: string): Promise<RecipeParts> {
  const info = (await describeInterpreter('python', command, PYTHON_INFO)) as unknown as InterpreterInfo & {
    stdlib: string
    dynload: string
    tools: Record<string, string | null>
    smoke: string[]
  }
  const executableChain = await symlinkChain(info.executable)
  const executable = executableChain[executableChain.length - 1]!
  const hostPaths = new Set<string>(executableChain)

  const stdlib = normalize(info.stdlib)
  const dynload = normalize(info.dynload)
  for (const name of await readdir(stdlib)) {
    if (EXCLUDED_STDLIB.has(name) || name.startsWith('config-')) continue
    const path = join(stdlib, name)
    if (path === dynload) continue
    hostPaths.add(path)
  }
  const extensions: string[] = []
  if (existsSync(dynload)) {
    for (const name of await readdir(dynload)) {
      if (EXCLUDED_DYNLOAD.test(name)) continue
      const path = join(dynload, name)
      hostPaths.add(path)
      if (name.endsWith('.so')) extensions.push(path)
    }
  }

  // pip and friends, wherever this interpreter keeps them, with their metadata.
  for (const location of Object.values(info.tools)) {
    if (!location) continue
    const path = location.endsWith('.py') && !location.endsWith('__init__.py') ? location : location.replace(/\/__init__\.py$/, '')
    hostPaths.add(path)
    const parent = dirname(path)
    const name = path.slice(parent.length + 1).replace(/\.py$/, '')
    for (const entry of await readdir(parent)) {
      if (new RegExp(`^${name.replace(/[^A-Za-z0-9]/g, '[-_.]?')}-[^/]*\\.(dist|egg)-info$`, 'i').test(entry)) hostPaths.add(join(parent, entry))
      // setuptools' hook that makes its distutils win over the stdlib's.
      if (name === '_distutils_hack' && entry === 'distutils-precedence.pth') hostPaths.add(join(parent, entry))
    }
  }

  const executableLibs = await sharedLibraries([executable])
  for (const lib of executableLibs) {
    for (const path of await symlinkChain(lib)) hostPaths.add(path)
  }
  for (const path of await portableSystemLibs(executableLibs)) hostPaths.add(path)

  const hasPip = Boolean(info.tools.pip)
  const python = executableChain[0]!
  const generated: Generated[] = [
    ...linkUnlessSame('usr/local/bin/python3', python),
    ...linkUnlessSame('usr/local/bin/python', python),
    ...(hasPip ? [shellWrapper('usr/local/bin/pip', '/usr/local/bin/python3 -m pip'), shellWrapper('usr/local/bin/pip3', '/usr/local/bin/python3 -m pip')] : []),
  ]
  const smoke = [
    `python3 -c ${shellQuote(`import ${info.smoke.join(', ')}; import platform; print(platform.python_version())`)}`,
    ...(hasPip ? ['pip --version'] : []),
  ].join(' && ')
  return {
    language: 'python',
    runtime: `python${info.version}`,
    command,
    executable,
    keyPaths: [...hostPaths],
    generated,
    smokeTest: smoke,
    extraPaths: async () => {
      const paths: string[] = []
      for (const lib of await sharedLibraries(extensions)) paths.push(...(await symlinkChain(lib)))
      return paths
    },
  }
}

async function nodeParts(command: string): Promise<RecipeParts> {
  const info = await describeInterpreter('nodejs', command, NODE_INFO)
  const executableChain = await symlinkChain(info.executable)
  const executable = executableChain[executableChain.length - 1]!
  const hostPaths = new Set<string>(executableChain)
  const executableLibs = await sharedLibraries([executable])
  for (const lib of executableLibs) {
    for (const path of await symlinkChain(lib)) hostPaths.add(path)
  }
  for (const path of await portableSystemLibs(executableLibs)) hostPaths.add(path)
  // npm of the same installation (<prefix>/bin/node → <prefix>/lib/node_modules/npm).
  const npmDir = join(dirname(executable), '..', 'lib', 'node_modules', 'npm')
  const npmCli = join(npmDir, 'bin', 'npm-cli.js')
  const hasNpm = await isFile(npmCli)
  if (hasNpm) hostPaths.add(resolve(npmDir))
  const generated: Generated[] = [
    ...linkUnlessSame('usr/local/bin/node', executable),
    ...(hasNpm
      ? [
          shellWrapper('usr/local/bin/npm', `/usr/local/bin/node ${resolve(npmCli)}`),
          shellWrapper('usr/local/bin/npx', `/usr/local/bin/node ${resolve(npmDir, 'bin', 'npx-cli.js')}`),
        ]
      : []),
  ]
  const smoke = [
    `node -e ${shellQuote("require('http'); require('crypto'); require('zlib'); console.log(process.versions.node)")}`,
    ...(hasNpm ? ['npm --version'] : []),
  ].join(' && ')
  return {
    language: 'nodejs',
    runtime: `node${info.version}`,
    command,
    executable,
    keyPaths: [...hostPaths],
    generated,
    smokeTest: smoke,
    extraPaths: async () => [],
  }
}

export function shellQuote(value: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`
}

/**
 * Identity of an input: for files and links their size and mtime; for
 * directories also their top-level entries (a pip upgrade renames the
 * dist-info, a new python build touches every file).
 */
async function fingerprint(path: string): Promise<string> {
  const info = await lstat(path)
  let line = `${path}\0${info.isDirectory() ? 'd' : info.isSymbolicLink() ? 'l' : 'f'}\0${info.size}\0${Math.round(info.mtimeMs)}`
  if (info.isSymbolicLink()) line += `\0${await readlink(path)}`
  if (info.isDirectory()) {
    for (const name of (await readdir(path)).sort()) {
      const child = await lstat(join(path, name))
      line += `\0${name}:${child.size}:${Math.round(child.mtimeMs)}`
    }
  }
  return line
}

/** The identity of a base image: what `sebs-base:<tag>` the runtime looks for. */
export interface BaseImageKey {
  language: Language
  runtime: string
  /** The interpreter binary, symlinks resolved. */
  executable: string
  hash: string
  tag: string
}

interface KeyedParts {
  key: BaseImageKey
  parts: RecipeParts
}

const partsCache = new Map<string, Promise<KeyedParts>>()

function keyedParts(language: Language, command: string): Promise<KeyedParts> {
  const cacheKey = `${language}\0${command}`
  let pending = partsCache.get(cacheKey)
  if (!pending) {
    pending = (async () => {
      const busybox = await findBusybox()
      const parts = language === 'python' ? await pythonParts(command) : await nodeParts(command)
      parts.generated = [...baseGenerated(busybox, await busyboxApplets(busybox)), ...parts.generated]
      // The libraries of python's extension modules are not hashed (listing
      // them takes an ldd per module): a system-library upgrade alone does
      // not rebuild the image; `sebs docker base --force` does.
      const hash = createHash('sha256')
      hash.update(`recipe ${BASE_RECIPE_VERSION}\0${parts.language}\0${parts.runtime}\0`)
      for (const path of [...parts.keyPaths].sort()) hash.update(await fingerprint(path))
      hash.update(await fingerprint(busybox))
      hash.update(JSON.stringify(parts.generated.map((g) => (g.kind === 'copy' ? { ...g, source: '' } : g))))
      hash.update(parts.smokeTest)
      const digest = hash.digest('hex')
      const key: BaseImageKey = {
        language,
        runtime: parts.runtime,
        executable: parts.executable,
        hash: digest,
        tag: `${BASE_IMAGE_REPOSITORY}:${parts.runtime}-${digest.slice(0, 12)}`,
      }
      return { key, parts }
    })()
    pending.catch(() => partsCache.delete(cacheKey))
    partsCache.set(cacheKey, pending)
  }
  return pending
}

/**
 * The tag and hash of the base image for one language and interpreter
 * (`python3`, `/usr/bin/node`): cheap enough to call at every deploy, and
 * cached per process.
 */
export async function baseImageKey(language: Language, command: string): Promise<BaseImageKey> {
  return (await keyedParts(language, command)).key
}

/** The full recipe: everything that goes into the image (lists extension-module libraries: seconds). */
export async function baseImageRecipe(language: Language, command: string): Promise<BaseImageRecipe> {
  const { key, parts } = await keyedParts(language, command)
  const hostPaths = [...new Set([...parts.keyPaths, ...(await parts.extraPaths())])]
  return {
    language,
    runtime: parts.runtime,
    command,
    executable: parts.executable,
    hostPaths,
    generated: parts.generated,
    smokeTest: parts.smokeTest,
    hash: key.hash,
    tag: key.tag,
  }
}

// ---------------------------------------------------------------------------
// Images

/** True when the image with the recipe's tag exists and carries its hash. */
export async function baseImageExists(docker: Docker, recipe: { tag: string; hash: string }): Promise<boolean> {
  try {
    const info = await docker.getImage(recipe.tag).inspect()
    return info.Config?.Labels?.[LABEL_BASE_HASH] === recipe.hash
  } catch (err) {
    if (isNotFound(err)) return false
    throw new ProviderError('docker', 'TOOL_MISSING', `cannot inspect image ${recipe.tag}: ${dockerErrorMessage(err)}`, { cause: err })
  }
}

async function writeGenerated(dir: string, entries: Generated[]): Promise<void> {
  for (const entry of entries) {
    const path = join(dir, entry.path)
    await mkdir(dirname(path), { recursive: true })
    switch (entry.kind) {
      case 'dir':
        await mkdir(path, { recursive: true })
        await chmod(path, entry.mode)
        break
      case 'file':
        await writeFile(path, entry.content)
        await chmod(path, entry.mode)
        break
      case 'copy':
        await copyFile(entry.source, path)
        await chmod(path, entry.mode)
        break
      case 'symlink':
        await rm(path, { force: true })
        await symlink(entry.target, path)
        break
    }
  }
}

/** Streams the rootfs as a tar: host paths from `/`, generated entries from a staging dir. */
function rootfsTar(recipe: BaseImageRecipe, listFile: string, stagingDir: string): { stream: NodeJS.ReadableStream; done: Promise<void> } {
  const child = spawn(
    'tar',
    [
      '--create',
      '--file=-',
      '--numeric-owner',
      '--owner=0',
      '--group=0',
      // Optimised bytecode (-O/-OO) is never used by the functions.
      '--exclude=*.opt-1.pyc',
      '--exclude=*.opt-2.pyc',
      '-C',
      '/',
      '--null',
      '-T',
      listFile,
      '-C',
      stagingDir,
      '.',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let stderr = ''
  child.stderr.setEncoding('utf8')
  child.stderr.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000)
  })
  const done = new Promise<void>((resolvePromise, reject) => {
    child.on('error', (err) =>
      reject(
        (err as NodeJS.ErrnoException).code === 'ENOENT'
          ? new ProviderError('docker', 'TOOL_MISSING', 'building a base image needs GNU tar (apt-get install tar)')
          : err,
      ),
    )
    child.on('close', (code) => {
      if (code === 0) resolvePromise()
      else reject(new ProviderError('docker', 'BUILD_FAILED', `tar of the ${recipe.language} rootfs failed (exit ${code}): ${stderr.trim()}`))
    })
  })
  return { stream: child.stdout, done }
}

export interface BuiltBaseImage {
  tag: string
  language: Language
  runtime: string
  hash: string
  cached: boolean
  sizeBytes: number
  buildTimeMs: number
}

/**
 * Builds the base image of one language from the host's interpreter, unless
 * an image with the same input hash exists (`force` rebuilds). The finished
 * image is smoke-tested (its interpreter must start and import the standard
 * modules); a broken image is removed, never cached.
 */
export async function buildBaseImage(options: {
  language: Language
  /** Interpreter command (`python3`, `/usr/bin/node`); default python3 / this Node. */
  command?: string
  force?: boolean
  logger?: Logger
  docker?: Docker
}): Promise<BuiltBaseImage> {
  const language = options.language
  const logger = options.logger ?? createLogger('sebs:docker', { quiet: true })
  const command = options.command ?? (language === 'python' ? 'python3' : process.execPath)
  const docker = options.docker ?? (await requireDocker(`building the ${language} base image`))
  const started = performance.now()
  const key = await baseImageKey(language, command)
  if (!options.force && (await baseImageExists(docker, key))) {
    const info = await docker.getImage(key.tag).inspect()
    const pruned = await pruneOlderBaseImages(docker, key)
    if (pruned.length > 0) logger.info(`removed older ${pruned.join(', ')}`)
    return { tag: key.tag, language, runtime: key.runtime, hash: key.hash, cached: true, sizeBytes: info.Size, buildTimeMs: 0 }
  }
  const recipe = await baseImageRecipe(language, command)

  logger.info(`building ${recipe.tag} from ${recipe.executable}…`)
  const work = join(tmpdir(), `sebs-base-${process.pid}-${randomBytes(4).toString('hex')}`)
  const staging = join(work, 'rootfs')
  try {
    await mkdir(staging, { recursive: true })
    await chmod(staging, 0o755)
    await writeGenerated(staging, recipe.generated)
    const listFile = join(work, 'host-paths')
    // Relative to `/`: tar stores them as `usr/bin/node`, docker import puts them at /usr/bin/node.
    await writeFile(listFile, recipe.hostPaths.map((p) => p.replace(/^\/+/, '')).join('\0') + '\0')

    const tar = rootfsTar(recipe, listFile, staging)
    const [repo, tag] = recipe.tag.split(':') as [string, string]
    const changes = [
      `ENV PATH=${BASE_IMAGE_PATH}`,
      `LABEL ${LABEL_MANAGED}=true`,
      `LABEL ${LABEL_KIND}=base-image`,
      `LABEL ${LABEL_BASE_HASH}=${recipe.hash}`,
      `LABEL ${LABEL_BASE_LANGUAGE}=${language}`,
      `LABEL ${LABEL_BASE_RUNTIME}=${recipe.runtime}`,
      `LABEL ${LABEL_BASE_EXECUTABLE}=${recipe.executable}`,
      'CMD ["/bin/sh"]',
    ]
    let imported: Promise<unknown>
    try {
      const response = await docker.importImage(tar.stream as unknown as NodeJS.ReadableStream, { repo, tag, changes } as unknown as object)
      imported = followProgress(docker, response)
    } catch (err) {
      throw new ProviderError('docker', 'BUILD_FAILED', `docker import of ${recipe.tag} failed: ${dockerErrorMessage(err)}`, { cause: err })
    }
    // Both must succeed: a tar that failed halfway would give a truncated image.
    await Promise.all([tar.done, imported])

    const check = await runContainer(docker, {
      image: recipe.tag,
      cmd: ['/bin/sh', '-c', recipe.smokeTest],
      kind: 'image-check',
      timeoutMs: 60_000,
    })
    if (check.exitCode !== 0) {
      await docker.getImage(recipe.tag).remove({ force: true }).catch(() => {})
      throw new ProviderError(
        'docker',
        'BUILD_FAILED',
        `the new ${recipe.tag} does not work (\`${recipe.smokeTest}\` exited with ${check.exitCode}); it was removed. Output:\n${check.logs.trim()}`,
      )
    }
    const info = await docker.getImage(recipe.tag).inspect()
    const pruned = await pruneOlderBaseImages(docker, recipe)
    if (pruned.length > 0) logger.info(`removed older ${pruned.join(', ')}`)
    const buildTimeMs = performance.now() - started
    logger.info(`built ${recipe.tag} in ${formatDuration(buildTimeMs)} (${check.logs.trim().split('\n').join(', ')})`)
    return { tag: recipe.tag, language, runtime: recipe.runtime, hash: recipe.hash, cached: false, sizeBytes: info.Size, buildTimeMs }
  } finally {
    await rm(work, { recursive: true, force: true })
  }
}

/**
 * Removes base images of the same interpreter (language and executable)
 * with another hash: their inputs changed, nothing will look for them again.
 * An image a container still uses stays (the engine refuses); that is fine.
 */
async function pruneOlderBaseImages(docker: Docker, recipe: { language: Language; executable: string; hash: string }): Promise<string[]> {
  const images = await docker
    .listImages({ filters: { label: [`${LABEL_BASE_LANGUAGE}=${recipe.language}`, `${LABEL_BASE_EXECUTABLE}=${recipe.executable}`] } })
    .catch(() => [])
  const removed: string[] = []
  for (const image of images) {
    if (image.Labels?.[LABEL_BASE_HASH] === recipe.hash) continue
    for (const tag of image.RepoTags ?? []) {
      if (!tag.startsWith(`${BASE_IMAGE_REPOSITORY}:`)) continue
      try {
        await docker.getImage(tag).remove()
        removed.push(tag)
      } catch {
        // In use by a container, or already gone.
      }
    }
  }
  return removed
}

function followProgress(docker: Docker, stream: NodeJS.ReadableStream): Promise<unknown[]> {
  return new Promise((resolvePromise, reject) => {
    docker.modem.followProgress(stream, (err: Error | null, output: unknown[]) => {
      if (err) {
        reject(err)
        return
      }
      const failed = (output as Array<{ error?: string; errorDetail?: { message?: string } }>).find((o) => o.error)
      if (failed) reject(new ProviderError('docker', 'BUILD_FAILED', `docker: ${failed.errorDetail?.message ?? failed.error}`))
      else resolvePromise(output)
    })
  })
}

// ---------------------------------------------------------------------------
// `sebs docker base`

const USAGE = `Usage: sebs docker base [--language python|nodejs] [--python CMD] [--node CMD] [--force]

Builds the offline base images of the Docker runtime (one per language) from
this machine's interpreters with \`docker import\`; nothing is pulled. An image
whose inputs have not changed is reused (tag sebs-base:<runtime>-<hash>).

  --language L   only this language (repeatable, or a comma list; default: python and nodejs)
  --python CMD   the python interpreter to package (default: python3)
  --node CMD     the node binary to package (default: this Node)
  --force        rebuild even when an image with the same inputs exists

Needs a Docker engine (DOCKER_HOST, or the standard socket): see scripts/docker-setup.sh.`

/**
 * `npx sebs docker base [flags]`: builds (or finds cached) the base images
 * and prints one line per image on stdout. Returns the exit code: 0 when
 * every image is there, 1 when a build failed, 2 on a usage error.
 */
export async function dockerBaseCommand(argv: string[]): Promise<number> {
  let values: { language?: string[]; python?: string; node?: string; force?: boolean; help?: boolean }
  try {
    ;({ values } = parseArgs({
      args: argv,
      allowPositionals: false,
      options: {
        language: { type: 'string', multiple: true },
        python: { type: 'string' },
        node: { type: 'string' },
        force: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }))
  } catch (err) {
    process.stderr.write(`sebs docker base: ${errorMessage(err)}\n\n${USAGE}\n`)
    return 2
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`)
    return 0
  }
  const requested = (values.language ?? [...LANGUAGES]).flatMap((l) => l.split(',')).map((l) => l.trim()).filter(Boolean)
  const unknown = requested.filter((l) => !(LANGUAGES as readonly string[]).includes(l))
  if (unknown.length > 0) {
    process.stderr.write(`sebs docker base: unknown language '${unknown[0]}'; choose from ${LANGUAGES.join(', ')}\n`)
    return 2
  }
  const logger = createLogger('sebs:docker')
  let docker: Docker
  try {
    docker = await requireDocker('`sebs docker base`')
  } catch (err) {
    process.stderr.write(`sebs docker base: ${errorMessage(err)}\n`)
    return 1
  }
  let failed = false
  for (const language of [...new Set(requested)] as Language[]) {
    try {
      const built = await buildBaseImage({
        language,
        command: language === 'python' ? values.python : values.node,
        force: values.force,
        logger,
        docker,
      })
      process.stdout.write(
        built.cached
          ? `${built.tag}: cached (${language}, ${built.runtime}, ${formatBytes(built.sizeBytes)})\n`
          : `${built.tag}: built in ${formatDuration(built.buildTimeMs)} (${language}, ${built.runtime}, ${formatBytes(built.sizeBytes)})\n`,
      )
    } catch (err) {
      failed = true
      process.stderr.write(`sebs docker base: ${language}: ${errorMessage(err)}\n`)
    }
  }
  return failed ? 1 : 0
}
