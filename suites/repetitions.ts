/**
 * How many times a point is measured: a fixed number of accepted samples, or
 * adaptively until the 95% nonparametric CI of the median is within ±X % of
 * it, capped by count, wall time, attempts and the cost ceiling. The runner
 * decides before every batch whether the next one may run, so neither mode
 * invokes more than it reports: every invocation is a record.
 */
import { medianCiRelativeHalfWidth } from '../analysis/statistics.ts'
import type { CostBudget } from './context.ts'

export interface RepetitionPolicy {
  mode: 'fixed' | 'adaptive'
  /** Fixed: accepted samples wanted. Adaptive: the most accepted samples taken. */
  count: number
  /** Adaptive: at least this many accepted samples before the CI may stop the point. */
  minCount: number
  /** Adaptive: stop when the CI half-width is within this % of the median. */
  ciTargetPct: number
  /** Confidence of that CI (0.95). */
  confidence: number
  /** Stop before a batch that would likely end after this much time, ms. */
  maxWallMs?: number
  /** Invocations (accepted or not, warm-up included) the point may make at most. */
  maxAttempts: number
}

export type StopReason = 'count' | 'ci-target' | 'max-count' | 'max-wall' | 'max-cost' | 'max-attempts'

export interface BatchOutcome {
  /** Accepted samples of the batch (the metric the CI is computed on). */
  samples: number[]
  /** Invocations the batch made (accepted, discarded and failed). */
  invocations: number
  /** What the batch cost, USD. */
  costUsd: number
}

export interface RepetitionOutcome {
  samples: number[]
  invocations: number
  batches: number
  stoppedBecause: StopReason
  /** CI half-width relative to the median when the point stopped, % (undefined below the CI's minimum n). */
  ciHalfWidthPct?: number
  /** Human summary of why it stopped. */
  explanation: string
}

export interface RepetitionSettings {
  repetitions: number
  adaptive?: boolean
  ciTarget?: number
  minRepetitions?: number
  maxRepetitions?: number
  maxWallSeconds?: number
}

/** The policy from an experiment's settings (adaptive when asked or when a CI target is given). */
export function repetitionPolicy(settings: RepetitionSettings, batchSize = 1, warmupInvocations = 0): RepetitionPolicy {
  const adaptive = settings.adaptive ?? settings.ciTarget !== undefined
  const count = adaptive ? (settings.maxRepetitions ?? 100) : settings.repetitions
  return {
    mode: adaptive ? 'adaptive' : 'fixed',
    count,
    minCount: Math.min(count, settings.minRepetitions ?? 10),
    ciTargetPct: settings.ciTarget ?? 5,
    confidence: 0.95,
    maxWallMs: (settings.maxWallSeconds ?? 600) * 1000,
    // Wrong-kind and failed samples are retried, but not forever: twice the count, plus warm-up and one batch of slack.
    maxAttempts: 2 * count + warmupInvocations + batchSize,
  }
}

/**
 * Runs `batch` until the policy says stop. `batchSize` is how many
 * invocations one batch makes (checked against `maxAttempts` before it runs).
 */
export async function runRepetitions(
  policy: RepetitionPolicy,
  batchSize: number,
  batch: (index: number) => Promise<BatchOutcome>,
  options: { budget?: CostBudget; now?: () => number } = {},
): Promise<RepetitionOutcome> {
  const now = options.now ?? (() => performance.now())
  const started = now()
  const samples: number[] = []
  let invocations = 0
  let batches = 0
  let lastBatchCost = 0
  let stoppedBecause: StopReason | undefined

  const halfWidthPct = (): number | undefined => {
    if (samples.length === 0) return undefined
    const h = medianCiRelativeHalfWidth(samples, policy.confidence)
    return h === undefined ? undefined : h * 100
  }

  for (;;) {
    if (policy.mode === 'fixed' && samples.length >= policy.count) {
      stoppedBecause = 'count'
      break
    }
    if (policy.mode === 'adaptive') {
      const h = halfWidthPct()
      if (samples.length >= policy.minCount && h !== undefined && h <= policy.ciTargetPct) {
        stoppedBecause = 'ci-target'
        break
      }
      if (samples.length >= policy.count) {
        stoppedBecause = 'max-count'
        break
      }
    }
    if (invocations + batchSize > policy.maxAttempts) {
      stoppedBecause = 'max-attempts'
      break
    }
    const elapsed = now() - started
    if (policy.maxWallMs !== undefined && batches > 0 && elapsed + elapsed / batches > policy.maxWallMs) {
      stoppedBecause = 'max-wall'
      break
    }
    // The next batch is estimated to cost what the last one did (the first one is always allowed to find out).
    if (options.budget && batches > 0 && !options.budget.allows(lastBatchCost)) {
      stoppedBecause = 'max-cost'
      break
    }
    const outcome = await batch(batches)
    batches++
    invocations += outcome.invocations
    lastBatchCost = outcome.costUsd
    samples.push(...outcome.samples)
  }

  const h = halfWidthPct()
  const ci = h === undefined ? 'no CI yet' : `CI ±${h.toFixed(2)} % of the median`
  const explanation = {
    count: `${samples.length} samples as configured (${ci})`,
    'ci-target': `${ci} ≤ ${policy.ciTargetPct} % after ${samples.length} samples`,
    'max-count': `reached the cap of ${policy.count} samples with ${ci} (target ${policy.ciTargetPct} %)`,
    'max-wall': `stopped by the wall-time cap of ${Math.round((policy.maxWallMs ?? 0) / 1000)} s after ${samples.length} samples (${ci})`,
    'max-cost': `stopped by the cost ceiling ($${options.budget?.maxUsd}) after ${samples.length} samples (${ci})`,
    'max-attempts': `stopped after ${invocations} invocations with only ${samples.length} accepted samples (${ci})`,
  }[stoppedBecause]
  return { samples, invocations, batches, stoppedBecause, ...(h !== undefined ? { ciHalfWidthPct: h } : {}), explanation }
}
