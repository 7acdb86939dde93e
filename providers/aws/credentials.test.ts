import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs'
import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { IAMClient } from '@aws-sdk/client-iam'
import { LambdaClient } from '@aws-sdk/client-lambda'
import { S3Client } from '@aws-sdk/client-s3'
import { GetCallerIdentityCommand, STSClient, STSServiceException } from '@aws-sdk/client-sts'
import { mockClient } from 'aws-sdk-client-mock'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createLogger } from '../../core/logger.ts'
import { createAwsProvider } from './index.ts'

let home: string

// Nothing configured: no keys, no profile, no config files, no instance metadata.
beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'sebs-aws-nocreds-'))
  for (const name of [
    'AWS_ACCESS_KEY_ID',
    'AWS_SECRET_ACCESS_KEY',
    'AWS_SESSION_TOKEN',
    'AWS_PROFILE',
    'AWS_DEFAULT_PROFILE',
    'AWS_REGION',
    'AWS_DEFAULT_REGION',
    'AWS_WEB_IDENTITY_TOKEN_FILE',
    'AWS_ROLE_ARN',
    'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
    'AWS_CONTAINER_CREDENTIALS_FULL_URI',
  ]) {
    vi.stubEnv(name, undefined)
  }
  vi.stubEnv('AWS_CONFIG_FILE', join(home, 'config'))
  vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', join(home, 'credentials'))
  // On a CI machine that is itself an EC2 instance, IMDS would answer.
  vi.stubEnv('AWS_EC2_METADATA_DISABLED', 'true')
})
afterEach(async () => {
  vi.unstubAllEnvs()
  await rm(home, { recursive: true, force: true })
})

function provider(options: Record<string, unknown> = { region: 'eu-west-1' }) {
  return createAwsProvider({ runId: 'r', cacheDir: join(home, 'cache'), logger: createLogger('sebs', { quiet: true, write: () => {} }), options })
}

describe('checkCredentials without credentials', () => {
  it('rejects with CREDENTIALS_MISSING within ~2 s, naming the variables to set, and sends nothing else', async () => {
    // Every other service is mocked so that any call would be seen (and none may happen).
    const others = [LambdaClient, S3Client, IAMClient, DynamoDBClient, CloudWatchLogsClient].map((c) => mockClient(c as never))
    try {
      const started = performance.now()
      const err = await provider()
        .checkCredentials()
        .then(
          () => undefined,
          (e: unknown) => e,
        )
      const elapsed = performance.now() - started
      expect(err).toMatchObject({ code: 'CREDENTIALS_MISSING' })
      const message = String((err as Error).message)
      for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_PROFILE', 'AWS_REGION']) expect(message).toContain(name)
      expect(elapsed).toBeLessThan(2000)
      for (const m of others) expect(m.calls()).toHaveLength(0)
    } finally {
      for (const m of others) m.restore()
    }
  })

  it('keys set but no region: REGION_MISSING, saying the keys are set and how to set the region', async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIAFAKEFAKEFAKE0001')
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'not-a-real-secret')
    const err = await provider({}).checkCredentials().catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'REGION_MISSING' })
    const message = String((err as Error).message)
    expect(message).toContain('AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are set; the region is what is missing')
    expect(message).toContain('export AWS_REGION=')
    expect(message).toContain('aws section of the sebs config')
    // Not the "set your keys" advice: they are set.
    expect(message).not.toContain('AWS_SESSION_TOKEN')
    expect(message).not.toContain('No AWS credentials')
  })

  it('nothing configured at all (no keys, profile, ~/.aws files, region): CREDENTIALS_MISSING with the key advice, not only the region', async () => {
    for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_PROFILE', 'AWS_REGION', 'AWS_DEFAULT_REGION']) vi.stubEnv(name, undefined)
    vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', '/nonexistent/sebs-test/credentials')
    vi.stubEnv('AWS_CONFIG_FILE', '/nonexistent/sebs-test/config')
    const err = await provider({}).checkCredentials().catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'CREDENTIALS_MISSING' })
    const message = String((err as Error).message)
    for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_PROFILE', 'AWS_REGION']) expect(message).toContain(name)
  })

  it('AWS_DEFAULT_REGION is honoured', async () => {
    vi.stubEnv('AWS_DEFAULT_REGION', 'eu-central-1')
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIAFAKEFAKEFAKE0001')
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'not-a-real-secret')
    const sts = mockClient(STSClient)
    sts.on(GetCallerIdentityCommand).resolves({ Account: '123456789012', Arn: 'arn:aws:iam::123456789012:user/x' })
    try {
      await provider({}).checkCredentials()
      expect(await (sts.call(0).thisValue as STSClient).config.region()).toBe('eu-central-1')
    } finally {
      sts.restore()
    }
  })
})

describe('checkCredentials with credentials AWS rejects', () => {
  const cases: Array<[string, string, number]> = [
    ['InvalidClientTokenId', 'The security token included in the request is invalid.', 403],
    ['ExpiredToken', 'The security token included in the request is expired', 400],
    ['SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.', 403],
  ]
  for (const [name, message, status] of cases) {
    it(`${name} → CREDENTIALS_INVALID`, async () => {
      vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIAFAKEFAKEFAKE0001')
      vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'not-a-real-secret')
      const sts = mockClient(STSClient)
      sts
        .on(GetCallerIdentityCommand)
        .rejects(new STSServiceException({ name, $fault: 'client', message, $metadata: { httpStatusCode: status } }))
      try {
        const err = await provider().checkCredentials().catch((e: unknown) => e)
        expect(err).toMatchObject({ code: 'CREDENTIALS_INVALID' })
        expect(String((err as Error).message)).toContain(name)
        expect(String((err as Error).message)).toContain('AWS_PROFILE')
      } finally {
        sts.restore()
      }
    })
  }

  it('a black-holed STS endpoint fails at the deadline with TIMEOUT', async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIAFAKEFAKEFAKE0001')
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'not-a-real-secret')
    const sts = mockClient(STSClient)
    sts.on(GetCallerIdentityCommand).callsFake(() => new Promise(() => {}))
    try {
      const p = createAwsProvider(
        { runId: 'r', cacheDir: join(home, 'cache'), logger: createLogger('sebs', { quiet: true, write: () => {} }), options: { region: 'eu-west-1' } },
        { credentialDeadlineMs: 300 },
      )
      const started = performance.now()
      const err = await p.checkCredentials().catch((e: unknown) => e)
      expect(err).toMatchObject({ code: 'TIMEOUT' })
      expect(performance.now() - started).toBeLessThan(2000)
    } finally {
      sts.restore()
    }
  })
})
