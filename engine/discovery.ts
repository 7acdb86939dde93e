/**
 * Finds benchmark directories (`<N00.group>/<NNN.name>/config.json`) and
 * validates them by convention. Every problem names the file and the field.
 */
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs'
import { basename, dirname, isAbsolute, join, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import fg from 'fast-glob'
import { z } from 'zod'
import { BenchmarkError } from '../core/errors.ts'
import { FOREIGN_LANGUAGES, LANGUAGES, type BenchmarkConfig, type BenchmarkDefinition, type Language } from '../core/types.ts'

/** File names of a benchmark's input module, in order of preference. */
const INPUT_MODULE_FILES = ['input.ts', 'input.mts', 'input.js', 'input.mjs']

/** The package's own `benchmarks/` folder (dist/benchmarks in the built package). */
export const BUILTIN_BENCHMARKS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'benchmarks')

const NAME_RE = /^\d{3}\.[a-z0-9-]+$/

const HANDLER_FILE: Record<Language, string> = { python: 'function.py', nodejs: 'function.js' }

const languageEntry = z.union([
  z.string(),
  z.object({ language: z.string(), variants: z.array(z.string()).optional() }).passthrough(),
])

const configSchema = z
  .object({
    timeout: z.number().positive(),
    memory: z.number().int().positive(),
    languages: z.array(languageEntry).min(1),
    modules: z.array(z.enum(['storage', 'nosql'])).optional(),
    shared: z.record(z.string(), z.array(z.string().min(1)).min(1)).optional(),
  })
  .passthrough()

const CONFIG_SHAPE =
  '{ "timeout": seconds, "memory": MB, "languages": ["python", "nodejs"], "modules"?: ["storage", "nosql"], ' +
  '"shared"?: { "python": ["../_shared/python"], "nodejs": ["../_shared/nodejs"] } }'

export interface DiscoveryResult {
  benchmarks: BenchmarkDefinition[]
  /** Things the user should know but that are not errors (skipped languages, shadowed benchmarks). */
  notices: string[]
}

/**
 * config.json's `shared`: per language, folders (relative to the benchmark
 * directory) whose files the package builder puts next to the function's own.
 * Each must be an existing directory inside the benchmarks folder `root`, so
 * that a benchmarks folder stays self-contained, and must not hold the
 * benchmark itself. Returns absolute paths.
 */
function resolveShared(file: string, root: string, raw: Record<string, string[]> | undefined, languages: Language[]): Partial<Record<Language, string[]>> {
  const shared: Partial<Record<Language, string[]>> = {}
  if (!raw) return shared
  const fail = (field: string, message: string) => new BenchmarkError('BENCHMARK_CONFIG_INVALID', file, `field '${field}': ${message}`)
  const dir = dirname(file)
  const benchReal = realpathSync(dir)
  const rootReal = realpathSync(root)
  for (const [key, paths] of Object.entries(raw)) {
    // Skipped like the language itself (a notice is given for 'languages').
    if ((FOREIGN_LANGUAGES as readonly string[]).includes(key)) continue
    if (!(LANGUAGES as readonly string[]).includes(key)) {
      throw fail(`shared.${key}`, `unknown language '${key}'; use ${LANGUAGES.map((l) => `'${l}'`).join(' or ')}.`)
    }
    const lang = key as Language
    if (!languages.includes(lang)) {
      throw fail(`shared.${lang}`, `'${lang}' is not in 'languages'; remove this entry or add the language.`)
    }
    const dirs: string[] = []
    paths.forEach((path, i) => {
      const field = `shared.${lang}[${i}]`
      if (isAbsolute(path)) {
        throw fail(field, `'${path}' is absolute; give the folder relative to the benchmark directory, e.g. '../_shared/${lang}'.`)
      }
      const abs = resolve(dir, path)
      if (!existsSync(abs) || !statSync(abs).isDirectory()) {
        throw fail(field, `'${path}' resolves to ${abs}, which is not a directory; fix the path (relative to ${dir}) or create the folder.`)
      }
      const real = realpathSync(abs)
      if (!real.startsWith(rootReal + sep)) {
        throw fail(
          field,
          `'${path}' resolves to ${real}, outside the benchmarks folder ${rootReal}; move the shared code inside it ` +
            `(e.g. a '_'-prefixed folder of the group, which discovery skips).`,
        )
      }
      if (real === benchReal || benchReal.startsWith(real + sep)) {
        throw fail(field, `'${path}' is the benchmark directory or one above it; name a folder that holds only the shared files.`)
      }
      if (real === join(benchReal, lang)) {
        throw fail(field, `'${path}' is the benchmark's own ${lang}/ folder, which is packaged anyway; remove the entry.`)
      }
      if (dirs.includes(abs)) throw fail(field, `'${path}' is listed twice; remove one.`)
      dirs.push(abs)
    })
    shared[lang] = dirs
  }
  return shared
}

function parseConfig(file: string, root: string, notices: string[]): BenchmarkConfig {
  let raw: unknown
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'))
  } catch (cause) {
    throw new BenchmarkError('BENCHMARK_CONFIG_INVALID', file, `not valid JSON (${(cause as Error).message}).`, { cause })
  }
  const parsed = configSchema.safeParse(raw)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    const field = issue.path.join('.') || '(root)'
    throw new BenchmarkError(
      'BENCHMARK_CONFIG_INVALID',
      file,
      `field '${field}': ${issue.message}. Expected ${CONFIG_SHAPE}.`,
    )
  }
  const languages: Language[] = []
  const variants: BenchmarkConfig['variants'] = {}
  for (const entry of parsed.data.languages) {
    const name = typeof entry === 'string' ? entry : entry.language
    if ((LANGUAGES as readonly string[]).includes(name)) {
      const lang = name as Language
      if (!languages.includes(lang)) languages.push(lang)
      if (typeof entry !== 'string' && entry.variants) variants[lang] = entry.variants
    } else if ((FOREIGN_LANGUAGES as readonly string[]).includes(name)) {
      notices.push(`${file}: language '${name}' is not run by this suite; skipped.`)
    } else {
      throw new BenchmarkError(
        'BENCHMARK_CONFIG_INVALID',
        file,
        `field 'languages': unknown language '${name}'; use ${LANGUAGES.map((l) => `'${l}'`).join(' or ')}.`,
      )
    }
  }
  return {
    timeout: parsed.data.timeout,
    memory: parsed.data.memory,
    languages,
    variants,
    modules: parsed.data.modules ?? [],
    shared: resolveShared(file, root, parsed.data.shared, languages),
  }
}

/**
 * Reads and validates `<dir>/config.json` of a benchmark that lives in the
 * benchmarks folder `root` (shared folders must be inside it).
 */
export function readBenchmarkConfig(dir: string, root: string, notices: string[] = []): BenchmarkConfig {
  return parseConfig(join(dir, 'config.json'), root, notices)
}

/** Validates one benchmark directory. */
export function loadBenchmark(dir: string, source: string, notices: string[] = []): BenchmarkDefinition {
  const id = basename(dir)
  const group = basename(dirname(dir))
  if (!NAME_RE.test(id)) {
    throw new BenchmarkError('BENCHMARK_NAME_INVALID', dir, `benchmark name '${id}' must look like 'NNN.name' (three digits, a dot, lowercase letters, digits and dashes).`)
  }
  if (!NAME_RE.test(group)) {
    throw new BenchmarkError('BENCHMARK_NAME_INVALID', dir, `group folder '${group}' must look like 'N00.group', e.g. '100.webapps'.`)
  }
  const configFile = join(dir, 'config.json')
  const config = parseConfig(configFile, source, notices)
  for (const lang of config.languages) {
    const handler = join(dir, lang, HANDLER_FILE[lang])
    if (!existsSync(handler)) {
      throw new BenchmarkError(
        'BENCHMARK_LAYOUT_INVALID',
        configFile,
        `field 'languages' lists '${lang}' but ${handler} is missing; add the handler or remove the language.`,
      )
    }
  }
  // input.ts in a project; input.js in the built package (dist/benchmarks), where Node loads no TypeScript.
  const module = INPUT_MODULE_FILES.map((f) => join(dir, f)).find((f) => existsSync(f))
  const py = join(dir, 'input.py')
  const input = module ? { kind: 'ts' as const, path: module } : existsSync(py) ? { kind: 'py' as const, path: py } : undefined
  if (!input) {
    throw new BenchmarkError('BENCHMARK_LAYOUT_INVALID', dir, `no input generator: add input.ts (or SeBS's input.py).`)
  }
  return { id, group, dir, config, input, source }
}

/** Finds the benchmarks in one folder; ids must be unique within it. */
export function discoverFolder(root: string, notices: string[]): BenchmarkDefinition[] {
  if (!existsSync(root)) {
    throw new BenchmarkError('BENCHMARK_NOT_FOUND', root, 'benchmarks folder does not exist; check --benchmarks / the benchmarks config option.')
  }
  const configs = fg.sync('*/*/config.json', { cwd: root, absolute: true, onlyFiles: true }).sort()
  const found = new Map<string, BenchmarkDefinition>()
  for (const file of configs) {
    const dir = dirname(file)
    if (basename(dirname(dir)).startsWith('_') || basename(dir).startsWith('_')) continue
    const def = loadBenchmark(dir, root, notices)
    const other = found.get(def.id)
    if (other) {
      throw new BenchmarkError('BENCHMARK_DUPLICATE', dir, `benchmark id '${def.id}' is also defined at ${other.dir}; ids must be unique within a folder.`)
    }
    found.set(def.id, def)
  }
  return [...found.values()]
}

/**
 * Built-in benchmarks first, then extra folders; a benchmark in an extra
 * folder replaces a built-in one with the same id (with a notice).
 */
export function discoverBenchmarks(options: { builtin: boolean; extra: string[]; builtinDir?: string }): DiscoveryResult {
  const notices: string[] = []
  const byId = new Map<string, BenchmarkDefinition>()
  const folders = [...(options.builtin ? [options.builtinDir ?? BUILTIN_BENCHMARKS_DIR] : []), ...options.extra]
  for (const folder of folders) {
    for (const def of discoverFolder(folder, notices)) {
      const previous = byId.get(def.id)
      if (previous) notices.push(`${def.id} from ${def.dir} shadows ${previous.dir}.`)
      byId.set(def.id, def)
    }
  }
  const benchmarks = [...byId.values()].sort((a, b) => a.id.localeCompare(b.id))
  return { benchmarks, notices }
}
