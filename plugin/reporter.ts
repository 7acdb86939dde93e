/**
 * The Vitest reporter: at the end of a run it reads the invocation records
 * (not tinybench's numbers, which mix cold and warm samples), prints the
 * summary table and writes summary.json / summary.csv and the run index.
 * The formatting and writing live in reporters/; this is the Vitest adapter.
 */
import { execFileSync } from 'node:child_process'
import { accessSync, constants, existsSync } from 'node:fs'
import { join } from 'node:path'
import type { Reporter } from 'vitest/reporters'
import { errorMessage } from '../core/errors.ts'
import { readRecords, RECORDS_FILE } from '../core/records.ts'
import { runIndexEntryFromSummary, updateRunIndex } from '../reporters/run-index.ts'
import { compareWithBaseline } from '../reporters/compare.ts'
import { writeRunReports } from '../reporters/run-reports.ts'
import { redactConfig } from '../engine/redact.ts'
import { getRunState } from '../engine/run-state.ts'
import { runInterruptedBy } from '../engine/interrupt.ts'

function gitCommit(cwd: string): string | undefined {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim() || undefined
  } catch {
    return undefined
  }
}

interface VitestStateView {
  state: { idMap: Map<string, unknown> }
}

/** Structural view of Vitest 4's bench task results (its reporter ranks them by `mean`). */
interface BenchTaskView {
  type: string
  tasks?: BenchTaskView[]
  meta?: { benchmark?: boolean }
  result?: { state?: string; benchmark?: { mean: number; rank: number; sampleCount?: number } }
}

/**
 * Vitest 4 compares the bench tasks of a group by their mean ("2.1x faster
 * than …"). A task whose case failed took no measurement (its samples are
 * 0 ms placeholders, see plugin/bench-adapter.ts), so it would rank fastest
 * and the summary would say "NaNx" or "Infinityx faster". Such tasks lose
 * their benchmark result (the records and our summary say why they failed)
 * and the others are ranked again.
 */
export function dropUnmeasuredBenchmarks(suite: BenchTaskView): void {
  const benches = (suite.tasks ?? []).filter((t) => t.meta?.benchmark && t.result?.benchmark)
  const measured = benches.filter((t) => t.result!.benchmark!.mean > 0 && (t.result!.benchmark!.sampleCount ?? 1) > 0)
  if (measured.length === benches.length) return
  for (const t of benches) if (!measured.includes(t)) delete t.result!.benchmark
  measured.sort((a, b) => a.result!.benchmark!.mean - b.result!.benchmark!.mean).forEach((t, i) => (t.result!.benchmark!.rank = i + 1))
}

/** Why the run's records file cannot be appended to now (undefined: it can). */
function recordsFileUnwritable(file: string): string | undefined {
  try {
    accessSync(file, constants.W_OK)
    return undefined
  } catch (err) {
    return (err as { code?: string }).code ?? errorMessage(err)
  }
}

export class SebsReporter implements Reporter {
  #vitest: VitestStateView | undefined

  onInit(vitest: unknown): void {
    this.#vitest = vitest as VitestStateView
  }

  onTaskUpdate(packs: ReadonlyArray<readonly [string, ...unknown[]]>): void {
    for (const [id] of packs) {
      const task = this.#vitest?.state.idMap.get(id) as BenchTaskView | undefined
      if (task?.type === 'suite' && task.result?.state !== 'run') dropUnmeasuredBenchmarks(task)
    }
  }

  async onTestRunEnd(): Promise<void> {
    const state = getRunState()
    if (!state?.setupDone) return
    const { config } = state
    const runDir = join(config.resultsDir, config.runId)
    const file = join(runDir, RECORDS_FILE)
    const out = (s: string) => process.stdout.write(s + '\n')
    const interrupted = state.interrupted ?? runInterruptedBy(runDir)
    if (!existsSync(file)) {
      out(`\n[sebs] no invocations were recorded for run ${config.runId}${interrupted ? ` (interrupted by ${interrupted})` : ''}.`)
      // Interrupted during its setup: still an (empty) report and an index entry marked interrupted.
      if (!interrupted) return
    }
    try {
      const { records, skippedLines } = existsSync(file) ? readRecords(file) : { records: [], skippedLines: 0 }
      const { consoleTable, summary, files, errors: outputErrors } = await writeRunReports(runDir, records, {
        resultsDir: config.resultsDir,
        runId: config.runId,
        provider: config.provider,
        history: true,
      })
      out('\n' + consoleTable)
      // The results folder became unwritable during the run (the workers stopped invoking and said so):
      // one error naming the folder and the fix, the run fails, the records on disk stay as they are.
      const unwritable = recordsFileUnwritable(file)
      if (outputErrors.length > 0 || unwritable) {
        out(
          `[sebs] error [RESULTS_UNWRITABLE]: the results folder ${runDir} is not writable` +
            `${unwritable ? ` (${unwritable})` : ''}; ${outputErrors.length ? `${outputErrors.length} output(s) were not written, ` : ''}` +
            `the ${records.length} record(s) in ${file} are kept. Make the folder writable again (permissions, read-only mount, free disk space) ` +
            `or run with --results-dir <a writable folder>.`,
        )
        process.exitCode = 1
      }
      const failures = summary.totals.errors + summary.totals.timeouts + summary.totals.invalid
      if (interrupted) {
        out(`[sebs] run ${config.runId} was interrupted by ${interrupted}: the summary covers the ${records.length} invocation(s) that completed.`)
      } else if (failures > 0 && !config.allowFailures) {
        // Bench cases never throw (see suites/benchmark-suite.ts), so the records decide the exit status.
        out(`[sebs] ${failures} invocation(s) failed, timed out or returned invalid output; exiting with status 1 (--allow-failures to exit 0).`)
        process.exitCode = 1
      }
      if (skippedLines > 0) out(`[sebs] ${skippedLines} unreadable line(s) in ${file} were skipped.`)
      await updateRunIndex(
        config.resultsDir,
        runIndexEntryFromSummary(summary, {
          gitCommit: gitCommit(config.root),
          config: redactConfig({ sizes: config.sizes, languages: config.languages, repetitions: config.repetitions, memory: config.memory, trigger: config.trigger, experiment: config.experiment }),
          interrupted: interrupted !== undefined,
        }),
      )
      out(`[sebs] results in ${runDir}: ${['invocations.jsonl', ...files.map((w) => w.replace(runDir + '/', ''))].join(', ')}`)
      if (config.baseline) {
        const comparison = await compareWithBaseline(config.baseline, runDir, records, { resultsDir: config.resultsDir })
        out('\n' + comparison.text)
        // A real regression fails the run (CI gates on the exit code).
        if (comparison.regression) process.exitCode = 1
      }
    } catch (err) {
      out(`[sebs] could not write the run summary: ${errorMessage(err)} (the records in ${file} are intact)`)
    }
  }
}
