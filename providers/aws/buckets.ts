/**
 * The benchmarks bucket (`sebs-benchmarks-<id>`, SeBS's single-bucket
 * layout): created on first use, tagged as this suite's, emptied and removed
 * by `sweep`. Object traffic goes through the shared ObjectStorage; bucket
 * lifecycle and tags need S3 control calls it does not have.
 *
 * S3-compatible stores without bucket tagging (s3rver answers NotImplemented)
 * get a small marker object instead, which `sweep` reads the same way.
 */
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  GetBucketTaggingCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  PutBucketTaggingCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3'
import { ProviderError, errorMessage } from '../../core/errors.ts'
import type { Logger } from '../../core/logger.ts'
import { BUCKET_MARKER_KEY, tagList } from './naming.ts'
import { errorName, httpStatus, isNotFound } from './retry.ts'

function isTaggingUnsupported(err: unknown): boolean {
  return errorName(err) === 'NotImplemented' || httpStatus(err) === 501
}

/** Creates the bucket unless it exists; tags it (or writes the marker) when this call created it. */
export async function ensureBucket(
  s3: S3Client,
  bucket: string,
  options: { region: string; tags: Record<string, string>; logger: Logger },
): Promise<{ created: boolean }> {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket }))
    return { created: false }
  } catch (err) {
    if (httpStatus(err) === 403) {
      throw new ProviderError(
        'aws',
        'STORAGE_FAILED',
        `S3 bucket ${bucket} exists but belongs to another account (or the credentials lack s3:ListBucket). ` +
          'Bucket names are global: set aws.resourceId to choose another sebs-benchmarks-<id> name.',
        { cause: err },
      )
    }
    if (!isNotFound(err)) {
      throw new ProviderError('aws', 'STORAGE_FAILED', `Cannot check S3 bucket ${bucket}: ${errorName(err)} ${errorMessage(err)}`, {
        cause: err,
      })
    }
  }
  try {
    await s3.send(
      new CreateBucketCommand({
        Bucket: bucket,
        // us-east-1 is the default location and refuses an explicit constraint.
        ...(options.region !== 'us-east-1' ? { CreateBucketConfiguration: { LocationConstraint: options.region as never } } : {}),
      }),
    )
  } catch (err) {
    if (errorName(err) === 'BucketAlreadyOwnedByYou') return { created: false }
    throw new ProviderError(
      'aws',
      'STORAGE_FAILED',
      `Cannot create S3 bucket ${bucket} in ${options.region}: ${errorName(err)} ${errorMessage(err)}` +
        (errorName(err) === 'BucketAlreadyExists' ? '. The name is taken globally: set aws.resourceId.' : ''),
      { cause: err },
    )
  }
  options.logger.debug(`created bucket ${bucket}`)
  await tagBucket(s3, bucket, options.tags, options.logger)
  return { created: true }
}

export async function tagBucket(s3: S3Client, bucket: string, tags: Record<string, string>, logger: Logger): Promise<void> {
  try {
    await s3.send(new PutBucketTaggingCommand({ Bucket: bucket, Tagging: { TagSet: tagList(tags) } }))
  } catch (err) {
    if (!isTaggingUnsupported(err)) {
      throw new ProviderError('aws', 'STORAGE_FAILED', `Cannot tag S3 bucket ${bucket}: ${errorName(err)} ${errorMessage(err)}`, {
        cause: err,
      })
    }
    logger.debug(`${bucket}: the store has no bucket tagging; writing ${BUCKET_MARKER_KEY} instead`)
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: BUCKET_MARKER_KEY,
        Body: JSON.stringify({ tags }),
        ContentType: 'application/json',
      }),
    )
  }
}

/** The bucket's tags (or its marker's); undefined when it has neither. */
export async function bucketTags(s3: S3Client, bucket: string): Promise<Record<string, string> | undefined> {
  try {
    const out = await s3.send(new GetBucketTaggingCommand({ Bucket: bucket }))
    return Object.fromEntries((out.TagSet ?? []).map((t) => [t.Key ?? '', t.Value ?? '']))
  } catch (err) {
    if (errorName(err) === 'NoSuchTagSet' || errorName(err) === 'NoSuchTagSetError') return undefined
    if (!isTaggingUnsupported(err)) throw err
  }
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: BUCKET_MARKER_KEY }))
    const text = (await out.Body?.transformToString('utf8')) ?? ''
    const parsed = JSON.parse(text) as { tags?: Record<string, string> }
    return parsed.tags
  } catch (err) {
    if (isNotFound(err) || errorName(err) === 'NoSuchKey' || err instanceof SyntaxError) return undefined
    throw err
  }
}

/** Deletes every object, then the bucket. Returns the number of objects removed. */
export async function emptyAndDeleteBucket(s3: S3Client, bucket: string): Promise<number> {
  let removed = 0
  let token: string | undefined
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }))
    const keys = (page.Contents ?? []).map((o) => ({ Key: o.Key ?? '' }))
    if (keys.length > 0) {
      const out = await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys, Quiet: true } }))
      if (out.Errors && out.Errors.length > 0) {
        const first = out.Errors[0]
        throw new ProviderError(
          'aws',
          'STORAGE_FAILED',
          `Could not empty S3 bucket ${bucket}: ${out.Errors.length} objects failed, first ${first.Key}: ${first.Code} ${first.Message}`,
        )
      }
      removed += keys.length
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined
  } while (token)
  await s3.send(new DeleteBucketCommand({ Bucket: bucket }))
  return removed
}
