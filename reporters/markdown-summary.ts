/**
 * `summary.md`: the run summary as the Markdown a pull-request comment or a
 * GitHub Actions job summary wants. The columns are the console table's
 * ({@link summaryColumns}), so the terminal and the PR show the same numbers.
 */
import { appendFile } from 'node:fs/promises'
import { caseLabel, failureText, summaryColumns, summaryHeadline } from './console-table.ts'
import { caseFailures, type PhaseSummary, type RunSummary } from './summary.ts'

export const SUMMARY_MD = 'summary.md'

/**
 * Makes text safe inside a Markdown table cell: GitHub renders inline HTML and
 * splits cells on `|`, and a line break ends the row.
 */
export function escapeMarkdownCell(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\|/g, '\\|')
    .replace(/\r?\n/g, ' ')
}

/** A GitHub-flavoured Markdown table; `align` per column. */
export function markdownTable(headers: string[], align: Array<'left' | 'right'>, rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.map(escapeMarkdownCell).join(' | ')} |`
  const rule = `|${align.map((a) => (a === 'right' ? ' ---: |' : ' --- |')).join('')}`
  return [line(headers), rule, ...rows.map(line)].join('\n')
}

const MAX_ERROR_LENGTH = 300

function firstLine(message: string): string {
  const line = (message.split('\n').find((l) => l.trim()) ?? message).trim()
  return line.length > MAX_ERROR_LENGTH ? `${line.slice(0, MAX_ERROR_LENGTH - 3)}...` : line
}

export interface SummaryMarkdownOptions {
  /** Heading level and text; defaults to `### SeBS run <id> (<provider>)`. */
  title?: string
}

/**
 * The summary as Markdown: a heading, the run's totals, one table row per
 * case and phase (times in ms, median with its nonparametric 95% CI), and the
 * failing cases with their first error.
 */
export function formatSummaryMarkdown(summary: RunSummary, options: SummaryMarkdownOptions = {}): string {
  const title = options.title ?? `### SeBS run \`${summary.runId}\` (${summary.provider})`
  const lines = [title, '', `${escapeMarkdownCell(summaryHeadline(summary))}.`, '']
  if (summary.cases.length === 0) {
    lines.push('No invocations recorded.')
    return lines.join('\n') + '\n'
  }
  const columns = summaryColumns(summary.cases)
  lines.push(
    markdownTable(
      columns.map((c) => c.header),
      columns.map((c) => c.align),
      summary.cases.map((row) => columns.map((c) => c.cell(row))),
    ),
    '',
    'Times in ms; the 95% CI is the nonparametric CI of the client-time median (Le Boudec). Cold and warm phases are summarised apart.',
  )
  const failing = summary.cases.filter((c) => caseFailures(c) > 0)
  if (failing.length > 0) {
    lines.push('', `**Failures in ${failing.length} case${failing.length === 1 ? '' : 's'}:**`, '')
    for (const c of failing) lines.push(`- ${escapeMarkdownCell(failureLine(c))}`)
  }
  return lines.join('\n') + '\n'
}

function failureLine(c: PhaseSummary): string {
  // The console's wording: out-of-memory ends apart from other errors.
  const counts = failureText(c)
  return `${caseLabel(c)}: ${counts} of ${c.total}${c.firstError ? `; first: ${firstLine(c.firstError)}` : ''}`
}

/**
 * Appends Markdown to the GitHub Actions job summary when `GITHUB_STEP_SUMMARY`
 * names a file (it does inside a workflow step). Returns the file appended
 * to, or undefined outside GitHub Actions.
 */
export async function appendToStepSummary(markdown: string, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const file = env.GITHUB_STEP_SUMMARY
  if (!file) return undefined
  await appendFile(file, markdown.endsWith('\n') ? `${markdown}\n` : `${markdown}\n\n`, 'utf8')
  return file
}
