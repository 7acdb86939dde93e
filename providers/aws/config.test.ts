import {
  CreateBucketCommand,
  GetBucketTaggingCommand,
  HeadBucketCommand,
  PutBucketTaggingCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3'
import { mockClient } from 'aws-sdk-client-mock'
import { afterEach, describe, expect, it } from 'vitest'
import { createLogger } from '../../core/logger.ts'
import { bucketTags, ensureBucket } from './buckets.ts'
import { DEFAULT_NODEJS_RUNTIME, DEFAULT_PYTHON_RUNTIME, resolveAwsOptions, runtimeVersion } from './config.ts'
import { bucketName, functionName, sanitizeFunctionName, tableName } from './naming.ts'

describe('resolveAwsOptions', () => {
  it('fills defaults', () => {
    const o = resolveAwsOptions({}, {})
    expect(o).toMatchObject({
      region: undefined,
      runtime: { python: DEFAULT_PYTHON_RUNTIME, nodejs: DEFAULT_NODEJS_RUNTIME },
      arch: 'x64',
      trigger: 'library',
      endpoints: {},
      keep: false,
      deployTimeoutMs: 300_000,
      directUploadLimit: 50_000_000,
    })
  })

  it('takes the region from config, then AWS_REGION, then AWS_DEFAULT_REGION', () => {
    expect(resolveAwsOptions({ region: 'eu-west-1' }, { AWS_REGION: 'us-east-2' }).region).toBe('eu-west-1')
    expect(resolveAwsOptions({}, { AWS_REGION: 'us-east-2', AWS_DEFAULT_REGION: 'ap-south-1' }).region).toBe('us-east-2')
    expect(resolveAwsOptions({}, { AWS_DEFAULT_REGION: 'ap-south-1' }).region).toBe('ap-south-1')
  })

  it('names the bad field in CONFIG_INVALID errors', () => {
    const bad: Array<[unknown, RegExp]> = [
      [{ region: 'Europe' }, /aws\.region/],
      [{ roleArn: 'my-role' }, /aws\.roleArn.*IAM role ARN/],
      [{ runtime: { python: '3.12' } }, /aws\.runtime\.python/],
      [{ runtime: { nodejs: 'node22' } }, /aws\.runtime\.nodejs/],
      [{ arch: 'arm' }, /aws\.arch/],
      [{ endpoints: { s3: 'localhost:4566' } }, /aws\.endpoints\.s3/],
      [{ endpoints: { sqs: 'http://x' } }, /aws\.endpoints/],
      [{ bucket: 'x' }, /aws/],
      [{ deploymentBucket: 'Bad_Name' }, /aws\.deploymentBucket/],
    ]
    for (const [raw, message] of bad) {
      let err: unknown
      try {
        resolveAwsOptions(raw, {})
      } catch (e) {
        err = e
      }
      expect(err, JSON.stringify(raw)).toMatchObject({ code: 'CONFIG_INVALID' })
      expect(String((err as Error).message), JSON.stringify(raw)).toMatch(message)
    }
  })

  it('accepts a full LocalStack-style section', () => {
    const o = resolveAwsOptions(
      {
        region: 'us-east-1',
        roleArn: 'arn:aws:iam::000000000000:role/lambda-role',
        runtime: { python: 'python3.12', nodejs: 'nodejs20.x' },
        arch: 'arm64',
        trigger: 'http',
        endpoints: { lambda: 'http://localhost:4566', s3: 'http://localhost:4566', iam: 'http://localhost:4566' },
        keep: true,
      },
      {},
    )
    expect(o).toMatchObject({ arch: 'arm64', trigger: 'http', keep: true, runtime: { python: 'python3.12', nodejs: 'nodejs20.x' } })
  })

  it('runtimeVersion', () => {
    expect(runtimeVersion('python3.12')).toBe('3.12')
    expect(runtimeVersion('nodejs22.x')).toBe('22')
    expect(() => runtimeVersion('java21')).toThrow(/Unknown Lambda runtime/)
  })
})

describe('names', () => {
  it('function names follow SeBS and Lambda’s alphabet', () => {
    expect(functionName('2026-11-28T12-00-00-abc', '110.dynamic-html', 'python', 'x64')).toBe(
      'sebs-2026-11-28T12-00-00-abc-110-dynamic-html-python-x64',
    )
    expect(functionName('run:1/2', '504.dna-visualisation', 'nodejs', 'arm64')).toMatch(/^[A-Za-z0-9_-]{1,64}$/)
  })

  it('long names are cut to 64 characters with a hash, so distinct names stay distinct', () => {
    const a = sanitizeFunctionName(`sebs-${'x'.repeat(80)}-a`)
    const b = sanitizeFunctionName(`sebs-${'x'.repeat(80)}-b`)
    expect(a.length).toBeLessThanOrEqual(64)
    expect(b.length).toBeLessThanOrEqual(64)
    expect(a).not.toBe(b)
    expect(a).toMatch(/^[A-Za-z0-9_-]+$/)
  })

  it('bucket and table names', () => {
    expect(bucketName('123456789012', 'us-east-1')).toMatch(/^sebs-benchmarks-[0-9a-f]{8}$/)
    expect(bucketName('123456789012', 'us-east-1')).toBe(bucketName('123456789012', 'us-east-1'))
    expect(bucketName('123456789012', 'us-east-1')).not.toBe(bucketName('123456789012', 'eu-west-1'))
    expect(bucketName('x', 'y', 'My_Id')).toBe('sebs-benchmarks-my-id')
    expect(tableName('abc', '130.crud-api', 'shopping cart')).toBe('sebs-abc-130.crud-api-shopping-cart')
  })
})

describe('benchmarks bucket on S3 (API-shaped mocks)', () => {
  const s3 = mockClient(S3Client)
  const logger = createLogger('sebs', { quiet: true, write: () => {} })
  afterEach(() => s3.reset())

  const notFound = () => new S3ServiceException({ name: 'NotFound', $fault: 'client', message: 'Not Found', $metadata: { httpStatusCode: 404 } })

  it('creates outside us-east-1 with a LocationConstraint and tags the bucket', async () => {
    s3.on(HeadBucketCommand).rejects(notFound())
    s3.on(CreateBucketCommand).resolves({ Location: 'http://sebs-benchmarks-x.s3.amazonaws.com/' })
    s3.on(PutBucketTaggingCommand).resolves({})
    const out = await ensureBucket(new S3Client({ region: 'eu-west-1' }), 'sebs-benchmarks-x', {
      region: 'eu-west-1',
      tags: { 'sebs:managed': 'true', 'sebs:run-id': 'r1' },
      logger,
    })
    expect(out.created).toBe(true)
    expect(s3.commandCalls(CreateBucketCommand)[0].args[0].input).toEqual({
      Bucket: 'sebs-benchmarks-x',
      CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' },
    })
    expect(s3.commandCalls(PutBucketTaggingCommand)[0].args[0].input).toEqual({
      Bucket: 'sebs-benchmarks-x',
      Tagging: { TagSet: [{ Key: 'sebs:managed', Value: 'true' }, { Key: 'sebs:run-id', Value: 'r1' }] },
    })
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0)
  })

  it('in us-east-1 sends no LocationConstraint; an existing bucket is left alone', async () => {
    s3.on(HeadBucketCommand).rejectsOnce(notFound()).resolves({})
    s3.on(CreateBucketCommand).resolves({})
    s3.on(PutBucketTaggingCommand).resolves({})
    const client = new S3Client({ region: 'us-east-1' })
    await ensureBucket(client, 'b', { region: 'us-east-1', tags: {}, logger })
    expect(s3.commandCalls(CreateBucketCommand)[0].args[0].input).toEqual({ Bucket: 'b' })
    expect((await ensureBucket(client, 'b', { region: 'us-east-1', tags: {}, logger })).created).toBe(false)
    expect(s3.commandCalls(CreateBucketCommand)).toHaveLength(1)
  })

  it('a bucket name owned by another account (403) asks for another resourceId', async () => {
    s3.on(HeadBucketCommand).rejects(
      new S3ServiceException({ name: 'Forbidden', $fault: 'client', message: 'Forbidden', $metadata: { httpStatusCode: 403 } }),
    )
    await expect(ensureBucket(new S3Client({ region: 'us-east-1' }), 'b', { region: 'us-east-1', tags: {}, logger })).rejects.toThrow(
      /aws\.resourceId/,
    )
  })

  it('reads tags back; a bucket without tags has none', async () => {
    s3.on(GetBucketTaggingCommand, { Bucket: 'tagged' }).resolves({ TagSet: [{ Key: 'sebs:managed', Value: 'true' }] })
    s3.on(GetBucketTaggingCommand, { Bucket: 'plain' }).rejects(
      new S3ServiceException({ name: 'NoSuchTagSet', $fault: 'client', message: 'The TagSet does not exist', $metadata: { httpStatusCode: 404 } }),
    )
    const client = new S3Client({ region: 'us-east-1' })
    expect(await bucketTags(client, 'tagged')).toEqual({ 'sebs:managed': 'true' })
    expect(await bucketTags(client, 'plain')).toBeUndefined()
  })
})
