/**
 * The Vitest reporter: at the end of a run it reads the invocation records
 * (not tinybench's numbers, which mix cold and warm samples), prints the
 * summary table and writes summary.json / summary.csv and the run index.
 * The formatting and writing live in reporters/; this is the Vitest adapter.
 */
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
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

export class SebsReporter implements Reporter {
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
      return
    }
    try {
      const { records, skippedLines } = readRecords(file)
      const { consoleTable, summary, files } = await writeRunReports(runDir, records, {
        resultsDir: config.resultsDir,
        runId: config.runId,
        provider: config.provider,
        history: true,
      })
      out('\n' + consoleTable)
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
