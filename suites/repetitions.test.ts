import { describe, expect, it } from 'vitest'
import { CostBudget } from './context.ts'
import { repetitionPolicy, runRepetitions, type BatchOutcome } from './repetitions.ts'

function source(values: number[], cost = 0): (i: number) => Promise<BatchOutcome> {
  let k = 0
  return async () => ({ samples: [values[k++ % values.length]!], invocations: 1, costUsd: cost })
}

describe('runRepetitions', () => {
  it('fixed: exactly the configured number of accepted samples', async () => {
    const out = await runRepetitions(repetitionPolicy({ repetitions: 7 }), 1, source([1, 2, 3]))
    expect(out.samples).toHaveLength(7)
    expect(out.invocations).toBe(7)
    expect(out.stoppedBecause).toBe('count')
  })

  it('adaptive: a constant metric stops at the minimum count, a spread one runs to the cap', async () => {
    const policy = repetitionPolicy({ repetitions: 10, ciTarget: 5, minRepetitions: 10, maxRepetitions: 60 })
    const steady = await runRepetitions(policy, 1, source([100, 101, 100, 99, 100]))
    expect(steady.stoppedBecause).toBe('ci-target')
    expect(steady.samples).toHaveLength(10)
    expect(steady.ciHalfWidthPct).toBeLessThanOrEqual(5)
    const spread = await runRepetitions(policy, 1, source([10, 200, 50, 120, 5, 80, 300, 30]))
    expect(spread.stoppedBecause).toBe('max-count')
    expect(spread.samples).toHaveLength(60)
    expect(spread.invocations).toBe(60)
  })

  it('wrong-kind samples are retried, but attempts are capped', async () => {
    const out = await runRepetitions(repetitionPolicy({ repetitions: 5 }), 1, async () => ({ samples: [], invocations: 1, costUsd: 0 }))
    expect(out.stoppedBecause).toBe('max-attempts')
    // 2 × 5 + 1 batch of slack: never an invocation that is not reported.
    expect(out.invocations).toBe(11)
  })

  it('the cost ceiling stops before a batch that would exceed it', async () => {
    const budget = new CostBudget(0.35)
    const out = await runRepetitions(repetitionPolicy({ repetitions: 100 }), 1, async () => {
      budget.add(0.1)
      return { samples: [1], invocations: 1, costUsd: 0.1 }
    }, { budget })
    expect(out.stoppedBecause).toBe('max-cost')
    expect(out.invocations).toBe(3)
    expect(budget.spentUsd).toBeCloseTo(0.3, 12)
  })

  it('the wall-time cap stops before a batch that would likely overrun', async () => {
    let t = 0
    const out = await runRepetitions(
      { ...repetitionPolicy({ repetitions: 100 }), maxWallMs: 1000 },
      1,
      async () => {
        t += 300
        return { samples: [1], invocations: 1, costUsd: 0 }
      },
      { now: () => t },
    )
    expect(out.stoppedBecause).toBe('max-wall')
    expect(out.invocations).toBe(3)
  })
})
