/**
 * What an experiment is: a plan of points (one bench each: a phase, memory
 * size or parameter value) and a function that measures one point against an
 * ExperimentContext. Plus the shared pieces: settings, per-point summaries.
 */
import { z } from 'zod'
import { ConfigError, SebsError } from '../core/errors.ts'
import type { InvocationRecord, Language } from '../core/types.ts'
import { summarizeCost, type PriceRow } from '../analysis/cost.ts'
import { computeStatistics, type Statistics } from '../analysis/statistics.ts'
import { usable, type ExperimentContext } from './context.ts'
import type { RepetitionOutcome, RepetitionSettings } from './repetitions.ts'

/** Settings of one experiment run: the CLI's, and the config file's `experiments[name]` section. */
export interface ExperimentSettings extends RepetitionSettings {
  /** Memory sizes to sweep, MB (from --memory; else the deployed memory). */
  memory: number[]
  maxCost?: number
  costModel?: string
  costModels?: Record<string, Partial<PriceRow>>
  /** The experiment's own settings, unparsed (each experiment validates its part). */
  options: Record<string, unknown>
}

export interface ExperimentPoint {
  /** Bench name after `<language> <size> `, e.g. `cold 128MB`. */
  name: string
  memory?: number
}

export interface PointOutcome {
  point: string
  records: InvocationRecord[]
  repetitions?: RepetitionOutcome
  /** Experiment-specific results (estimates, histograms). */
  data?: Record<string, unknown>
  /** Lines for the console. */
  lines: string[]
}

export interface ExperimentTarget {
  provider: string
  /** Functions run on this machine (their processes can be probed): the provider descriptor's flag. */
  functionsOnThisMachine: boolean
  language: Language
  /** The memory the function was deployed with, MB. */
  deployedMemory: number
}

/**
 * One experiment, described once: its name, what it measures, its settings and
 * its implementation. suites/index.ts (names, help, memory sweeps) and
 * suites/registry.ts (name → implementation) are derived from these.
 */
export interface Experiment<P extends ExperimentPoint = ExperimentPoint> {
  /** `--experiment NAME`. */
  name: string
  /** One line for `--help` and `sebs list`: what it measures. */
  description: string
  /** Providers it runs on; absent = every provider. */
  providers?: readonly string[]
  /** Settings read from the config file's `experiments[name]` section, with their defaults (help text). */
  settings: Record<string, string>
  /** The zod schema of those settings (the keys of `settings`); absent when it has none. */
  options?: z.ZodTypeAny
  /**
   * Repetitions when the user set none (the run's default of 10 is for
   * timing samples; an experiment whose repetition is expensive, such as an
   * idle period, says its own).
   */
  defaultRepetitions?: number
  /** Its plan has points per memory size of `--memory` (a list sweeps); without it the experiment runs one memory size. */
  sweepsMemory?: true
  /** The points of one case; throws ConfigError on bad settings. */
  plan(settings: ExperimentSettings, target: ExperimentTarget): P[]
  /** Measures one point. `state` is shared by the points of one case (e.g. a clock offset). */
  run(ctx: ExperimentContext, point: P, settings: ExperimentSettings, state: Map<string, unknown>): Promise<PointOutcome>
  /** The case's conclusion after all its points (e.g. the eviction estimate). */
  summarize?(outcomes: PointOutcome[], settings: ExperimentSettings): { lines: string[]; data: Record<string, unknown> }
}

/**
 * What experiment settings are made of: the run's settings, as the main
 * process resolved them (SebsConfig) or handed them to workers (SebsProvided).
 */
export interface ExperimentSettingsSource {
  /** The experiment this run executes, with its config-file section. */
  experiment?: { name: string; options: Record<string, unknown> }
  repetitions: number
  /** Whether the user set `repetitions` (flag, variable or config): otherwise an experiment's own default applies. */
  repetitionsSet?: boolean
  memory?: number[]
  ciTarget?: number
  maxCost?: number
}

/**
 * The settings one case of an experiment runs with: the experiment's config
 * section over the run's settings. What this returns is what runs, and what
 * the experiment's summary file records.
 */
export function experimentSettings(source: ExperimentSettingsSource, experiment: Pick<Experiment, 'name' | 'defaultRepetitions'>, deployedMemory: number): ExperimentSettings {
  const name = experiment.name
  const options = source.experiment?.name === name ? source.experiment.options : {}
  const common = parseOptions(name, commonOptionsSchema.passthrough(), options)
  const ciTarget = common.ciTarget ?? source.ciTarget
  const runRepetitions = source.repetitionsSet === false && experiment.defaultRepetitions !== undefined ? experiment.defaultRepetitions : source.repetitions
  return {
    repetitions: common.repetitions ?? runRepetitions,
    ...(common.adaptive !== undefined ? { adaptive: common.adaptive } : {}),
    ...(ciTarget !== undefined ? { ciTarget } : {}),
    ...(common.minRepetitions !== undefined ? { minRepetitions: common.minRepetitions } : {}),
    ...(common.maxRepetitions !== undefined ? { maxRepetitions: common.maxRepetitions } : {}),
    ...(common.maxWallSeconds !== undefined ? { maxWallSeconds: common.maxWallSeconds } : {}),
    memory: source.memory && source.memory.length > 0 ? source.memory : [deployedMemory],
    ...(source.maxCost !== undefined ? { maxCost: source.maxCost } : {}),
    ...(common.costModel !== undefined ? { costModel: common.costModel } : {}),
    ...(common.costModels !== undefined ? { costModels: common.costModels as Record<string, Partial<PriceRow>> } : {}),
    options,
  }
}

/**
 * The task names of one case's points (`cold 128MB`, `warm 128MB`, …), as
 * the experiment suite names them in the workers, so that the main process
 * can match `-t` against them before anything is built. Throws the plan's
 * ConfigError on bad settings.
 */
export function experimentPointNames(
  experiment: Experiment,
  source: ExperimentSettingsSource,
  target: ExperimentTarget,
): string[] {
  return experiment.plan(experimentSettings(source, experiment, target.deployedMemory), target).map((p) => p.name)
}

/**
 * Runs one point of an experiment with the context pointed at it, so every
 * record the point writes carries `point` (its name); the context's point is
 * put back afterwards, also when the point throws. The experiment suite runs
 * every point through here; tests that call an experiment directly should too.
 */
export async function runPoint<P extends ExperimentPoint>(
  experiment: Experiment<P>,
  ctx: ExperimentContext,
  point: P,
  settings: ExperimentSettings,
  state: Map<string, unknown>,
): Promise<PointOutcome> {
  const previous = ctx.point
  ctx.point = point.name
  try {
    return await experiment.run(ctx, point, settings, state)
  } finally {
    ctx.point = previous
  }
}

/** Defines an experiment with typed points. */
export function defineExperiment<P extends ExperimentPoint>(experiment: Experiment<P>): Experiment<P> {
  return experiment
}

/**
 * Validates an experiment's own settings with a zod schema; an error names
 * the experiment and the field, as config errors do elsewhere.
 */
export function parseOptions<T extends z.ZodTypeAny>(experiment: string, schema: T, options: Record<string, unknown>): z.infer<T> {
  const parsed = schema.safeParse(options)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    throw new ConfigError(
      'CONFIG_INVALID',
      `experiments['${experiment}'].${issue.path.join('.') || '(root)'}: ${issue.message}. See docs/experiments.md for the settings of '${experiment}'.`,
    )
  }
  return parsed.data
}

/** Settings every experiment shares (the rest of `options` is the experiment's own). */
export const commonOptionsSchema = z.object({
  repetitions: z.number().int().min(1).max(100_000).optional(),
  adaptive: z.boolean().optional(),
  ciTarget: z.number().positive().max(100).optional(),
  minRepetitions: z.number().int().min(1).optional(),
  maxRepetitions: z.number().int().min(1).optional(),
  maxWallSeconds: z.number().positive().optional(),
  costModel: z.string().optional(),
  costModels: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
})

const COMMON_KEYS = Object.keys(commonOptionsSchema.shape)

/** The experiment's own options: everything but the common keys. */
export function ownOptions(options: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(options).filter(([k]) => !COMMON_KEYS.includes(k)))
}

/** `128MB` */
export function mb(memory: number): string {
  return `${memory}MB`
}

export interface PointSummary {
  total: number
  used: number
  discarded: number
  failed: number
  invalid: number
  cold: number
  warm: number
  /** Discard reasons with counts. */
  discardReasons: Record<string, number>
  clientTimeUs?: Statistics
  functionTimeUs?: Statistics
  cost?: { label: string; meanUsd: number; perMillionUsd: number; totalUsd: number }
}

/** Counts and statistics of a point's records: cold and warm never mixed, because a point is one phase. */
export function summarizePoint(records: readonly InvocationRecord[], costModel: string, table?: Record<string, PriceRow>): PointSummary {
  const used = records.filter(usable)
  const discardReasons: Record<string, number> = {}
  for (const r of records) if (r.discarded) discardReasons[r.discardReason ?? 'discarded'] = (discardReasons[r.discardReason ?? 'discarded'] ?? 0) + 1
  const cost = summarizeCost(used, costModel, table ? { table } : {})
  return {
    total: records.length,
    used: used.length,
    discarded: records.filter((r) => r.discarded).length,
    failed: records.filter((r) => r.state !== 'ok').length,
    invalid: records.filter((r) => r.state === 'ok' && !r.outputValid).length,
    cold: records.filter((r) => r.state === 'ok' && r.isCold).length,
    warm: records.filter((r) => r.state === 'ok' && !r.isCold).length,
    discardReasons,
    ...(used.length > 0 ? { clientTimeUs: computeStatistics(used.map((r) => r.clientTimeUs)) } : {}),
    ...(used.length > 0 ? { functionTimeUs: computeStatistics(used.map((r) => r.functionTimeUs)) } : {}),
    ...(cost ? { cost: { label: cost.label, meanUsd: cost.meanUsd, perMillionUsd: cost.perMillionUsd, totalUsd: cost.totalUsd } } : {}),
  }
}

function ms(us: number): string {
  return `${(us / 1000).toFixed(2)} ms`
}

/** One console line for a point: `cold 128MB: n=10 (2 discarded) median client 152.31 ms [CI95 148.2, 160.1] …`. */
export function formatPointLine(point: string, s: PointSummary): string {
  const parts = [`${point}: n=${s.used}/${s.total}`]
  if (s.discarded) parts.push(`${s.discarded} discarded (${Object.entries(s.discardReasons).map(([k, v]) => `${v}× ${k}`).join('; ')})`)
  if (s.failed || s.invalid) parts.push(`${s.failed} failed, ${s.invalid} invalid`)
  if (s.clientTimeUs) {
    const ci = s.clientTimeUs.ciMedian95
    parts.push(`median client ${ms(s.clientTimeUs.median)}${ci ? ` [95% CI ${ms(ci[0])}, ${ms(ci[1])}]` : ''}`)
  }
  if (s.functionTimeUs) parts.push(`function ${ms(s.functionTimeUs.median)}`)
  if (s.cost) parts.push(`$${(s.cost.perMillionUsd).toPrecision(3)} per 1M (${s.cost.label})`)
  return parts.join(', ')
}

/** Throws when a point had failed or invalid invocations: a run with failures must say so and fail. */
export function assertNoFailures(point: string, records: readonly InvocationRecord[]): void {
  const failed = records.filter((r) => r.state !== 'ok' || !r.outputValid)
  if (failed.length === 0) return
  const first = failed[0]!
  const why = first.state === 'ok' ? `invalid output: ${first.validationError ?? ''}` : `${first.state}: ${first.error}`
  const oom = failed.filter((r) => r.state === 'error' && r.errorKind === 'oom').length
  throw new PointFailedError(`${point}: ${failed.length} of ${records.length} invocation(s) failed or returned an invalid output${oom ? ` (${oom} out of memory)` : ''}; first: ${why}`)
}

/**
 * A point whose invocations failed: every failure is a record on disk, which
 * the run's summary lists and which makes the run exit 1, so the experiment
 * suite reports it as a line and goes on with the next point instead of
 * failing the Vitest task (that would be an "Unhandled Error" in Vitest 4).
 */
export class PointFailedError extends SebsError {
  constructor(message: string) {
    super('INVOCATION_FAILED', message)
    this.name = 'PointFailedError'
  }
}
