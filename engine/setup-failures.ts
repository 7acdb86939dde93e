/**
 * One bad benchmark fails itself, not the run (main process, global setup).
 * A benchmark whose input module, package build (pip/npm), input generation
 * or deploy fails gets one error record per selected case, with the short
 * reason, and is left out of what the workers run; the other benchmarks run,
 * the reporter lists the failed cases with their reason and the run exits 1.
 */
import { SebsError, errorMessage } from '../core/errors.ts'
import type { Logger } from '../core/logger.ts'
import { appendRecord } from '../core/records.ts'
import type { Language, Size, Trigger } from '../core/types.ts'
import { buildRecord } from './measure.ts'

/** The step of the setup that failed. */
export type SetupStage = 'loading input module' | 'building package' | 'generating inputs' | 'deploying'

/** A benchmark (or one language of it) the setup could not prepare; plain data for the workers. */
export interface SetupFailure {
  benchmark: string
  /** Unset: every language of the benchmark. */
  language?: Language
  stage: SetupStage
  message: string
}

/** True when the setup failed for this benchmark and language (its cases have their records already). */
export function failedInSetup(failures: readonly SetupFailure[] | undefined, benchmark: string, language: Language): boolean {
  return (failures ?? []).some((f) => f.benchmark === benchmark && (f.language === undefined || f.language === language))
}

/** The short reason of a setup failure: our errors' messages as they are, other errors with their type. */
function reason(err: unknown): string {
  if (err instanceof SebsError) return err.message
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err)
}

export class SetupFailures {
  readonly list: SetupFailure[] = []

  constructor(
    private readonly run: {
      runId: string
      recordsFile: string
      provider: string
      trigger: Trigger
      logger: Logger
      /** The selected cases: each gets its error record. */
      cases: readonly { benchmark: string; language: Language; size: Size }[]
      dataDirOf: (benchmark: string) => string
      memoryOf: (benchmark: string) => number
    },
  ) {}

  has(benchmark: string, language?: Language): boolean {
    return this.list.some((f) => f.benchmark === benchmark && (f.language === undefined || language === undefined || f.language === language))
  }

  /**
   * Runs one benchmark's setup step; when it throws, records the failure
   * (with `DEBUG`, the stack goes to the debug log) and resolves undefined.
   */
  async guard<T>(benchmark: string, language: Language | undefined, stage: SetupStage, step: () => Promise<T>): Promise<T | undefined> {
    try {
      return await step()
    } catch (err) {
      this.fail({ benchmark, ...(language ? { language } : {}), stage, message: reason(err) })
      if (!(err instanceof SebsError) && err instanceof Error) this.run.logger.debug(err.stack ?? err.message)
      return undefined
    }
  }

  /** Records a failure: one error record per selected case it covers, one warning line. */
  fail(failure: SetupFailure): void {
    if (this.has(failure.benchmark, failure.language)) return
    this.list.push(failure)
    const what = failure.language ? `${failure.benchmark} (${failure.language})` : failure.benchmark
    this.run.logger.warn(`${what}: ${failure.stage} failed; its cases are recorded as failed and the other benchmarks run. ${errorMessage(failure.message).split('\n')[0]}`)
    const startedAt = Date.now()
    for (const c of this.run.cases) {
      if (c.benchmark !== failure.benchmark || (failure.language && c.language !== failure.language)) continue
      appendRecord(
        this.run.recordsFile,
        buildRecord(
          {
            runId: this.run.runId,
            recordsFile: this.run.recordsFile,
            benchmark: c.benchmark,
            language: c.language,
            size: c.size,
            provider: this.run.provider,
            memory: this.run.memoryOf(c.benchmark),
            trigger: this.run.trigger,
            dataDir: this.run.dataDirOf(c.benchmark),
          },
          { phase: 'cold', repetition: 0 },
          { state: 'error', error: `${failure.stage} failed: ${failure.message}`, clientTimeUs: 0 },
          startedAt,
          { valid: false },
        ),
      )
    }
  }
}
