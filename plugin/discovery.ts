/**
 * Finds benchmark directories (`<N00.group>/<NNN.name>/config.json`) and
 * validates them by convention. Every problem names the file and the field.
 */
import { existsSync, readFileSync } from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import fg from 'fast-glob'
import { z } from 'zod'
import { BenchmarkError } from '../core/errors.ts'
import { FOREIGN_LANGUAGES, LANGUAGES, type BenchmarkConfig, type BenchmarkDefinition, type Language } from '../core/types.ts'

/** The package's own `benchmarks/` folder. */
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
  })
  .passthrough()

export interface DiscoveryResult {
  benchmarks: BenchmarkDefinition[]
  /** Things the user should know but that are not errors (skipped languages, shadowed benchmarks). */
  notices: string[]
}

function parseConfig(file: string, notices: string[]): BenchmarkConfig {
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
      `field '${field}': ${issue.message}. Expected { "timeout": seconds, "memory": MB, "languages": ["python", "nodejs"], "modules"?: ["storage", "nosql"] }.`,
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
  }
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
  const config = parseConfig(configFile, notices)
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
  const ts = join(dir, 'input.ts')
  const py = join(dir, 'input.py')
  const input = existsSync(ts) ? { kind: 'ts' as const, path: ts } : existsSync(py) ? { kind: 'py' as const, path: py } : undefined
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
