/**
 * Every output of a finished run, from its invocation records, in one call:
 * the entry point the Vitest reporter (plugin/) calls at the end of a run.
 *
 * Writes into the run directory: summary.json and summary.csv, invocations.csv,
 * summary.md (also appended to the GitHub job summary when
 * GITHUB_STEP_SUMMARY is set), github-action-benchmark.json, bencher.json
 * and report.html. It does not touch results/index.json: the caller adds the
 * run there (it knows the git commit and the configuration).
 */
import { join } from 'node:path'
import { errorMessage } from '../core/errors.ts'
import type { InvocationRecord } from '../core/types.ts'
import { writeFileAtomic } from './atomic-write.ts'
import { writeCiFormats } from './ci-formats.ts'
import { formatFailures, formatSummaryTable } from './console-table.ts'
import { loadHistory, writeHtmlReport } from './html-report.ts'
import { writeInvocationsCsv } from './invocations-csv.ts'
import { appendToStepSummary, formatSummaryMarkdown, SUMMARY_MD } from './markdown-summary.ts'
import { writeSummaryFiles } from './summary-writers.ts'
import { summarizeRecords, type RunSummary } from './summary.ts'

export interface RunReportOptions {
  /** The results folder (holds index.json and the other runs, for the history plots). */
  resultsDir: string
  runId: string
  provider: string
  /** Plot time series across the earlier runs of `resultsDir` in report.html. */
  history?: boolean
  /** Runs in the history plots, this one included; default 20. */
  historyLimit?: number
  /** Environment to read GITHUB_STEP_SUMMARY from; defaults to process.env. */
  env?: NodeJS.ProcessEnv
}

export interface RunReports {
  /** Absolute paths of the files written into the run directory. */
  files: string[]
  /** The summary table, the failing cases, and any output that could not be written, for the terminal. */
  consoleTable: string
  summary: RunSummary
  /** Outputs that failed ("report.html: …"); the others were still written. Also listed in consoleTable. */
  errors: string[]
  /** The job summary file appended to, when GITHUB_STEP_SUMMARY was set. */
  stepSummary?: string
}

/**
 * Writes all reports of a run (see the module comment) and returns the
 * console text. One failing output (a full disk, a missing Chart.js) does not
 * stop the others; it is named in `errors` and at the end of `consoleTable`.
 */
export async function writeRunReports(runDir: string, records: InvocationRecord[], options: RunReportOptions): Promise<RunReports> {
  const summary = summarizeRecords(records, { runId: options.runId, provider: options.provider })
  const files: string[] = []
  const errors: string[] = []
  let stepSummary: string | undefined

  const attempt = async (what: string, step: () => Promise<string | string[]>) => {
    try {
      const written = await step()
      files.push(...(Array.isArray(written) ? written : [written]))
    } catch (err) {
      errors.push(`${what}: ${errorMessage(err)}`)
    }
  }

  await attempt('summary.json/summary.csv', () => writeSummaryFiles(runDir, summary))
  await attempt('invocations.csv', () => writeInvocationsCsv(runDir, records))
  await attempt(SUMMARY_MD, async () => {
    const markdown = formatSummaryMarkdown(summary)
    const path = join(runDir, SUMMARY_MD)
    await writeFileAtomic(path, markdown)
    stepSummary = await appendToStepSummary(markdown, options.env ?? process.env)
    return path
  })
  await attempt('github-action-benchmark*.json/bencher.json', () => writeCiFormats(runDir, summary, records))
  await attempt('report.html', async () => {
    let history: RunSummary[] | undefined
    let notes: string[] = []
    if (options.history) {
      const loaded = await loadHistory(options.resultsDir, summary, { limit: options.historyLimit })
      history = loaded.runs
      notes = loaded.notes
    }
    return writeHtmlReport(runDir, { summary, records, history, notes })
  })

  const lines = [formatSummaryTable(summary)]
  const failures = formatFailures(summary)
  if (failures) lines.push(failures)
  if (errors.length) lines.push(`Could not write ${errors.length} output(s):`, ...errors.map((e) => `  ${e}`))
  return { files, consoleTable: lines.join('\n'), summary, errors, ...(stepSummary ? { stepSummary } : {}) }
}
