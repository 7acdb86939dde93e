/**
 * Turns a plain `StorageConnection` (what crosses into bench workers) back
 * into a harness-side storage client, and into the environment a function
 * instance needs to reach the same store. Dispatches on the connection kind,
 * so the plugin never needs to know which provider made it.
 */
import { ProviderError } from '../../core/errors.ts'
import type { NoSqlConnection, ObjectStorage, StorageConnection } from '../types.ts'

export async function connectStorage(connection: StorageConnection): Promise<ObjectStorage> {
  switch (connection.kind) {
    case 's3': {
      const { createS3Storage } = await import('./s3-storage.ts')
      if (connection.accessKey) return createS3Storage(connection)
      // No keys in the connection (cloud storage): resolve credentials the way
      // the AWS SDK does (environment, profile, SSO, instance role), never from disk of ours.
      const { S3Client } = await import('@aws-sdk/client-s3')
      const chain = new S3Client({ region: connection.region ?? 'us-east-1' }).config.credentials
      return createS3Storage(connection, {
        credentials: async () => {
          const c = await chain()
          return { accessKey: c.accessKeyId, secretKey: c.secretAccessKey, sessionToken: c.sessionToken }
        },
      })
    }
    case 'azure-blob': {
      const mod = (await import('../azure/blob-storage.ts')) as { createBlobStorage(c: StorageConnection): ObjectStorage }
      return mod.createBlobStorage(connection)
    }
    default:
      throw new ProviderError('storage', 'NOT_SUPPORTED', `unknown storage kind '${(connection as { kind: string }).kind}'.`)
  }
}

/**
 * Environment for function instances. Keys are only included when the
 * connection has them: cloud functions use their role's credentials instead.
 */
export function functionStorageEnv(connection: StorageConnection | undefined): Record<string, string> {
  if (!connection) return {}
  const env: Record<string, string> = { SEBS_STORAGE_BUCKET: connection.bucket }
  if (connection.kind === 's3') {
    if (connection.endpoint) env.SEBS_STORAGE_ENDPOINT = connection.endpoint
    if (connection.region) env.SEBS_STORAGE_REGION = connection.region
    if (connection.accessKey) env.SEBS_STORAGE_ACCESS_KEY = connection.accessKey
    if (connection.secretKey) env.SEBS_STORAGE_SECRET_KEY = connection.secretKey
  } else if (connection.connectionString) {
    env.STORAGE_CONNECTION_STRING = connection.connectionString
  }
  return env
}

/** Environment for function instances to reach the NoSQL store and find their tables (SeBS's `NOSQL_STORAGE_TABLE_<name>`). */
export function functionNoSqlEnv(connection: NoSqlConnection | undefined): Record<string, string> {
  if (!connection) return {}
  const env: Record<string, string> = {}
  if (connection.endpoint) env.SEBS_NOSQL_ENDPOINT = connection.endpoint
  if (connection.region) env.SEBS_NOSQL_REGION = connection.region
  if (connection.accessKey) env.SEBS_NOSQL_ACCESS_KEY = connection.accessKey
  if (connection.secretKey) env.SEBS_NOSQL_SECRET_KEY = connection.secretKey
  for (const [logical, physical] of Object.entries(connection.tables)) env[`NOSQL_STORAGE_TABLE_${logical}`] = physical
  return env
}
