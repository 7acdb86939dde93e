/**
 * Retrying control-plane calls and waiting for Lambda to settle, always
 * against a deadline.
 *
 * The SDK's own retry strategy already repeats throttles and 5xx a few
 * times; this layer covers what it does not: `ResourceConflictException`
 * (another update of the function is still in progress), IAM's eventual
 * consistency right after the role was created ("cannot be assumed by
 * Lambda"), and throttling that outlasts the SDK's few attempts.
 */
import type { FunctionConfiguration, LambdaClient } from '@aws-sdk/client-lambda'
import { GetFunctionConfigurationCommand } from '@aws-sdk/client-lambda'
import { delay } from '../../core/delay.ts'
import { ProviderError, errorMessage } from '../../core/errors.ts'
import type { Logger } from '../../core/logger.ts'

export interface RetryOptions {
  /** What is being done, for messages: "update function sebs-…". */
  what: string
  /** Give up after this long (ms) from the first attempt. */
  deadlineMs: number
  baseDelayMs?: number
  maxDelayMs?: number
  logger?: Logger
  isRetryable?: (err: unknown) => boolean
}

const THROTTLE_NAMES = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'ProvisionedThroughputExceededException',
  'LimitExceededException',
  'SlowDown',
  'EC2ThrottledException',
])

export function errorName(err: unknown): string {
  return (err as { name?: string })?.name ?? ''
}

export function httpStatus(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode
}

export function isThrottle(err: unknown): boolean {
  return THROTTLE_NAMES.has(errorName(err)) || httpStatus(err) === 429
}

export function isConflict(err: unknown): boolean {
  return errorName(err) === 'ResourceConflictException'
}

export function isNotFound(err: unknown): boolean {
  const name = errorName(err)
  return (
    name === 'ResourceNotFoundException' ||
    name === 'NoSuchEntityException' ||
    name === 'NoSuchEntity' ||
    name === 'NoSuchBucket' ||
    name === 'NotFound' ||
    httpStatus(err) === 404
  )
}

/** A freshly created role is not yet visible to Lambda (IAM is eventually consistent). */
export function isRolePropagation(err: unknown): boolean {
  return (
    errorName(err) === 'InvalidParameterValueException' &&
    /role defined for the function cannot be assumed|cannot be assumed by Lambda/i.test(errorMessage(err))
  )
}

export function defaultRetryable(err: unknown): boolean {
  const status = httpStatus(err)
  return (
    isThrottle(err) ||
    isConflict(err) ||
    errorName(err) === 'ServiceException' ||
    (status !== undefined && status >= 500)
  )
}

/** The pause between polls and retries (core/delay.ts). */
export const sleep = delay

/** Runs `fn` until it succeeds, a non-retryable error, or the deadline. */
export async function withRetry<T>(fn: () => Promise<T>, options: RetryOptions): Promise<T> {
  const start = Date.now()
  const base = options.baseDelayMs ?? 500
  const max = options.maxDelayMs ?? 10_000
  const retryable = options.isRetryable ?? defaultRetryable
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn()
    } catch (err) {
      if (!retryable(err)) throw err
      const elapsed = Date.now() - start
      // Full jitter keeps parallel workers from retrying in lockstep.
      const delay = Math.min(max, base * 2 ** attempt) * (0.5 + Math.random() / 2)
      if (elapsed + delay > options.deadlineMs) {
        throw new ProviderError(
          'aws',
          isThrottle(err) ? 'DEPLOY_FAILED' : 'TIMEOUT',
          `${options.what}: still failing after ${attempt + 1} attempts in ${Math.round(elapsed / 1000)} s (${errorName(err)}: ${errorMessage(err)}). ` +
            'Retry later; if it persists, check the AWS console for the resource.',
          { cause: err },
        )
      }
      options.logger?.debug(`${options.what}: ${errorName(err)} (${errorMessage(err)}), retry in ${Math.round(delay)} ms`)
      await sleep(delay)
    }
  }
}

export interface WaitOptions {
  timeoutMs: number
  pollMs: number
  logger?: Logger
}

/**
 * Polls GetFunctionConfiguration until the function is Active and its last
 * update Successful (what the SDK's FunctionActiveV2/FunctionUpdatedV2
 * waiters check), failing with Lambda's own reason when it is Failed.
 */
export async function waitForFunctionReady(
  lambda: LambdaClient,
  functionName: string,
  options: WaitOptions,
): Promise<FunctionConfiguration> {
  const start = Date.now()
  let last: FunctionConfiguration | undefined
  for (;;) {
    try {
      last = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: functionName }))
    } catch (err) {
      // Right after CreateFunction a read can briefly miss the function.
      if (!isNotFound(err) && !isThrottle(err)) throw err
    }
    if (last) {
      if (last.State === 'Failed') {
        throw new ProviderError(
          'aws',
          'DEPLOY_FAILED',
          `Lambda function ${functionName} failed to become active: ${last.StateReasonCode ?? ''} ${last.StateReason ?? ''}`.trim() +
            '. Fix the cause (role permissions, package contents) and deploy again.',
        )
      }
      if (last.LastUpdateStatus === 'Failed') {
        throw new ProviderError(
          'aws',
          'DEPLOY_FAILED',
          `Update of Lambda function ${functionName} failed: ${last.LastUpdateStatusReasonCode ?? ''} ${last.LastUpdateStatusReason ?? ''}`.trim() +
            '. Fix the cause and deploy again.',
        )
      }
      const settled =
        last.State === 'Active' && (last.LastUpdateStatus === undefined || last.LastUpdateStatus === 'Successful')
      if (settled) return last
    }
    if (Date.now() - start + options.pollMs > options.timeoutMs) {
      throw new ProviderError(
        'aws',
        'TIMEOUT',
        `Lambda function ${functionName} not ready after ${Math.round(options.timeoutMs / 1000)} s ` +
          `(State ${last?.State ?? 'unknown'}, LastUpdateStatus ${last?.LastUpdateStatus ?? 'unknown'}). ` +
          'Raise aws.deployTimeout or check the function in the AWS console.',
      )
    }
    options.logger?.debug(`${functionName}: State ${last?.State}, LastUpdateStatus ${last?.LastUpdateStatus}; waiting`)
    await sleep(options.pollMs)
  }
}
