/**
 * The seed's four local experiments (SeBS's `scripts/run_experiments.py`),
 * on the local provider, for both languages:
 *   time     cold and warm invocations with user and system CPU time
 *   memory   peak and sampled RSS/PSS of the instance(s) over each invocation
 *   disk-io  bytes and syscalls read and written per invocation (/proc/<pid>/io)
 *   papi     counters: perf events where the kernel exposes them, callgrind
 *            instruction counts (deterministic, everywhere valgrind is)
 * Every counter in a record says where it came from (`{ value, source }`).
 */
import { z } from 'zod'
import { SebsError } from '../core/errors.ts'
import type { CounterValue, InvocationRecord } from '../core/types.ts'
import {
  DEFAULT_PERF_EVENTS,
  callgrindAvailable,
  callgrindDump,
  callgrindZero,
  perfAvailable,
  sampleMemory,
  startPerfStat,
  type MemoryProfile,
} from '../providers/local/counters.ts'
import { computeStatistics } from '../analysis/statistics.ts'
import type { ExperimentContext, ProbeStop } from './context.ts'
import { usable } from './context.ts'
import {
  assertNoFailures,
  defineExperiment,
  formatPointLine,
  ownOptions,
  parseOptions,
  summarizePoint,
  type Experiment,
  type ExperimentSettings,
  type ExperimentTarget,
  type PointOutcome,
} from './experiment.ts'
import { repetitionPolicy, runRepetitions } from './repetitions.ts'

/** What the local provider's functions offer beyond DeployedFunction (live instances with their pids). */
interface LocalInstances {
  instances(): Array<{ pid: number; busy: boolean; tmpDir: string }>
}

function localInstances(ctx: ExperimentContext): LocalInstances {
  const fn = ctx.fn as unknown as Partial<LocalInstances>
  if (typeof fn.instances !== 'function') {
    throw new SebsError('NOT_SUPPORTED', `the '${ctx.experiment}' experiment needs the local provider's instances (pids); '${ctx.provider}' has none.`)
  }
  return fn as LocalInstances
}

function requireLocal(name: string, target: ExperimentTarget): void {
  if (!target.functionsOnThisMachine) {
    throw new SebsError('NOT_SUPPORTED', `the '${name}' experiment measures processes on this machine and runs on the local provider only, not on '${target.provider}'.`)
  }
}

const WARMUP = 'warm-up call (brings up the instance that is measured)'

/** Runs `repetitions` warm invocations on a warm instance, with an optional harness-side probe around each. */
async function measureWarm(
  ctx: ExperimentContext,
  settings: ExperimentSettings,
  phase: string,
  probe?: (instance: { pid: number; tmpDir: string }) => Promise<ProbeStop>,
  warmups = 1,
): Promise<{ records: InvocationRecord[]; explanation: string }> {
  const records: InvocationRecord[] = []
  let repetition = 0
  // The warm-up calls are probed too (their records, discarded, show the
  // counts settling), so that the first kept sample is not also the first
  // probed one: on Python the first zero/dump of callgrind counted ~0.5 %
  // more than every later one, whatever the warm-up before it.
  for (let i = 0; i < warmups; i++) {
    // The first call starts the instance: there is nothing to attach a probe to yet.
    const probeThis = probe && i > 0 ? { probe: () => probe(idleInstance(ctx)) } : {}
    records.push((await ctx.measure({ phase, repetition: repetition++, discard: WARMUP, ...probeThis })).record)
  }
  const outcome = await runRepetitions(
    repetitionPolicy(settings, 1, 1),
    1,
    async () => {
      const m = await ctx.measure({
        phase,
        repetition: repetition++,
        expect: 'warm',
        ...(probe ? { probe: () => probe(idleInstance(ctx)) } : {}),
      })
      records.push(m.record)
      return { samples: usable(m.record) ? [m.record.clientTimeUs] : [], invocations: 1, costUsd: m.record.costUsd ?? 0 }
    },
    { budget: ctx.budget },
  )
  return { records, explanation: outcome.explanation }
}

/** The one idle instance, which the next invocation will use. */
function idleInstance(ctx: ExperimentContext): { pid: number; tmpDir: string } {
  const idle = localInstances(ctx).instances().filter((i) => !i.busy)
  if (idle.length !== 1) throw new SebsError('INVOCATION_FAILED', `expected exactly one idle instance to measure, found ${idle.length}`)
  return idle[0]!
}

function medianOf(records: InvocationRecord[], get: (r: InvocationRecord) => number | undefined): number | undefined {
  const xs = records.filter(usable).map(get).filter((v): v is number => typeof v === 'number' && Number.isFinite(v))
  return xs.length > 0 ? computeStatistics(xs).median : undefined
}

function counter(r: InvocationRecord, name: string): number | undefined {
  return r.counters?.[name]?.value
}

function outcomeOf(ctx: ExperimentContext, name: string, records: InvocationRecord[], extraLines: string[], data: Record<string, unknown> = {}): PointOutcome {
  assertNoFailures(`${ctx.benchmark} ${ctx.language} ${name}`, records)
  const summary = summarizePoint(records, ctx.costModel, ctx.priceTable)
  return { point: name, records, data: { ...data, summary }, lines: [formatPointLine(name, summary), ...extraLines.map((l) => `  ${name}: ${l}`)] }
}

// ---------------------------------------------------------------------------

export const timeExperiment = defineExperiment<{ name: string; phase: 'cold' | 'warm' }>({
  name: 'time',
  description: 'local: warm and cold invocation time with user and system CPU time (SeBS local "time")',
  providers: ['local'],
  settings: {},
  plan(_settings, target) {
    requireLocal('time', target)
    return [
      { name: 'cold', phase: 'cold' },
      { name: 'warm', phase: 'warm' },
    ]
  },
  async run(ctx, point, settings) {
    await ctx.ensureMemory(settings.memory[0] ?? ctx.memory)
    let records: InvocationRecord[] = []
    let explanation: string
    if (point.phase === 'warm') {
      ;({ records, explanation } = await measureWarm(ctx, settings, 'warm'))
    } else {
      let repetition = 0
      const outcome = await runRepetitions(repetitionPolicy(settings), 1, async () => {
        await ctx.forceColdStart()
        const m = await ctx.measure({ phase: 'cold', repetition: repetition++, expect: 'cold' })
        records.push(m.record)
        return { samples: usable(m.record) ? [m.record.clientTimeUs] : [], invocations: 1, costUsd: m.record.costUsd ?? 0 }
      }, { budget: ctx.budget })
      explanation = outcome.explanation
    }
    const user = medianOf(records, (r) => r.cpuUserUs)
    const sys = medianOf(records, (r) => r.cpuSystemUs)
    return outcomeOf(ctx, point.name, records, [`median CPU user ${((user ?? 0) / 1000).toFixed(2)} ms, system ${((sys ?? 0) / 1000).toFixed(2)} ms`, explanation], {
      cpuUserUsMedian: user,
      cpuSystemUsMedian: sys,
    })
  },
})

const memoryOptions = z.object({ instances: z.array(z.number().int().min(1).max(64)).min(1).optional(), intervalMs: z.number().int().min(1).optional() }).strict()

export const memoryExperiment = defineExperiment<{ name: string; instances: number }>({
  name: 'memory',
  options: memoryOptions,
  description: 'local: peak and sampled RSS/PSS of the instance(s) over each invocation (SeBS local "memory")',
  providers: ['local'],
  settings: { instances: 'concurrent instances sampled, default [1, 5]', intervalMs: 'sampling interval (default 10)' },
  plan(settings, target) {
    requireLocal('memory', target)
    const o = parseOptions('memory', memoryOptions, ownOptions(settings.options))
    return (o.instances ?? [1, 5]).map((instances) => ({ name: `instances ${instances}`, instances }))
  },
  async run(ctx, point, settings) {
    const o = parseOptions('memory', memoryOptions, ownOptions(settings.options))
    await ctx.ensureMemory(settings.memory[0] ?? ctx.memory)
    // Per-invocation peak RSS from the wrapper (VmHWM reset before each call) on top of the harness's sampling.
    await ctx.setEnv({ SEBS_COLLECT_COUNTERS: '1' })
    const profiles: MemoryProfile[] = []
    const probe = async (): Promise<ProbeStop> => {
      const pids = localInstances(ctx).instances().map((i) => i.pid)
      const samplers = pids.map((pid) => sampleMemory(pid, { intervalMs: o.intervalMs ?? (point.instances > 1 ? 20 : 10) }))
      return async () => {
        const got = await Promise.all(samplers.map((s) => s.stop()))
        const peakRss = got.reduce((sum, p) => sum + p.peakRssKb, 0)
        const pss = got.every((p) => p.peakPssKb !== undefined) ? got.reduce((sum, p) => sum + p.peakPssKb!, 0) : undefined
        profiles.push(...got)
        return {
          counters: {
            'rss-peak-kb': { value: peakRss, source: 'procfs-sampled' },
            ...(pss !== undefined ? { 'pss-peak-kb': { value: pss, source: 'procfs-sampled' } } : {}),
            'memory-samples': { value: got.reduce((n, p) => n + p.samples.length, 0), source: 'procfs-sampled' },
          },
          params: { instancesSampled: got.length },
        }
      }
    }
    const records: InvocationRecord[] = []
    let repetition = 0
    const k = point.instances
    const batch = async (discard?: string) =>
      (await Promise.all(Array.from({ length: k }, () => ctx.measure({ phase: `memory-${k}`, repetition: repetition++, ...(discard ? { discard } : { probe }) })))).map((m) => m.record)
    // The warm-up batch brings up the k instances that are then measured.
    await ctx.forceColdStart()
    records.push(...(await batch(WARMUP)))
    const outcome = await runRepetitions(repetitionPolicy(settings, k, k), k, async () => {
      const got = await batch()
      records.push(...got)
      return { samples: got.filter(usable).map((r) => r.clientTimeUs), invocations: got.length, costUsd: got.reduce((s, r) => s + (r.costUsd ?? 0), 0) }
    }, { budget: ctx.budget })
    const rss = medianOf(records, (r) => counter(r, 'rss-peak-kb'))
    const pss = medianOf(records, (r) => counter(r, 'pss-peak-kb'))
    const own = medianOf(records, (r) => counter(r, 'rss-peak-invocation-kb'))
    return outcomeOf(
      ctx,
      point.name,
      records,
      [`median peak RSS of ${k} instance(s) ${((rss ?? 0) / 1024).toFixed(1)} MB, PSS ${pss === undefined ? 'n/a' : `${(pss / 1024).toFixed(1)} MB`}; per invocation (VmHWM) ${own === undefined ? 'n/a' : `${(own / 1024).toFixed(1)} MB`}`, outcome.explanation],
      { samples: profiles.slice(0, 20).map((p) => p.samples) },
    )
  },
})

export const diskIoExperiment = defineExperiment<{ name: string }>({
  name: 'disk-io',
  description: 'local: bytes and syscalls read and written per invocation, from /proc/<pid>/io (SeBS local "disk-io")',
  providers: ['local'],
  settings: {},
  plan(_settings, target) {
    requireLocal('disk-io', target)
    return [{ name: 'warm' }]
  },
  async run(ctx, point, settings) {
    await ctx.ensureMemory(settings.memory[0] ?? ctx.memory)
    await ctx.setEnv({ SEBS_COLLECT_COUNTERS: '1' })
    const { records, explanation } = await measureWarm(ctx, settings, 'disk-io')
    const names = ['io-read-bytes', 'io-write-bytes', 'io-read-chars', 'io-write-chars', 'io-read-syscalls', 'io-write-syscalls']
    const medians = Object.fromEntries(names.map((n) => [n, medianOf(records, (r) => counter(r, n))]))
    return outcomeOf(ctx, point.name, records, [`medians per invocation: ${names.map((n) => `${n} ${medians[n] ?? 'n/a'}`).join(', ')}`, explanation], { medians })
  },
})

const papiOptions = z
  .object({
    sources: z.array(z.enum(['perf', 'callgrind'])).min(1).optional(),
    perfEvents: z.array(z.string().min(1)).min(1).optional(),
    /** Discarded warm calls before callgrind counts are kept (see CALLGRIND_WARMUP). */
    warmup: z.number().int().min(1).max(1000).optional(),
  })
  .strict()

/**
 * Warm calls discarded before callgrind counts are kept. A fresh instance
 * keeps doing one-time work for several calls: CPython 3.11 quickens a code
 * object on its 8th call (a 0.1–0.3 % step on the gate fixture), and with
 * the JIT on V8 optimized the handler on the second call (~4 % more). On this
 * machine Python's counts settle after 8 calls; on the CI runner they fell
 * in steps until about the 17th call (the last step 0.54 %), so with ten
 * warm-ups the 9 kept samples straddled a step and two runs of identical
 * code differed by 0.54 % (CI, twice). Thirty calls cover the slowest
 * settling seen with margin (each costs ~1 s under callgrind); counts after
 * them repeat to within ~0.05 % (Python).
 */
const CALLGRIND_WARMUP = 30

export const papiExperiment = defineExperiment<{ name: string; source: 'perf' | 'callgrind' }>({
  name: 'papi',
  options: papiOptions,
  description:
    'local: counters per invocation: perf events where the kernel exposes them, callgrind instruction counts, software counters (SeBS local "papi")',
  providers: ['local'],
  settings: {
    sources: "default ['perf', 'callgrind']",
    perfEvents: 'perf event names (default: software and hardware basics)',
    warmup: `warm calls discarded before callgrind counts are kept (default ${CALLGRIND_WARMUP})`,
  },
  plan(settings, target) {
    requireLocal('papi', target)
    const o = parseOptions('papi', papiOptions, ownOptions(settings.options))
    return (o.sources ?? ['perf', 'callgrind']).map((source) => ({ name: source, source }))
  },
  async run(ctx, point, settings) {
    const o = parseOptions('papi', papiOptions, ownOptions(settings.options))
    await ctx.ensureMemory(settings.memory[0] ?? ctx.memory)
    if (point.source === 'perf') {
      if (!(await perfAvailable())) throw new SebsError('TOOL_MISSING', "the papi experiment's perf source needs `perf` (apt-get install linux-perf)")
      const unsupported = new Set<string>()
      const { records, explanation } = await measureWarm(ctx, settings, 'papi-perf', async ({ pid }) => {
        const session = await startPerfStat(pid, o.perfEvents ?? DEFAULT_PERF_EVENTS)
        return async () => {
          const result = await session.stop()
          for (const e of result.unsupported) unsupported.add(e)
          return { counters: result.counters, params: result.unsupported.length ? { perfUnsupported: result.unsupported.join(',') } : {} }
        }
      })
      const taskClock = medianOf(records, (r) => counter(r, 'task-clock-ns'))
      return outcomeOf(ctx, point.name, records, [`median task-clock ${((taskClock ?? 0) / 1e6).toFixed(3)} ms; not supported here: ${[...unsupported].join(', ') || 'none'}`, explanation], {
        unsupported: [...unsupported],
      })
    }
    if (!(await callgrindAvailable())) throw new SebsError('TOOL_MISSING', "the papi experiment's callgrind source needs valgrind (apt-get install valgrind)")
    // New instances start under callgrind; the last step puts the function back as it was.
    // Counts are a regression gate (`sebs compare --metric instructions`), so
    // they must repeat from run to run: PYTHONHASHSEED=0 fixes str/bytes hash
    // randomization, which otherwise changes dict/set layouts (and so the
    // instructions spent probing them) in every new Python process.
    // Node.js: V8 optimizes hot code on background threads, and whether the
    // optimized code is installed before a loop ends depends on thread
    // timing, so the same call counted 28 M instructions in one run and 74 M
    // in the next (gate fixture, 800 k loop steps). --jitless (interpreter
    // only) removes that; it is the one such flag NODE_OPTIONS accepts
    // (--single-threaded, --predictable, --no-opt are refused there and
    // would need the instance's command line, providers/local/instance.ts).
    // Counts then measure interpreted code: right for a regression gate,
    // not for comparing languages.
    await ctx.setEnv({ SEBS_LOCAL_PROFILER: 'callgrind', PYTHONHASHSEED: '0', ...(ctx.language === 'nodejs' ? { NODE_OPTIONS: '--jitless' } : {}) })
    try {
      const { records, explanation } = await measureWarm(ctx, settings, 'papi-callgrind', async ({ pid, tmpDir }) => {
        await callgrindZero(pid, tmpDir)
        return async () => ({ counters: { instructions: { value: await callgrindDump(pid, tmpDir), source: 'callgrind' } } })
      }, o.warmup ?? CALLGRIND_WARMUP)
      const ins = medianOf(records, (r) => counter(r, 'instructions'))
      return outcomeOf(ctx, point.name, records, [`median instructions per invocation ${ins ?? 'n/a'} (callgrind: includes the wrapper's request handling)`, explanation], { instructionsMedian: ins })
    } finally {
      // An empty PYTHONHASHSEED is the same as unset for Python (random hashing again).
      await ctx.setEnv({ SEBS_LOCAL_PROFILER: '', PYTHONHASHSEED: '', ...(ctx.language === 'nodejs' ? { NODE_OPTIONS: '' } : {}) })
    }
  },
})

export const LOCAL_EXPERIMENTS: Record<string, Experiment<any>> = {
  time: timeExperiment,
  memory: memoryExperiment,
  'disk-io': diskIoExperiment,
  papi: papiExperiment,
}
