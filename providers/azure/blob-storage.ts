/**
 * Harness-side object storage on Azure Blob Storage (Azure or Azurite), for
 * SeBS's single-bucket layout: the bucket is one blob container, prefixes are
 * virtual directories (`<benchmark>-<i>-input/…`).
 *
 * The azure descriptor (index.ts) loads this module for bench workers, which
 * rebuild their client from the plain connection.
 * The connection string carries the account key: it lives in memory and in
 * the function's app settings only, never in logs or error messages.
 */
import { BlobServiceClient, RestError, type ContainerClient } from '@azure/storage-blob'
import { ProviderError, errorMessage } from '../../core/errors.ts'
import type { ObjectStorage, StorageConnection, StoredObject } from '../types.ts'

/** Objects above this size go up in staged 4 MiB blocks (Put Block + Put Block List). */
export const SINGLE_SHOT_MAX = 4 * 1024 * 1024
export const BLOCK_SIZE = 4 * 1024 * 1024
const UPLOAD_CONCURRENCY = 4
const DELETE_CONCURRENCY = 8

function restStatus(err: unknown): number | undefined {
  return err instanceof RestError ? err.statusCode : (err as { statusCode?: number } | undefined)?.statusCode
}

/** The account name and blob endpoint of a connection string, for messages and the connection (no key). */
export function describeConnectionString(connectionString: string): { accountName?: string; blobEndpoint?: string } {
  const parts = new Map<string, string>()
  for (const part of connectionString.split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0) parts.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim())
  }
  const accountName = parts.get('accountname')
  let blobEndpoint = parts.get('blobendpoint')
  if (!blobEndpoint && accountName) {
    const protocol = parts.get('defaultendpointsprotocol') ?? 'https'
    const suffix = parts.get('endpointsuffix') ?? 'core.windows.net'
    blobEndpoint = `${protocol}://${accountName}.blob.${suffix}`
  }
  return { accountName, blobEndpoint: blobEndpoint?.replace(/\/+$/, '') }
}

/** Runs `fn` over `items` with at most `limit` in flight. */
async function mapLimit<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++]!
      await fn(item)
    }
  })
  await Promise.all(workers)
}

/** Harness-side `ObjectStorage` over a blob connection string. */
export function createBlobStorage(connection: StorageConnection): ObjectStorage {
  if (connection.kind !== 'azure-blob' || !connection.connectionString) {
    throw new ProviderError(
      'azure',
      'STORAGE_FAILED',
      `createBlobStorage needs an 'azure-blob' connection with a connectionString (got kind '${connection.kind}'${connection.connectionString ? '' : ', no connection string'}).`,
    )
  }
  let service: BlobServiceClient
  try {
    service = BlobServiceClient.fromConnectionString(connection.connectionString)
  } catch (err) {
    // The SDK's message may quote the string; ours names only the account.
    const { accountName } = describeConnectionString(connection.connectionString)
    throw new ProviderError('azure', 'STORAGE_FAILED', `The blob connection string for account '${accountName ?? '?'}' is not usable: ${err instanceof Error ? err.name : 'error'}.`)
  }
  const containers = new Map<string, ContainerClient>()
  const container = (name: string) => {
    let c = containers.get(name)
    if (!c) {
      c = service.getContainerClient(name)
      containers.set(name, c)
    }
    return c
  }
  const fail = (what: string, err: unknown): never => {
    throw new ProviderError('azure', 'STORAGE_FAILED', `${what} failed: ${errorMessage(err)}`, { cause: err })
  }
  const uploadOptions = { blockSize: BLOCK_SIZE, maxSingleShotSize: SINGLE_SHOT_MAX, concurrency: UPLOAD_CONCURRENCY }

  return {
    connection,

    async ensureBucket(bucket) {
      try {
        await container(bucket).createIfNotExists()
      } catch (err) {
        fail(`Creating blob container '${bucket}'`, err)
      }
    },

    async upload(bucket, key, filePath) {
      try {
        await container(bucket).getBlockBlobClient(key).uploadFile(filePath, { ...uploadOptions })
      } catch (err) {
        fail(`Uploading ${filePath} to ${bucket}/${key}`, err)
      }
    },

    async uploadBuffer(bucket, key, data) {
      try {
        await container(bucket).getBlockBlobClient(key).uploadData(data, { ...uploadOptions })
      } catch (err) {
        fail(`Uploading ${data.length} bytes to ${bucket}/${key}`, err)
      }
    },

    async download(bucket, key) {
      try {
        return await container(bucket).getBlockBlobClient(key).downloadToBuffer()
      } catch (err) {
        if (restStatus(err) === 404) {
          throw new ProviderError('azure', 'STORAGE_FAILED', `${bucket}/${key} does not exist.`, { cause: err })
        }
        return fail(`Downloading ${bucket}/${key}`, err)
      }
    },

    async stat(bucket, key): Promise<StoredObject | undefined> {
      try {
        const props = await container(bucket).getBlockBlobClient(key).getProperties()
        return { key, size: props.contentLength ?? 0, etag: props.etag?.replace(/^"|"$/g, '') }
      } catch (err) {
        if (restStatus(err) === 404) return undefined
        return fail(`Reading the properties of ${bucket}/${key}`, err)
      }
    },

    async list(bucket, prefix) {
      const out: StoredObject[] = []
      try {
        for await (const item of container(bucket).listBlobsFlat({ prefix })) {
          out.push({ key: item.name, size: item.properties.contentLength ?? 0, etag: item.properties.etag?.replace(/^"|"$/g, '') })
        }
      } catch (err) {
        if (restStatus(err) === 404) return []
        fail(`Listing ${bucket}/${prefix}`, err)
      }
      return out
    },

    async removePrefix(bucket, prefix) {
      const keys = (await this.list(bucket, prefix)).map((o) => o.key)
      let removed = 0
      try {
        await mapLimit(keys, DELETE_CONCURRENCY, async (key) => {
          const res = await container(bucket).getBlockBlobClient(key).deleteIfExists()
          if (res.succeeded) removed++
        })
      } catch (err) {
        fail(`Removing ${bucket}/${prefix}*`, err)
      }
      return removed
    },

    async close() {
      // The SDK keeps no sockets that need closing; drop the cached clients.
      containers.clear()
    },
  }
}

/**
 * Environment for function instances on Azure Blob Storage: the bucket
 * (container) and, when the connection has it, the connection string.
 */
export function blobFunctionEnv(connection: StorageConnection | undefined): Record<string, string> {
  if (!connection) return {}
  const env: Record<string, string> = { SEBS_STORAGE_BUCKET: connection.bucket }
  if (connection.connectionString) env.STORAGE_CONNECTION_STRING = connection.connectionString
  return env
}
