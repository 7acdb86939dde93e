/**
 * The AWS provider: Lambda functions from zip packages, S3 for benchmark
 * data (SeBS's single `sebs-benchmarks-<id>` bucket), DynamoDB for NoSQL,
 * CloudWatch Logs for provider metrics of HTTP invocations.
 *
 * Credentials come only from the standard AWS chain and are never stored:
 * handles, caches and records hold names, ARNs, the region and endpoints.
 */
import { join } from 'node:path'
import type { CodePackage, DeployOptions, FunctionHandle, FunctionSpec, NoSqlStorage, ObjectStorage, Provider, ProviderContext } from '../types.ts'
import type { BuildContext, DeployedFunction, StorageConnection, SweptResource } from '../types.ts'
import { defineProvider } from '../types.ts'
import { ProviderError } from '../../core/errors.ts'
import { createDynamoNoSql } from '../storage/nosql/dynamodb-nosql.ts'
import { noSqlFunctionEnv, s3FunctionEnv } from '../storage/function-env.ts'
import { createS3Storage } from '../storage/s3-storage.ts'
import { ensureBucket } from './buckets.ts'
import { type AwsClients, createAwsClients } from './clients.ts'
import { type AwsOptions, type AwsUserOptions, buildImageFor, resolveAwsOptions, runtimeFor } from './config.ts'
import { type CallerIdentity, getCallerIdentity } from './credentials.ts'
import { type AwsFunctionData, type CodeUploadDeps, DEFAULT_TIMINGS, DeployedLambda, type LambdaTimings, deployLambda } from './lambda-function.ts'
import { bucketName, resourceIdFor, sebsTags } from './naming.ts'
import { buildLambdaPackage } from './packaging.ts'
import { checkRolePermissions, ensureRole, partitionOf, type ResolvedRole, type RoleNeed } from './role.ts'
import { sweepAws } from './sweep.ts'

export { resolveAwsOptions, awsOptionsSchema, type AwsOptions, type AwsUserOptions } from './config.ts'
export { buildLambdaPackage, pipInstallArgs, pipPlatformTags, npmInstallArgs } from './packaging.ts'
export { parseReportLine, findReportLine, type ReportLine } from './report-line.ts'
export type { AwsFunctionData } from './lambda-function.ts'

/** Test seams: shorter waits. Production code never passes these. */
export interface AwsProviderInternals {
  timings?: Partial<LambdaTimings>
  /** Deadline of the credential check, ms (default 2500). */
  credentialDeadlineMs?: number
}

/**
 * Builds the Lambda zip of one benchmark without credentials or a provider
 * instance (`npx sebs package --provider=aws`). `options` is the `aws` config
 * section (runtimes), validated here.
 */
export async function packageForAws(spec: FunctionSpec, ctx: BuildContext, options: AwsUserOptions | Record<string, unknown> = {}): Promise<CodePackage> {
  const resolved = resolveAwsOptions(options)
  return buildLambdaPackage(spec, ctx, { runtime: resolved.runtime, buildImage: buildImageFor(resolved, spec.language), buildImageIsDefault: resolved.buildImage === undefined })
}

export function createAwsProvider(ctx: ProviderContext, internals: AwsProviderInternals = {}): Provider {
  const opts: AwsOptions = resolveAwsOptions(ctx.options)
  const logger = ctx.logger.child('provider:aws')
  const timings: LambdaTimings = { ...DEFAULT_TIMINGS, ...internals.timings }
  let identity: Promise<CallerIdentity> | undefined
  let clients: AwsClients | undefined
  let role: Promise<ResolvedRole> | undefined
  /** Permission checks of the role, once per set of needs. */
  const roleChecks = new Map<string, Promise<void>>()
  let bucket: Promise<string> | undefined
  let storage: Promise<ObjectStorage> | undefined
  let nosql: NoSqlStorage | undefined

  const whoami = (): Promise<CallerIdentity> => {
    identity ??= getCallerIdentity({ region: opts.region, endpoints: opts.endpoints }, internals.credentialDeadlineMs).catch((err) => {
      identity = undefined // a later call (after `aws sso login`) may succeed
      throw err
    })
    return identity
  }

  const getClients = async (): Promise<{ clients: AwsClients; id: CallerIdentity }> => {
    const id = await whoami()
    clients ??= createAwsClients({ region: id.region, endpoints: opts.endpoints })
    return { clients, id }
  }

  const resourceId = (id: CallerIdentity) => opts.resourceId ?? resourceIdFor(id.account, id.region)

  /** The benchmarks bucket, created and tagged on first use. */
  const ensureBenchmarksBucket = (): Promise<string> => {
    bucket ??= (async () => {
      const { clients: c, id } = await getClients()
      const name = bucketName(id.account, id.region, opts.resourceId)
      await ensureBucket(c.s3, name, { region: id.region, tags: sebsTags(ctx.runId), logger })
      return name
    })().catch((err) => {
      bucket = undefined
      throw err
    })
    return bucket
  }

  /**
   * How code reaches Lambda: inline up to the direct-upload limit, else
   * through the deployment bucket (or the benchmarks bucket), created on
   * first need. Deploys and workers' `updateCode` share it.
   */
  const codeUpload = (runId: string): CodeUploadDeps => ({
    directUploadLimit: opts.directUploadLimit,
    paddingTmpDir: join(ctx.cacheDir, 'tmp', 'aws'),
    codeBucket: async () => {
      if (!opts.deploymentBucket) return ensureBenchmarksBucket()
      const { clients: c, id } = await getClients()
      await ensureBucket(c.s3, opts.deploymentBucket, { region: id.region, tags: sebsTags(runId), logger })
      return opts.deploymentBucket
    },
  })

  return {
    name: 'aws',

    async checkCredentials() {
      const id = await whoami()
      logger.debug(`credentials of account ${id.account} in ${id.region}`)
    },

    package(spec: FunctionSpec, bctx: BuildContext) {
      return buildLambdaPackage(spec, bctx, { runtime: opts.runtime, buildImage: buildImageFor(opts, spec.language), buildImageIsDefault: opts.buildImage === undefined })
    },

    async deploy(pkg: CodePackage, options: DeployOptions): Promise<DeployedFunction> {
      const { clients: c, id } = await getClients()
      const started = Date.now()
      const fn = await deployLambda(pkg, options, {
        clients: c,
        logger,
        timings,
        runId: options.runId,
        region: id.region,
        endpoints: opts.endpoints,
        runtime: runtimeFor(opts, pkg.language),
        deployTimeoutMs: opts.deployTimeoutMs,
        metricsTimeoutMs: opts.metricsTimeoutMs,
        code: codeUpload(options.runId),
        role: async (modules) => {
          role ??= ensureRole(c.iam, {
            roleArn: opts.roleArn,
            runId: options.runId,
            partition: partitionOf(id.arn),
            logger,
            retryBaseMs: timings.retryBaseMs,
          }).catch(
            (err) => {
              role = undefined
              throw err
            },
          )
          const resolved = await role
          // A role this run created has every policy; one that existed is checked for what these benchmarks use.
          if (!resolved.created) {
            const needs: RoleNeed[] = ['logs', ...(['storage', 'nosql'] as const).filter((m) => modules.has(m))]
            const key = needs.join(',')
            let check = roleChecks.get(key)
            if (!check) {
              check = checkRolePermissions(c.iam, { arn: resolved.arn, mayAttach: !opts.roleArn }, needs, { partition: partitionOf(id.arn), logger }).catch((err) => {
                roleChecks.delete(key)
                throw err
              })
              roleChecks.set(key, check)
            }
            await check
          }
          return resolved
        },
      })
      logger.debug(`deployed ${fn.handle.name} in ${Date.now() - started} ms`)
      return fn
    },

    storage(): Promise<ObjectStorage> {
      storage ??= (async () => {
        const { clients: c, id } = await getClients()
        const name = await ensureBenchmarksBucket()
        // minio (the shared client) gets the SDK chain's credentials per
        // request: profiles, SSO and session tokens work, and nothing is copied
        // into the connection, which crosses to workers and function env.
        const chain = c.s3.config.credentials
        return createS3Storage(
          {
            kind: 's3',
            endpoint: opts.endpoints.s3 ?? `https://s3.${id.region}.amazonaws.com`,
            region: id.region,
            bucket: name,
          },
          {
            provider: 'aws',
            credentials: async () => {
              const creds = await chain()
              return { accessKey: creds.accessKeyId, secretKey: creds.secretAccessKey, sessionToken: creds.sessionToken }
            },
          },
        )
      })().catch((err) => {
        storage = undefined
        throw err
      })
      return storage
    },

    async nosql(): Promise<NoSqlStorage> {
      if (nosql) return nosql
      const { id } = await getClients()
      nosql = createDynamoNoSql(
        { kind: 'dynamodb', endpoint: opts.endpoints.dynamodb ?? '', region: id.region, tables: {} },
        { provider: 'aws', tablePrefix: `sebs-${resourceId(id)}`, tags: sebsTags(ctx.runId), logger },
      )
      return nosql
    },

    connect(handle: FunctionHandle): DeployedFunction {
      if (handle.provider !== 'aws') {
        throw new ProviderError('aws', 'NOT_SUPPORTED', `Handle of function ${handle.name} belongs to provider '${handle.provider}'.`)
      }
      const data = handle.data as AwsFunctionData
      // Workers build their own clients from the credential chain.
      const workerClients = createAwsClients({ region: data.region, endpoints: data.endpoints })
      return new DeployedLambda(handle, { clients: workerClients, logger, timings, code: codeUpload(handle.runId) })
    },

    async sweep(options: { runId?: string; dryRun: boolean }): Promise<SweptResource[]> {
      const { clients: c } = await getClients()
      return sweepAws(
        { clients: c, logger, timings, deadlineMs: opts.deployTimeoutMs },
        { ...options, extraBuckets: opts.deploymentBucket ? [opts.deploymentBucket] : [] },
      )
    },

    async close() {
      const s = storage
      storage = undefined
      if (s) await (await s.catch(() => undefined))?.close()
      if (nosql) await nosql.close()
      nosql = undefined
      clients?.destroy()
      clients = undefined
    },
  }
}

/**
 * Worker side: an S3 client for the run's bucket. Connections without keys
 * (the real S3) take credentials from the AWS SDK's chain per request
 * (environment, profile, SSO, instance role), never from disk of ours.
 */
async function connectAwsStorage(connection: StorageConnection): Promise<ObjectStorage> {
  if (connection.accessKey) return createS3Storage(connection)
  const { S3Client } = await import('@aws-sdk/client-s3')
  const chain = new S3Client({ region: connection.region ?? 'us-east-1' }).config.credentials
  return createS3Storage(connection, {
    credentials: async () => {
      const c = await chain()
      return { accessKey: c.accessKeyId, secretKey: c.secretAccessKey, sessionToken: c.sessionToken }
    },
  })
}

/** The AWS provider as the registry sees it. Workers connect through the whole provider. */
export const awsProvider = defineProvider({
  name: 'aws',
  create: (ctx) => createAwsProvider(ctx),
  connectStorage: connectAwsStorage,
  functionEnv: (storage, nosql) => ({ ...s3FunctionEnv(storage), ...noSqlFunctionEnv(nosql) }),
  defaultCostModel: (arch) => (arch === 'arm64' ? 'aws-arm64' : 'aws-x86_64'),
  options: (section) => section,
  functionsOnThisMachine: false,
  remoteCredentials: true,
})
