/**
 * The shared provider conformance suite against the AWS provider, with the
 * Lambda/IAM/CloudWatch Logs/STS control plane faked (aws-sdk-client-mock,
 * see testing/fake-aws.ts) and real servers behind S3 (s3rver) and DynamoDB
 * (dynalite). Invocations run the packaged handler in Lambda-like execution
 * environments, through the Function URL path (the suite deploys with
 * trigger 'http').
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { vi } from 'vitest'
import { createLogger } from '../../core/logger.ts'
import { defineProviderConformance } from '../../test/support/conformance/conformance.ts'
import { type DynaliteServer, startDynalite } from '../storage/nosql/dynalite-server.ts'
import { type RunningS3rver, startS3rver } from '../storage/s3rver-server.ts'
import { createAwsProvider } from './index.ts'
import { FakeAws } from '../../test/support/aws/fake-aws.ts'
import { FAST_TIMINGS } from '../../test/support/aws/timings.ts'

defineProviderConformance(
  'aws (mocked control plane)',
  async () => {
    const work = await mkdtemp(join(tmpdir(), 'sebs-aws-conf-'))
    const s3: RunningS3rver = await startS3rver({ directory: join(work, 's3') })
    const dynamo: DynaliteServer = await startDynalite({})
    // The harness side finds these through the default credential chain;
    // s3rver accepts only its own key pair.
    vi.stubEnv('AWS_ACCESS_KEY_ID', s3.accessKey)
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', s3.secretKey)
    vi.stubEnv('AWS_REGION', 'us-east-1')
    const fake = await new FakeAws({
      workDir: join(work, 'lambda'),
      // Inside the environments: the execution role's credentials (s3rver's pair here).
      roleCredentials: { accessKeyId: s3.accessKey, secretAccessKey: s3.secretKey },
      s3: { endpoint: s3.endpoint, accessKeyId: s3.accessKey, secretAccessKey: s3.secretKey },
    }).start()
    const cacheDir = join(work, 'cache')
    const logger = createLogger('sebs', { quiet: true, write: () => {} })
    const provider = createAwsProvider(
      {
        runId: 'conformance-aws',
        cacheDir,
        logger,
        options: { region: 'us-east-1', endpoints: { s3: s3.endpoint, dynamodb: dynamo.endpoint } },
      },
      { timings: FAST_TIMINGS },
    )
    await provider.checkCredentials()
    return {
      provider,
      runId: 'conformance-aws',
      buildContext: { cacheDir, logger, runtimes: { python: 'python3', node: process.execPath } },
      // What the harness passes functions for storage on a custom endpoint.
      deployEnv: { SEBS_STORAGE_ENDPOINT: s3.endpoint, SEBS_STORAGE_REGION: 'us-east-1' },
      watchInstances: async (fn) => fake.liveEnvironments(fn.handle.name),
      async teardown() {
        await provider.sweep({ runId: 'conformance-aws', dryRun: false })
        await provider.close()
        await fake.stop()
        await s3.close()
        await dynamo.close()
        vi.unstubAllEnvs()
        await rm(work, { recursive: true, force: true })
      },
    }
  },
  { deployTimeoutMs: 300_000 },
)
