/**
 * Which bench cases a run has, and which of them the user's filters select.
 * The global setup builds, deploys and uploads only what is selected, so it
 * applies Vitest's own filters (`-t`, file filters) itself, the same way
 * Vitest will when it runs the bench files.
 */
import { join, relative } from 'node:path'
import { ConfigError } from '../core/errors.ts'
import { LANGUAGES, SIZES, type BenchmarkDefinition, type Language, type Size } from '../core/types.ts'
import { caseTaskNames } from './bench-tasks.ts'

export interface BenchCase {
  benchmark: string
  language: Language
  size: Size
  /** The bench name inside `describe(benchmark)`. */
  name: string
  /** The case's name with its benchmark: `<describe> <case>` (`110.dynamic-html python test`). */
  fullName: string
  /**
   * What Vitest matches `-t` against, per task of the case: `<describe> <case> · cold`
   * and `… · warm`, or one per experiment point (`<describe> <case> warm 128MB`);
   * Vitest 4 joins names with a space, Vitest 5 with ` > `; both are here.
   */
  taskNames: string[]
  /** The file Vitest reports for the suite (the benchmark's config.json). */
  file: string
}

export function caseName(language: Language, size: Size): string {
  return `${language} ${size}`
}

/**
 * The parts of one case's tasks in an experiment run: its point names
 * (`cold 128MB`, …; the task is `<language> <size> <point>`). Absent: a plain
 * run, whose tasks are `· cold` and `· warm`.
 */
export type CaseParts = (benchmark: BenchmarkDefinition, language: Language) => string[]

/** Every case the configured languages and sizes give, benchmark by benchmark. */
export function enumerateCases(
  benchmarks: BenchmarkDefinition[],
  options: { languages?: Language[]; sizes: Size[]; parts?: CaseParts },
): BenchCase[] {
  const cases: BenchCase[] = []
  for (const b of benchmarks) {
    const langs = b.config.languages.filter((l) => !options.languages || options.languages.includes(l))
    for (const language of LANGUAGES.filter((l) => langs.includes(l))) {
      const parts = options.parts?.(b, language)
      for (const size of SIZES.filter((s) => options.sizes.includes(s))) {
        const name = caseName(language, size)
        const fullName = `${b.id} ${name}`
        const tasks = caseTaskNames(name)
        const taskSuffixes = parts ? parts.map((p) => `${name} ${p}`) : [tasks.cold, tasks.warm]
        const taskNames = [' ', ' > '].flatMap((sep) => taskSuffixes.map((t) => `${b.id}${sep}${t}`))
        cases.push({ benchmark: b.id, language, size, name, fullName, taskNames, file: join(b.dir, 'config.json') })
      }
    }
  }
  return cases
}

export interface CaseFilters {
  testNamePattern?: RegExp
  /** Vitest's positional file filters: a file is selected when its path contains one. */
  fileFilters?: string[]
  root: string
}

export function fileMatches(file: string, filters: string[] | undefined, root: string): boolean {
  if (!filters || filters.length === 0) return true
  const rel = relative(root, file)
  return filters.some((f) => file.includes(f) || rel.includes(f) || rel.includes(f.replace(/^\.\//, '')))
}

/**
 * The cases the filters select. A case is selected when `-t` matches its
 * name or the name of one of its tasks (`-t '· cold'` selects every case,
 * and Vitest then runs only their cold tasks).
 */
export function selectCases(cases: BenchCase[], filters: CaseFilters): BenchCase[] {
  const pattern = filters.testNamePattern && stateless(filters.testNamePattern)
  return cases.filter(
    (c) => fileMatches(c.file, filters.fileFilters, filters.root) && (!pattern || pattern.test(c.fullName) || c.taskNames.some((n) => pattern.test(n))),
  )
}

/**
 * The Vitest 5 names (` > `-joined) of the tasks of a case that `-t`
 * selects: all of them when it matches the case's name, else those whose
 * name it matches in either spelling (`-t '· cold'` keeps the cold task).
 */
export function selectedVitest5TaskNames(c: BenchCase, testNamePattern: RegExp): string[] {
  const pattern = stateless(testNamePattern)
  // taskNames: every task with ' ' between the benchmark and the task, then the same tasks with ' > '.
  const half = c.taskNames.length / 2
  const spaced = c.taskNames.slice(0, half)
  const arrowed = c.taskNames.slice(half)
  if (pattern.test(c.fullName)) return arrowed
  return arrowed.filter((name, i) => pattern.test(spaced[i]!) || pattern.test(name))
}

/** The pattern without the `g` flag, whose `test` would otherwise carry `lastIndex` from one name to the next. */
function stateless(pattern: RegExp): RegExp {
  return pattern.flags.includes('g') ? new RegExp(pattern.source, pattern.flags.replace('g', '')) : pattern
}

/** The error for filters that select nothing: says what exists and how to widen the run. */
export function nothingSelectedError(all: BenchCase[], filters: CaseFilters, options: { sizes: Size[]; languages?: Language[] }): ConfigError {
  const what: string[] = []
  if (filters.testNamePattern) what.push(`-t ${filters.testNamePattern.source}`)
  if (filters.fileFilters?.length) what.push(`file filter ${filters.fileFilters.join(' ')}`)
  what.push(`sizes ${options.sizes.join(',')}`)
  if (options.languages) what.push(`languages ${options.languages.join(',')}`)
  const listed = all.slice(0, 60).map((c) => `  ${c.fullName}`)
  if (all.length > listed.length) listed.push(`  … and ${all.length - listed.length} more`)
  const hint = filters.testNamePattern && SIZES.some((s) => filters.testNamePattern!.source.includes(s) && !options.sizes.includes(s))
    ? ` To run other input sizes, pass --size (e.g. --size small); -t only selects among the sizes being run.`
    : ''
  return new ConfigError(
    'NOTHING_SELECTED',
    `No benchmark case matches ${what.join(', ')}.${hint} Cases that exist:\n${listed.join('\n') || '  (none)'}`,
  )
}
