/**
 * The Lambda execution role (main process, at deploy): the configured
 * `roleArn`, or `sebs-lambda-role` (SeBS's name), created on first use with
 * S3, DynamoDB and basic-execution (CloudWatch Logs) permissions and tagged
 * as this suite's, so that a full `sebs cleanup` removes it again.
 *
 * A role that already exists is checked (IAM's policy simulator) for what
 * the selected benchmarks need: S3 for the storage module, DynamoDB for the
 * nosql module, CloudWatch Logs always. SeBS's own `sebs-lambda-role` has S3
 * and basic execution only, so 130.crud-api would otherwise fail with
 * AccessDenied at run time. `sebs-lambda-role` gets the missing managed
 * policy attached; a configured role is the user's, so the deploy stops with
 * a message naming the policy to attach.
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
  SimulatePrincipalPolicyCommand,
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
  /** Created in the last `YOUNG_ROLE_MS` (e.g. by a run that failed moments ago): IAM may still be propagating it. */
  young: boolean
}

/** How long after its creation a role may still be unknown to Lambda ("cannot be assumed"). */
export const YOUNG_ROLE_MS = 5 * 60_000

function isYoung(role: Role | undefined, now = Date.now()): boolean {
  const created = role?.CreateDate ? new Date(role.CreateDate).getTime() : Number.NaN
  return Number.isFinite(created) && now - created < YOUNG_ROLE_MS
}

/** What a package's function modules need from the role, with the actions that prove it and the managed policy that grants it. */
export const ROLE_NEEDS = {
  logs: { actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], policy: 'policy/service-role/AWSLambdaBasicExecutionRole', what: 'CloudWatch Logs' },
  storage: { actions: ['s3:GetObject', 's3:PutObject', 's3:ListBucket'], policy: 'policy/AmazonS3FullAccess', what: 'S3 (the storage module)' },
  nosql: { actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:DeleteItem'], policy: 'policy/AmazonDynamoDBFullAccess', what: 'DynamoDB (the nosql module)' },
} as const
export type RoleNeed = keyof typeof ROLE_NEEDS

/**
 * Checks with IAM's policy simulator that a role allows what `needs` use;
 * for `sebs-lambda-role` attaches the managed policy of each missing need,
 * for another role throws DEPLOY_FAILED naming the role, the denied actions
 * and the policy to attach. A simulator the credentials may not call is a
 * warning, not a stop (the role may well be fine).
 */
export async function checkRolePermissions(
  iam: IAMClient,
  role: { arn: string; mayAttach: boolean },
  needs: readonly RoleNeed[],
  options: { partition: string; logger: Logger },
): Promise<void> {
  const actions = needs.flatMap((n) => [...ROLE_NEEDS[n].actions])
  let denied: string[]
  try {
    const out = await iam.send(new SimulatePrincipalPolicyCommand({ PolicySourceArn: role.arn, ActionNames: actions }))
    denied = (out.EvaluationResults ?? []).filter((r) => r.EvalDecision !== 'allowed').map((r) => r.EvalActionName ?? '')
  } catch (err) {
    options.logger.warn(
      `could not check the permissions of ${role.arn} (${errorName(err)}: ${errorMessage(err)}); give the credentials iam:SimulatePrincipalPolicy to have them checked before deploying.`,
    )
    return
  }
  const missing = needs.filter((n) => ROLE_NEEDS[n].actions.some((a) => denied.includes(a)))
  if (missing.length === 0) return
  const roleName = role.arn.split('/').pop() ?? role.arn
  if (!role.mayAttach) {
    throw new ProviderError(
      'aws',
      'DEPLOY_FAILED',
      `The execution role ${role.arn} does not allow ${missing.map((n) => ROLE_NEEDS[n].what).join(' and ')} (denied: ${denied.join(', ')}), which the selected benchmarks use. ` +
        `Attach ${missing.map((n) => `arn:${options.partition}:iam::aws:${ROLE_NEEDS[n].policy}`).join(' and ')} to role ${roleName} (or an equivalent policy), or unset aws.roleArn to let sebs use its own role.`,
    )
  }
  for (const n of missing) {
    const policyArn = `arn:${options.partition}:iam::aws:${ROLE_NEEDS[n].policy}`
    options.logger.info(`adding ${policyArn} to ${roleName}: it does not allow ${ROLE_NEEDS[n].what}, which the selected benchmarks use`)
    try {
      await iam.send(new AttachRolePolicyCommand({ RoleName: roleName, PolicyArn: policyArn }))
    } catch (err) {
      throw new ProviderError(
        'aws',
        'DEPLOY_FAILED',
        `The execution role ${roleName} does not allow ${ROLE_NEEDS[n].what}, and attaching ${policyArn} failed (${errorName(err)}: ${errorMessage(err)}). ` +
          'Attach it yourself (aws iam attach-role-policy), or give the credentials iam:AttachRolePolicy.',
        { cause: err },
      )
    }
  }
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
  if (options.roleArn) {
    // The role's age decides the propagation retries; reading it needs iam:GetRole, which a user's credentials may lack.
    const configured = await getRole(iam, options.roleArn.split('/').pop()).catch(() => undefined)
    return { arn: options.roleArn, created: false, young: isYoung(configured) }
  }
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
    if (existing?.Arn) return { arn: existing.Arn, created: false, young: isYoung(existing) }
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
    return { arn, created: true, young: true }
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
