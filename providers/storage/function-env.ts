/**
 * The environment a function instance needs to reach an S3-compatible store
 * and a NoSQL store (main process, at deploy). Shared by the providers whose
 * functions use these protocols; each provider's descriptor picks its own
 * (`ProviderDescriptor.functionEnv`).
 */
import type { NoSqlConnection, StorageConnection } from '../types.ts'

/**
 * Environment for function instances on an S3-compatible store. Keys are
 * only included when the connection has them: cloud functions use their
 * role's credentials instead.
 */
export function s3FunctionEnv(connection: StorageConnection | undefined): Record<string, string> {
  if (!connection) return {}
  const env: Record<string, string> = { SEBS_STORAGE_BUCKET: connection.bucket }
  if (connection.endpoint) env.SEBS_STORAGE_ENDPOINT = connection.endpoint
  if (connection.region) env.SEBS_STORAGE_REGION = connection.region
  if (connection.accessKey) env.SEBS_STORAGE_ACCESS_KEY = connection.accessKey
  if (connection.secretKey) env.SEBS_STORAGE_SECRET_KEY = connection.secretKey
  return env
}

/** Environment for function instances to reach the NoSQL store and find their tables (SeBS's `NOSQL_STORAGE_TABLE_<name>`). */
export function noSqlFunctionEnv(connection: NoSqlConnection | undefined): Record<string, string> {
  if (!connection) return {}
  const env: Record<string, string> = {}
  if (connection.endpoint) env.SEBS_NOSQL_ENDPOINT = connection.endpoint
  if (connection.region) env.SEBS_NOSQL_REGION = connection.region
  if (connection.accessKey) env.SEBS_NOSQL_ACCESS_KEY = connection.accessKey
  if (connection.secretKey) env.SEBS_NOSQL_SECRET_KEY = connection.secretKey
  for (const [logical, physical] of Object.entries(connection.tables)) env[`NOSQL_STORAGE_TABLE_${logical}`] = physical
  return env
}
