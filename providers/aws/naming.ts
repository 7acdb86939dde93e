/**
 * Names and tags of the AWS resources this suite creates. Every resource
 * carries `sebs:managed=true` and `sebs:run-id=<run>` so that `sebs cleanup`
 * finds what a crashed run left behind.
 */
import { createHash } from 'node:crypto'
import type { Architecture, Language } from '../../core/types.ts'

export const TAG_MANAGED = 'sebs:managed'
export const TAG_RUN_ID = 'sebs:run-id'
export const TAG_BENCHMARK = 'sebs:benchmark'
/** Role created by this suite when no `roleArn` is configured (SeBS's name). */
export const ROLE_NAME = 'sebs-lambda-role'
export const BUCKET_PREFIX = 'sebs-benchmarks-'
/** Marker object for S3-compatible stores without bucket tagging (s3rver). */
export const BUCKET_MARKER_KEY = '.sebs-managed.json'

export function sebsTags(runId: string, extra: Record<string, string> = {}): Record<string, string> {
  return { [TAG_MANAGED]: 'true', [TAG_RUN_ID]: runId, ...extra }
}

export function tagList(tags: Record<string, string>): Array<{ Key: string; Value: string }> {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }))
}

function shortHash(text: string, length = 8): string {
  return createHash('sha256').update(text).digest('hex').slice(0, length)
}

/**
 * Lambda function names allow letters, digits, '-' and '_' and at most 64
 * characters. Longer names keep their start and get a hash of the full name,
 * so two long names never collide.
 */
export function sanitizeFunctionName(name: string): string {
  const clean = name.replace(/[^A-Za-z0-9_-]+/g, '-').replace(/-{2,}/g, '-').replace(/^-+|-+$/g, '')
  if (clean.length <= 64) return clean
  return `${clean.slice(0, 55).replace(/-+$/, '')}-${shortHash(clean)}`
}

/** `sebs-<runId>-<benchmark>-<lang>-<arch>`, as SeBS names its functions. */
export function functionName(runId: string, benchmark: string, language: Language, arch: Architecture): string {
  return sanitizeFunctionName(`sebs-${runId}-${benchmark}-${language}-${arch}`)
}

/** `/aws/lambda/<fn>`: where Lambda writes a function's logs. */
export function logGroupName(fn: string): string {
  return `/aws/lambda/${fn}`
}

/**
 * The single benchmarks bucket, `sebs-benchmarks-<id>` (SeBS's layout). The id
 * is stable per account and region so that uploaded inputs are reused across
 * runs; bucket names are global, hence the account in the hash.
 */
export function bucketName(account: string, region: string, resourceId?: string): string {
  const id = resourceId ?? shortHash(`${account}:${region}`)
  const name = `${BUCKET_PREFIX}${id}`.toLowerCase().replace(/[^a-z0-9.-]/g, '-')
  return name.slice(0, 63).replace(/[-.]+$/, '')
}

/** DynamoDB table names: 3–255 of [A-Za-z0-9_.-]. */
export function tableName(resourceId: string, benchmark: string, table: string): string {
  return `sebs-${resourceId}-${benchmark}-${table}`.replace(/[^A-Za-z0-9_.-]+/g, '-').slice(0, 255)
}

export function resourceIdFor(account: string, region: string): string {
  return shortHash(`${account}:${region}`)
}
