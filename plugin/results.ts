/**
 * `serverless-benchmarks/results`: reading what runs wrote, in the user's own
 * scripts (main process, no Vitest needed): the invocation records of a run,
 * the index of runs, statistics and the comparison of two runs.
 */
export { readRecords, resolveRecordsFile, RECORDS_FILE, type ReadRecordsResult } from '../core/records.ts'
export type { InvocationRecord, OkInvocationRecord, ErrorInvocationRecord, TimeoutInvocationRecord, Language, Size, ProviderName } from '../core/types.ts'
export { readRunIndex, RUN_INDEX_FILE, type RunIndexEntry } from '../reporters/run-index.ts'
export { computeStatistics, type Statistics } from '../analysis/statistics.ts'
export {
  compareRuns,
  COMPARE_METRICS,
  type CompareMetric,
  type CompareOptions,
  type ComparisonResult,
  type CaseComparison,
  type Verdict,
} from '../analysis/compare.ts'
export { formatComparisonTable, formatComparisonMarkdown } from '../reporters/compare.ts'
