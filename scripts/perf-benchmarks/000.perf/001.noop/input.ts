/**
 * 001.noop inputs (npm run perf): one small event for every size; the output
 * must echo `n`, so a broken path cannot pass as fast.
 */
import type { GenerateInputContext, ValidateOutputContext } from '../../../../core/benchmark-input.ts'

export function bucketsCount(): [number, number] {
  return [0, 0]
}

export function generateInput(_ctx: GenerateInputContext): Record<string, unknown> {
  return { n: 1 }
}

export function validateOutput(ctx: ValidateOutputContext): string | undefined {
  const n = (ctx.output as { n?: unknown } | null)?.n
  return n === 1 ? undefined : `expected result.n 1, got ${JSON.stringify(ctx.output)}`
}
