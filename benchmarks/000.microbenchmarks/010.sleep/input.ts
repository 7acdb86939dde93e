/**
 * 010.sleep: the event is `{sleep: seconds}`; the function sleeps that long
 * and returns the number. SeBS uses 1 / 100 / 1000 s, but its own timeout is
 * 120 s, so small and large could never succeed there: here they are 1 / 10 / 100 s.
 */
import type { GenerateInputContext, ValidateOutputContext } from '../../../core/benchmark-input.ts'

/** Seconds to sleep per size. */
export const SLEEP_SECONDS = { test: 1, small: 10, large: 100 } as const

export function bucketsCount(): [number, number] {
  return [0, 0]
}

export function generateInput(ctx: GenerateInputContext): Record<string, unknown> {
  const sleep = SLEEP_SECONDS[ctx.size]
  if (sleep === undefined) throw new Error(`unknown size '${String(ctx.size)}'; expected one of ${Object.keys(SLEEP_SECONDS).join(', ')}`)
  return { sleep }
}

export function validateOutput(ctx: ValidateOutputContext): string | undefined {
  const expected = ctx.input.sleep
  if (ctx.output !== expected) return `result is ${JSON.stringify(ctx.output)}, expected the requested sleep ${JSON.stringify(expected)}`
  return undefined
}
