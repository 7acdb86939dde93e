/**
 * Cost of one Azure Functions invocation on the Consumption plan.
 *
 * Self-contained on purpose: a shared cost module (price table with dates,
 * sources and user overrides) is being designed elsewhere; until then this is
 * the Azure rule set with its own dated price constant.
 *
 * Billing rules (Azure Functions pricing page, restated in
 * shared/reference/PRICES.md, looked up 2026-11-28):
 * - execution time × memory in GB-s, where memory is the *observed* memory
 *   of the execution rounded up to the next 128 MB, at most 1,536 MB;
 * - at least 100 ms and 128 MB per execution; time is counted in whole ms;
 * - plus a per-execution charge.
 * The monthly free grants (1M executions, 400,000 GB-s) are ignored: a
 * benchmark run cannot know how much of them the subscription has left.
 */

export interface AzureConsumptionPrices {
  /** When the prices were looked up (ISO date): every cost figure says which table it used. */
  date: string
  source: string
  /** USD per execution. */
  perExecutionUsd: number
  /** USD per GB-second. */
  perGbSecondUsd: number
  memoryStepMb: number
  memoryMaxMb: number
  minMemoryMb: number
  minDurationMs: number
}

export const AZURE_CONSUMPTION_PRICES_2026_11_28: AzureConsumptionPrices = Object.freeze({
  date: '2026-11-28',
  source: 'https://azure.microsoft.com/pricing/details/functions/ (Consumption plan, East US)',
  // $0.20 per million executions.
  perExecutionUsd: 0.0000002,
  perGbSecondUsd: 0.000016,
  memoryStepMb: 128,
  memoryMaxMb: 1536,
  minMemoryMb: 128,
  minDurationMs: 100,
})

export interface AzureInvocationCost {
  /** Observed memory rounded as Azure bills it, MB. */
  billedMemoryMb: number
  /** Execution time as billed (whole ms, at least 100), ms. */
  billedDurationMs: number
  gbSeconds: number
  costUsd: number
  /** Date of the price table used. */
  priceTableDate: string
}

/**
 * The cost of one execution that ran `durationMs` with `memoryMb` of observed
 * memory. Non-finite or negative inputs are an error (a cost must never be
 * silently wrong).
 */
export function azureConsumptionCost(
  usage: { durationMs: number; memoryMb: number },
  prices: AzureConsumptionPrices = AZURE_CONSUMPTION_PRICES_2026_11_28,
): AzureInvocationCost {
  const { durationMs, memoryMb } = usage
  if (!Number.isFinite(durationMs) || durationMs < 0) throw new RangeError(`durationMs must be a non-negative number, got ${durationMs}`)
  if (!Number.isFinite(memoryMb) || memoryMb < 0) throw new RangeError(`memoryMb must be a non-negative number, got ${memoryMb}`)
  const stepped = Math.ceil(memoryMb / prices.memoryStepMb) * prices.memoryStepMb
  const billedMemoryMb = Math.min(prices.memoryMaxMb, Math.max(prices.minMemoryMb, stepped))
  const billedDurationMs = Math.max(prices.minDurationMs, Math.ceil(durationMs))
  // GB = 1024 MB in Azure's GB-s (128 MB = 0.125 GB).
  const gbSeconds = (billedMemoryMb / 1024) * (billedDurationMs / 1000)
  const costUsd = prices.perExecutionUsd + gbSeconds * prices.perGbSecondUsd
  return { billedMemoryMb, billedDurationMs, gbSeconds, costUsd, priceTableDate: prices.date }
}
