/**
 * The Lambda execution role: the configured `roleArn`, or `sebs-lambda-role`
 * (SeBS's name), created on first use with S3, DynamoDB and basic-execution
 * (CloudWatch Logs) permissions and tagged as this suite's, so that a full
 * `sebs cleanup` removes it again.
 */
import {
  AttachRolePolicyCommand,
  CreateRoleCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  GetRoleCommand,
  type IAMClient,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
  type Role,
} from '@aws-sdk/client-iam'
import { ProviderError, errorMessage } from '../../core/errors.ts'
import type { Logger } from '../../core/logger.ts'
import { ROLE_NAME, sebsTags, tagList } from './naming.ts'
import { errorName, isNotFound, isThrottle, withRetry } from './retry.ts'

export const TRUST_POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
})

/** Managed policies attached to the created role (partition-relative ARNs). */
export const ROLE_POLICIES = [
  'policy/AmazonS3FullAccess',
  'policy/AmazonDynamoDBFullAccess',
  'policy/service-role/AWSLambdaBasicExecutionRole',
]

export interface ResolvedRole {
  arn: string
  /** True when this call created it: Lambda may not see a new role for a few seconds. */
  created: boolean
}

/** `aws`, `aws-cn` or `aws-us-gov`, from any ARN of the account. */
export function partitionOf(arn: string): string {
  return /^arn:([^:]+):/.exec(arn)?.[1] ?? 'aws'
}

export async function getRole(iam: IAMClient, name = ROLE_NAME): Promise<Role | undefined> {
  try {
    return (await iam.send(new GetRoleCommand({ RoleName: name }))).Role
  } catch (err) {
    if (isNotFound(err)) return undefined
    throw err
  }
}

export async function ensureRole(
  iam: IAMClient,
  options: { roleArn?: string; runId: string; partition: string; logger: Logger; retryBaseMs?: number },
): Promise<ResolvedRole> {
  if (options.roleArn) return { arn: options.roleArn, created: false }
  // IAM throttles hard (ThrottlingException): keep trying beyond the SDK's few attempts.
  const send = <T>(what: string, fn: () => Promise<T>) =>
    withRetry(fn, {
      what,
      deadlineMs: 60_000,
      baseDelayMs: options.retryBaseMs,
      logger: options.logger,
      isRetryable: (err) => isThrottle(err),
    })
  try {
    const existing = await send('read the IAM role', () => getRole(iam))
    // An unmanaged role of this name (e.g. made by SeBS itself) is used as it is, and never swept.
    if (existing?.Arn) return { arn: existing.Arn, created: false }
    options.logger.info(`creating IAM role ${ROLE_NAME} for Lambda (S3, DynamoDB, CloudWatch Logs)`)
    let arn: string
    try {
      const out = await send('create the IAM role', () =>
        iam.send(
          new CreateRoleCommand({
            RoleName: ROLE_NAME,
            AssumeRolePolicyDocument: TRUST_POLICY,
            Description: 'Execution role of the serverless benchmark suite (sebs); removed by `sebs cleanup`.',
            Tags: tagList(sebsTags(options.runId)),
          }),
        ),
      )
      arn = out.Role?.Arn ?? ''
    } catch (err) {
      // A parallel run created it first: use theirs.
      const cause = (err as { cause?: unknown }).cause ?? err
      if (errorName(cause) !== 'EntityAlreadyExistsException' && errorName(cause) !== 'EntityAlreadyExists') throw err
      arn = (await getRole(iam))?.Arn ?? ''
    }
    for (const policy of ROLE_POLICIES) {
      await send('attach a policy to the IAM role', () =>
        iam.send(new AttachRolePolicyCommand({ RoleName: ROLE_NAME, PolicyArn: `arn:${options.partition}:iam::aws:${policy}` })),
      )
    }
    if (!arn) throw new Error('IAM returned no role ARN')
    return { arn, created: true }
  } catch (err) {
    if (err instanceof ProviderError) throw err
    throw new ProviderError(
      'aws',
      'DEPLOY_FAILED',
      `Could not get or create the IAM role ${ROLE_NAME} (${errorName(err)}: ${errorMessage(err)}). ` +
        'Give the credentials iam:GetRole/CreateRole/AttachRolePolicy, or set aws.roleArn to an existing Lambda execution role.',
      { cause: err },
    )
  }
}

/** Detaches and deletes a role (its policies first, as IAM requires). */
export async function deleteRole(iam: IAMClient, name: string): Promise<void> {
  let marker: string | undefined
  do {
    const out = await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: name, Marker: marker }))
    for (const p of out.AttachedPolicies ?? []) {
      await iam.send(new DetachRolePolicyCommand({ RoleName: name, PolicyArn: p.PolicyArn }))
    }
    marker = out.IsTruncated ? out.Marker : undefined
  } while (marker)
  do {
    const out = await iam.send(new ListRolePoliciesCommand({ RoleName: name, Marker: marker }))
    for (const p of out.PolicyNames ?? []) await iam.send(new DeleteRolePolicyCommand({ RoleName: name, PolicyName: p }))
    marker = out.IsTruncated ? out.Marker : undefined
  } while (marker)
  await iam.send(new DeleteRoleCommand({ RoleName: name }))
}
