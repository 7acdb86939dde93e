/**
 * SDK clients for one region and set of endpoints. Credentials always come
 * from the SDK's default chain (env vars, `AWS_PROFILE`, SSO, container and
 * instance roles): nothing here holds or copies a secret, so the objects
 * that describe a deployment (handles, caches, records) cannot leak one.
 */
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs'
import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { IAMClient } from '@aws-sdk/client-iam'
import { LambdaClient } from '@aws-sdk/client-lambda'
import { S3Client } from '@aws-sdk/client-s3'
import { STSClient } from '@aws-sdk/client-sts'

export interface AwsEndpoints {
  lambda?: string
  s3?: string
  dynamodb?: string
  logs?: string
  sts?: string
  iam?: string
}

/** Where to reach AWS: plain data, safe to put in a FunctionHandle. */
export interface AwsTarget {
  region?: string
  endpoints: AwsEndpoints
}

export interface AwsClients {
  /** Control plane: SDK retries (throttling, 5xx) on. */
  lambda: LambdaClient
  /**
   * Data plane: one attempt only. A retried Invoke would run the benchmark
   * twice and report the second client time; throttles are retried by the
   * caller, which measures each attempt on its own.
   */
  invoke: LambdaClient
  s3: S3Client
  dynamodb: DynamoDBClient
  logs: CloudWatchLogsClient
  iam: IAMClient
  destroy(): void
}

// Connection setup bounded; no request timeout on invokes, which may run up
// to the function's own timeout (900 s at most).
const REQUEST_HANDLER = { connectionTimeout: 10_000 }

function base(target: AwsTarget, endpoint: string | undefined) {
  return {
    ...(target.region ? { region: target.region } : {}),
    ...(endpoint ? { endpoint } : {}),
    requestHandler: REQUEST_HANDLER,
  }
}

export function createAwsClients(target: AwsTarget): AwsClients {
  const e = target.endpoints
  const lambda = new LambdaClient({ ...base(target, e.lambda), maxAttempts: 5 })
  const invoke = new LambdaClient({ ...base(target, e.lambda), maxAttempts: 1 })
  // Custom S3 endpoints (LocalStack, MinIO, s3rver) serve buckets by path.
  const s3 = new S3Client({ ...base(target, e.s3), forcePathStyle: Boolean(e.s3), maxAttempts: 5 })
  const dynamodb = new DynamoDBClient({ ...base(target, e.dynamodb), maxAttempts: 5 })
  const logs = new CloudWatchLogsClient({ ...base(target, e.logs), maxAttempts: 5 })
  // IAM is a global service: its endpoint does not depend on the region.
  const iam = new IAMClient({ ...base(target, e.iam), maxAttempts: 5 })
  return {
    lambda,
    invoke,
    s3,
    dynamodb,
    logs,
    iam,
    destroy() {
      for (const c of [lambda, invoke, s3, dynamodb, logs, iam]) c.destroy()
    },
  }
}

/** STS for the credential check: fail fast, never retry. */
export function createStsClient(target: AwsTarget, timeoutMs: number): STSClient {
  return new STSClient({
    ...(target.region ? { region: target.region } : {}),
    ...(target.endpoints.sts ? { endpoint: target.endpoints.sts } : {}),
    maxAttempts: 1,
    requestHandler: { connectionTimeout: timeoutMs, requestTimeout: timeoutMs },
  })
}
