/**
 * `sebs cleanup` for AWS: finds everything this suite created, by its
 * `sebs:managed` / `sebs:run-id` tags, and removes it (or only lists it in a
 * dry run): Lambda functions with their Function URLs and log groups, log
 * groups whose function is already gone, the benchmarks buckets, DynamoDB
 * tables, and the execution role when this suite created it.
 *
 * Resources without the tag are never touched, even when their names look
 * like ours (SeBS itself uses `sebs-…` names and `sebs-lambda-role`).
 */
import { DeleteLogGroupCommand, DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs'
import { DeleteTableCommand, DescribeTableCommand, ListTablesCommand, ListTagsOfResourceCommand } from '@aws-sdk/client-dynamodb'
import { ListRoleTagsCommand } from '@aws-sdk/client-iam'
import { ListFunctionsCommand, ListTagsCommand } from '@aws-sdk/client-lambda'
import { ListBucketsCommand } from '@aws-sdk/client-s3'
import { errorMessage } from '../../core/errors.ts'
import type { SweptResource } from '../types.ts'
import { bucketTags, emptyAndDeleteBucket } from './buckets.ts'
import { deleteLambdaResources, type LambdaContext } from './lambda-function.ts'
import { BUCKET_PREFIX, ROLE_NAME, TAG_MANAGED, TAG_RUN_ID, sanitizeFunctionName } from './naming.ts'
import { deleteRole } from './role.ts'
import { errorName, isNotFound } from './retry.ts'

export interface SweepOptions {
  runId?: string
  dryRun: boolean
  /** Buckets outside the sebs-benchmarks- prefix to check too (a configured deployment bucket). */
  extraBuckets?: string[]
}

function matches(tags: Record<string, string> | undefined, runId: string | undefined): boolean {
  if (!tags || tags[TAG_MANAGED] !== 'true') return false
  return runId === undefined || tags[TAG_RUN_ID] === runId
}

/** Our function names end in -<language>-<arch>; SeBS's own do not. */
const OUR_LOG_GROUP = /^\/aws\/lambda\/sebs-.+-(python|nodejs)-(x64|arm64)(-[0-9a-f]{8})?$/

export async function sweepAws(ctx: LambdaContext & { deadlineMs: number }, options: SweepOptions): Promise<SweptResource[]> {
  const out: SweptResource[] = []
  const { lambda, logs, s3, dynamodb, iam } = ctx.clients
  const failures: string[] = []
  const act = async (resource: Omit<SweptResource, 'removed'>, remove: () => Promise<unknown>) => {
    if (options.dryRun) {
      out.push({ ...resource, removed: false })
      return
    }
    try {
      await remove()
      out.push({ ...resource, removed: true })
    } catch (err) {
      failures.push(`${resource.kind} ${resource.id}: ${errorMessage(err)}`)
      out.push({ ...resource, removed: false })
    }
  }

  // Lambda functions (with URL and log group).
  const functionNames = new Set<string>()
  let marker: string | undefined
  do {
    const page = await lambda.send(new ListFunctionsCommand({ Marker: marker, MaxItems: 50 }))
    for (const fn of page.Functions ?? []) {
      if (!fn.FunctionName || !fn.FunctionArn) continue
      functionNames.add(fn.FunctionName)
      if (!fn.FunctionName.startsWith('sebs-')) continue
      let tags: Record<string, string> | undefined
      try {
        tags = (await lambda.send(new ListTagsCommand({ Resource: fn.FunctionArn }))).Tags
      } catch (err) {
        if (isNotFound(err)) continue
        throw err
      }
      if (!matches(tags, options.runId)) continue
      const name = fn.FunctionName
      await act({ kind: 'lambda-function', id: name, runId: tags?.[TAG_RUN_ID] }, () =>
        deleteLambdaResources(ctx, name, ctx.deadlineMs),
      )
    }
    marker = page.NextMarker
  } while (marker)

  // Log groups whose function is gone (Lambda never deletes them itself).
  const prefix = options.runId ? `/aws/lambda/${sanitizeFunctionName(`sebs-${options.runId}`)}-` : '/aws/lambda/sebs-'
  let token: string | undefined
  do {
    const page = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: prefix, nextToken: token }))
    for (const group of page.logGroups ?? []) {
      const name = group.logGroupName
      if (!name || !OUR_LOG_GROUP.test(name)) continue
      const fnName = name.slice('/aws/lambda/'.length)
      // Handled with its function above, or the function still exists (not
      // ours, or another run's): only orphaned groups are swept here.
      if (functionNames.has(fnName)) continue
      await act({ kind: 'log-group', id: name, runId: options.runId }, () =>
        logs.send(new DeleteLogGroupCommand({ logGroupName: name })),
      )
    }
    token = page.nextToken
  } while (token)

  // Benchmarks buckets.
  const buckets = await s3.send(new ListBucketsCommand({}))
  const extra = new Set(options.extraBuckets ?? [])
  const region = await s3.config.region()
  for (const b of buckets.Buckets ?? []) {
    const name = b.Name
    if (!name || (!name.startsWith(BUCKET_PREFIX) && !extra.has(name))) continue
    // ListBuckets spans all regions; a sweep covers the configured one (as for functions and tables).
    if (b.BucketRegion && b.BucketRegion !== region) continue
    let tags: Record<string, string> | undefined
    try {
      tags = await bucketTags(s3, name)
    } catch (err) {
      failures.push(`bucket ${name}: cannot read tags: ${errorName(err)} ${errorMessage(err)}`)
      continue
    }
    if (!matches(tags, options.runId)) continue
    await act({ kind: 's3-bucket', id: name, runId: tags?.[TAG_RUN_ID] }, () => emptyAndDeleteBucket(s3, name))
  }

  // DynamoDB tables.
  let start: string | undefined
  do {
    const page = await dynamodb.send(new ListTablesCommand({ ExclusiveStartTableName: start }))
    for (const tableName of page.TableNames ?? []) {
      if (!tableName.startsWith('sebs-')) continue
      let tags: Record<string, string>
      try {
        const table = (await dynamodb.send(new DescribeTableCommand({ TableName: tableName }))).Table
        // A table already being deleted (by an earlier sweep) is gone for our purposes.
        if (!table?.TableArn || table.TableStatus === 'DELETING') continue
        const tagOut = await dynamodb.send(new ListTagsOfResourceCommand({ ResourceArn: table.TableArn }))
        tags = Object.fromEntries((tagOut.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']))
      } catch (err) {
        if (isNotFound(err)) continue
        throw err
      }
      if (!matches(tags, options.runId)) continue
      await act({ kind: 'dynamodb-table', id: tableName, runId: tags[TAG_RUN_ID] }, () =>
        dynamodb.send(new DeleteTableCommand({ TableName: tableName })),
      )
    }
    start = page.LastEvaluatedTableName
  } while (start)

  // The execution role, only when this suite created it.
  try {
    const tagOut = await iam.send(new ListRoleTagsCommand({ RoleName: ROLE_NAME }))
    const tags = Object.fromEntries((tagOut.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']))
    if (matches(tags, options.runId)) {
      await act({ kind: 'iam-role', id: ROLE_NAME, runId: tags[TAG_RUN_ID] }, () => deleteRole(iam, ROLE_NAME))
    }
  } catch (err) {
    if (!isNotFound(err)) failures.push(`iam-role ${ROLE_NAME}: ${errorName(err)} ${errorMessage(err)}`)
  }

  if (failures.length > 0) {
    ctx.logger.warn(`cleanup could not remove ${failures.length} resource(s):\n  ${failures.join('\n  ')}`)
  }
  return out
}
