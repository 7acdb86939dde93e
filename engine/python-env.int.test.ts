/**
 * The managed Python environment of SeBS-format input.py (test process,
 * real python3 -m venv and pip from the local index): created on first use
 * with progress lines, reused, the benchmark's input-requirements.txt, and
 * one clear DEPENDENCY_UNAVAILABLE error naming the package and the index
 * when pip's index cannot be reached (PIP_INDEX_URL at a closed loopback port).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { SebsError } from '../core/errors.ts'
import { createLogger } from '../core/logger.ts'
import type { BenchmarkInputModule } from '../core/benchmark-input.ts'
import { loadInputModule } from './inputs.ts'
import {
  INPUT_PYTHON_ENV,
  INPUT_REQUIREMENTS_ENV,
  PYTHON_ENV_COMPLETE,
  SEBS_INPUT_REQUIREMENTS,
  inputPython,
  moduleOf,
  requirementName,
} from './python-env.ts'

const scratch = mkdtempSync(join(tmpdir(), 'sebs-pyenv-test-'))
const savedEnv = { ...process.env }
const open: BenchmarkInputModule[] = []

afterEach(async () => {
  await Promise.all(open.splice(0).map((m) => m.close?.()))
  // Each test sets the pip/SEBS variables it needs.
  for (const k of Object.keys(process.env)) if (!(k in savedEnv)) delete process.env[k]
  Object.assign(process.env, savedEnv)
})
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

let counter = 0
function benchmarkWith(inputPy: string, inputRequirements?: string) {
  const id = `99${counter++}.env-test`
  const dir = join(scratch, 'benchmarks', id)
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'input.py'), inputPy)
  if (inputRequirements !== undefined) writeFileSync(join(dir, 'input-requirements.txt'), inputRequirements)
  return { id, dir, input: { kind: 'py' as const, path: join(dir, 'input.py') } }
}

function requirementsFile(lines: string[]): string {
  const file = join(scratch, `base-${counter++}.txt`)
  writeFileSync(file, lines.join('\n') + '\n')
  return file
}

function capture() {
  const lines: string[] = []
  return { lines, logger: createLogger('sebs:test', { write: (l) => lines.push(l) }) }
}

const PIL_INPUT = `
from PIL import Image
import os

def buckets_count():
    return (0, 0)

def generate_input(data_dir, size, benchmarks_bucket, input_paths, output_paths, upload_func, nosql_func):
    path = os.path.join(data_dir, 'pixel.png')
    Image.new('RGB', (3, 2), (10, 20, 30)).save(path)
    with Image.open(path) as im:
        return {'size': list(im.size), 'pixel': list(im.getpixel((1, 1)))}
`

async function generate(mod: BenchmarkInputModule, dataDir: string) {
  mkdirSync(dataDir, { recursive: true })
  return mod.generateInput({ dataDir, size: 'test', bucket: '', inputPrefixes: [], outputPrefixes: [], upload: async (_i, k) => k })
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address() as { port: number }
  await new Promise<void>((r) => server.close(() => r()))
  return port
}

/** pip sees only an index at a closed loopback port: no config files, no find-links, no extra index. */
async function unreachableIndex(): Promise<string> {
  const index = `http://127.0.0.1:${await closedPort()}/simple`
  process.env.PIP_INDEX_URL = index
  process.env.PIP_CONFIG_FILE = '/dev/null'
  process.env.PIP_RETRIES = '0'
  delete process.env.PIP_FIND_LINKS
  delete process.env.PIP_EXTRA_INDEX_URL
  return index
}

describe('requirement names', () => {
  it('map to the modules input.py imports', () => {
    expect(SEBS_INPUT_REQUIREMENTS.map(moduleOf)).toEqual(['numpy', 'scipy', 'pandas', 'PIL', 'requests', 'imageio_ffmpeg'])
    expect(requirementName('pandas>=1.1.3')).toBe('pandas')
    expect(requirementName('Typing_Extensions==4.0 ; python_version<"3.12"')).toBe('typing-extensions')
    expect(moduleOf('python-dateutil')).toBe('python_dateutil')
  })
})

describe('the input.py environment', () => {
  let cacheDir: string
  beforeAll(() => {
    cacheDir = join(scratch, 'cache')
  })

  it('is created on first use with progress lines, runs an input.py that imports PIL, and is reused', async () => {
    process.env[INPUT_REQUIREMENTS_ENV] = requirementsFile(['Pillow'])
    const bench = benchmarkWith(PIL_INPUT)
    const { lines, logger } = capture()
    const env = await inputPython(bench.input.path, { python: 'python3', cacheDir, logger, heartbeatMs: 250 })
    expect(env.dir).toMatch(new RegExp(`^${cacheDir}/python-env/[0-9a-f]{16}$`))
    expect(env.python).toBe(join(env.dir!, 'bin', 'python'))
    expect(env.missing).toEqual([])
    expect(lines[0]).toBe(`[sebs] python environment for input.py: installing 1 package(s) (pillow) into ${env.dir}…`)
    // Heartbeats while pip runs, and the duration at the end.
    expect(lines.some((l) => /^\[sebs\] python environment for input\.py: installing .*: [\d.]+ m?s/.test(l))).toBe(true)
    expect(lines.at(-1)).toMatch(/^\[sebs\] python environment for input\.py ready \(1 of 1 package\(s\) installed\) in [\d.]+ (m?s|min \d+ s)$/)
    const marker = readFileSync(join(env.dir!, PYTHON_ENV_COMPLETE), 'utf8')
    expect(JSON.parse(marker)).toMatchObject({ requirements: ['Pillow'], missing: [] })

    // The plain interpreter lacks PIL (else this test proves nothing); the environment's has it.
    const mod = await loadInputModule(bench, { python: 'python3', cacheDir, logger })
    open.push(mod)
    expect(await generate(mod, join(scratch, 'data', bench.id))).toEqual({ size: [3, 2], pixel: [10, 20, 30] })
    const plain = await loadInputModule(bench, { python: 'python3' }).catch((e: unknown) => e)
    expect(plain).toBeInstanceOf(SebsError)
    expect((plain as Error).message).toMatch(/No module named 'PIL'/)

    // A second benchmark with the same requirement set shares the environment: no install line.
    const again = capture()
    const other = benchmarkWith('def generate_input(*args):\n    return {}\n')
    expect(await inputPython(other.input.path, { python: 'python3', cacheDir, logger: again.logger })).toMatchObject({ dir: env.dir })
    expect(again.lines).toEqual([])
    expect(readFileSync(join(env.dir!, PYTHON_ENV_COMPLETE), 'utf8')).toBe(marker)
  }, 300_000)

  it("adds the benchmark's input-requirements.txt (its own environment), and names an undeclared module", async () => {
    process.env[INPUT_REQUIREMENTS_ENV] = requirementsFile([])
    const declared = benchmarkWith('import six\ndef generate_input(*args):\n    return {"six": six.__name__}\n', '# the generator needs\nsix\n')
    const { logger } = capture()
    const mod = await loadInputModule(declared, { python: 'python3', cacheDir, logger })
    open.push(mod)
    expect(await generate(mod, join(scratch, 'data', declared.id))).toEqual({ six: 'six' })
    const env = await inputPython(declared.input.path, { python: 'python3', cacheDir, logger })
    expect(existsSync(join(env.dir!, PYTHON_ENV_COMPLETE))).toBe(true)

    // An import the environment cannot satisfy: the fix is to declare it.
    writeFileSync(declared.input.path, 'import sebs_module_nowhere_4711\ndef generate_input(*args):\n    return {}\n')
    const err = await loadInputModule(declared, { python: 'python3', cacheDir, logger }).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE' })
    expect((err as Error).message).toContain(`imports 'sebs_module_nowhere_4711', which input.py's environment ${env.dir} does not have`)
    expect((err as Error).message).toContain(join(declared.dir, 'input-requirements.txt'))
  }, 300_000)

  it('with no requirements at all, or SEBS_INPUT_PYTHON set, uses that interpreter as it is', async () => {
    process.env[INPUT_REQUIREMENTS_ENV] = '/dev/null'
    const bench = benchmarkWith('def generate_input(*args):\n    return {}\n')
    const { logger, lines } = capture()
    expect(await inputPython(bench.input.path, { python: 'python3', cacheDir, logger })).toEqual({ python: 'python3', missing: [] })
    process.env[INPUT_PYTHON_ENV] = 'python3'
    delete process.env[INPUT_REQUIREMENTS_ENV]
    expect(await inputPython(bench.input.path, { python: '/usr/bin/python-not-this', cacheDir, logger })).toEqual({ python: 'python3', missing: [] })
    expect(lines).toEqual([])
    process.env[INPUT_PYTHON_ENV] = '/opt/sebs-no-such/python'
    await expect(inputPython(bench.input.path, { python: 'python3', cacheDir, logger })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: 'SEBS_INPUT_PYTHON=/opt/sebs-no-such/python: is not an executable file. Point it at the Python that should run input.py, or unset it to use the managed environment.',
    })
  })
})

describe('an unreachable index', () => {
  it('a SeBS package that cannot be installed: one warning, and one error naming it, the index and the fix when input.py imports it', async () => {
    const index = await unreachableIndex()
    process.env[INPUT_REQUIREMENTS_ENV] = requirementsFile(['six'])
    const cacheDir = join(scratch, 'cache-offline')
    const bench = benchmarkWith('import six\ndef generate_input(*args):\n    return {}\n')
    const { lines, logger } = capture()
    const started = Date.now()
    const err = await loadInputModule(bench, { python: 'python3', cacheDir, logger }).catch((e: unknown) => e)
    // Connection refused is final: no retries (pip's default would wait through 5 of them per package).
    expect(Date.now() - started).toBeLessThan(120_000)
    expect(err).toBeInstanceOf(SebsError)
    expect(err).toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE' })
    const message = (err as Error).message
    expect(message).toMatch(new RegExp(`^${bench.input.path}: imports 'six' from the Python package 'six', which could not be installed`))
    expect(message).toContain(`index ${index}`)
    expect(message).toContain('PIP_INDEX_URL')
    expect(message).toContain(`${INPUT_PYTHON_ENV}=/path/to/that/python`)
    expect(message).toContain("Python said: ModuleNotFoundError: No module named 'six'")
    expect(message).not.toMatch(/\n\s+at /)
    const warnings = lines.filter((l) => l.startsWith('[sebs] warning: input.py environment'))
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toContain('lacks six')

    // An input.py that does not import it runs.
    const fine = benchmarkWith('def generate_input(*args):\n    return {"ok": True}\n')
    const mod = await loadInputModule(fine, { python: 'python3', cacheDir, logger })
    open.push(mod)
    expect(await generate(mod, join(scratch, 'data', fine.id))).toEqual({ ok: true })
  }, 300_000)

  it('a package the benchmark declares: DEPENDENCY_UNAVAILABLE naming it, the file and the index', async () => {
    const index = await unreachableIndex()
    process.env[INPUT_REQUIREMENTS_ENV] = '/dev/null'
    const cacheDir = join(scratch, 'cache-offline-declared')
    const bench = benchmarkWith('def generate_input(*args):\n    return {}\n', 'six\n')
    const err = await loadInputModule(bench, { python: 'python3', cacheDir, logger: capture().logger }).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE' })
    const message = (err as Error).message
    expect(message).toContain(`the Python package 'six' that ${join(bench.dir, 'input-requirements.txt')} declares cannot be installed for input generation`)
    expect(message).toContain(`index ${index}`)
    expect(message).toContain('PIP_INDEX_URL')
    expect(message.split('\n').length).toBeLessThan(8)
  }, 300_000)
})
