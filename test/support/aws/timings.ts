import type { LambdaTimings } from '../../../providers/aws/lambda-function.ts'

/** Short waits for tests against the fake control plane (whose states settle after a few reads). */
export const FAST_TIMINGS: Partial<LambdaTimings> = {
  pollMs: 10,
  metricsPollMs: 10,
  metricsRequeryMs: 50,
  retryBaseMs: 10,
  invokeRetryMs: 2000,
}
