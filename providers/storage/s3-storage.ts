/**
 * Harness-side object storage for any S3-compatible endpoint (s3rver, MinIO,
 * AWS S3), through the `minio` client with path-style requests.
 *
 * s3rver does not implement ListMultipartUploads, which minio's multipart
 * upload calls first, so multipart uploads fail there. The client's part size
 * is therefore raised to S3's single-PUT maximum (5 GiB): every object up to
 * that size goes up in one PUT. minio buffers such an object in memory before
 * sending it (it signs the payload), which is acceptable for benchmark inputs
 * (tens to hundreds of MB); Node's Buffer limit (4 GiB) is the hard ceiling.
 */
import { Agent as HttpAgent } from 'node:http'
import { Agent as HttpsAgent } from 'node:https'
import { Readable } from 'node:stream'
import * as Minio from 'minio'
import { CredentialProvider } from 'minio/dist/esm/CredentialProvider.mjs'
import { Credentials } from 'minio/dist/esm/Credentials.mjs'
import { ProviderError, errorMessage } from '../../core/errors.ts'
import type { ObjectStorage, StorageConnection, StoredObject } from '../types.ts'

/** S3's maximum size of a single PUT (and of one part): 5 GiB. */
export const SINGLE_PUT_MAX_BYTES = 5 * 1024 * 1024 * 1024

export interface S3Credentials {
  accessKey: string
  secretKey: string
  sessionToken?: string
}

export interface S3StorageOptions {
  /** Provider name in error messages (`[local] …`); default 's3'. */
  provider?: string
  /**
   * Credentials when the connection has none (e.g. AWS, where they come from
   * the SDK's provider chain): static, or a function called before requests
   * (it should cache and refresh by itself). Without either, the environment's
   * AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN are used.
   */
  credentials?: S3Credentials | (() => Promise<S3Credentials>)
  /** minio part size; objects up to it are sent in one PUT. Default 5 GiB (see the module comment). */
  partSize?: number
}

/** Asks a credentials function before each request; minio calls `getCredentials` per request. */
class FunctionCredentialProvider extends CredentialProvider {
  constructor(private readonly fetch: () => Promise<S3Credentials>) {
    super({ accessKey: '', secretKey: '' })
  }
  override async getCredentials(): Promise<Credentials> {
    const c = await this.fetch()
    return new Credentials({ accessKey: c.accessKey, secretKey: c.secretKey, sessionToken: c.sessionToken })
  }
}

function errorCode(err: unknown): string | undefined {
  if (err && typeof err === 'object' && 'code' in err) {
    const code = (err as { code?: unknown }).code
    return typeof code === 'string' ? code : undefined
  }
  return undefined
}

function isNotFound(err: unknown): boolean {
  const code = errorCode(err)
  return code === 'NotFound' || code === 'NoSuchKey' || code === 'NoSuchBucket'
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array))
  return Buffer.concat(chunks)
}

/**
 * Object storage on an S3-compatible endpoint (`connection.kind === 's3'`).
 * Every failure is a ProviderError STORAGE_FAILED naming the endpoint, bucket
 * and key, with the cause attached.
 */
export function createS3Storage(connection: StorageConnection, options: S3StorageOptions = {}): ObjectStorage {
  const provider = options.provider ?? 's3'
  let url: URL
  try {
    url = new URL(connection.endpoint.includes('://') ? connection.endpoint : `http://${connection.endpoint}`)
  } catch (err) {
    throw new ProviderError(
      provider,
      'STORAGE_FAILED',
      `Invalid S3 endpoint '${connection.endpoint}': expected a URL such as http://127.0.0.1:9000.`,
      { cause: err },
    )
  }
  const useSSL = url.protocol === 'https:'
  const region = connection.region ?? 'us-east-1'
  const agent = useSSL ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true })

  const clientOptions: Minio.ClientOptions = {
    endPoint: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port ? Number(url.port) : useSSL ? 443 : 80,
    useSSL,
    region,
    pathStyle: true,
    partSize: options.partSize ?? SINGLE_PUT_MAX_BYTES,
    transportAgent: agent,
    // s3rver answers concurrent deletes in one directory with a sporadic 500
    // (an rmdir race); S3 itself asks for retries with 503 SlowDown.
    retryOptions: { maximumRetryCount: 3, baseDelayMs: 100, maximumDelayMs: 2000 },
  }
  if (connection.accessKey && connection.secretKey) {
    clientOptions.accessKey = connection.accessKey
    clientOptions.secretKey = connection.secretKey
  } else if (typeof options.credentials === 'function') {
    // The ESM build's class (what `import 'minio'` loads at run time) vs the CJS
    // typings of ClientOptions: the same class, two declarations.
    clientOptions.credentialsProvider = new FunctionCredentialProvider(
      options.credentials,
    ) as unknown as Minio.ClientOptions['credentialsProvider']
  } else if (options.credentials) {
    clientOptions.accessKey = options.credentials.accessKey
    clientOptions.secretKey = options.credentials.secretKey
    clientOptions.sessionToken = options.credentials.sessionToken
  } else if (process.env.AWS_ACCESS_KEY_ID && process.env.AWS_SECRET_ACCESS_KEY) {
    clientOptions.accessKey = process.env.AWS_ACCESS_KEY_ID
    clientOptions.secretKey = process.env.AWS_SECRET_ACCESS_KEY
    clientOptions.sessionToken = process.env.AWS_SESSION_TOKEN
  }
  const client = new Minio.Client(clientOptions)
  const endpoint = `${url.protocol}//${url.host}`

  const fail = (op: string, bucket: string, key: string | undefined, err: unknown): ProviderError => {
    const code = errorCode(err)
    const target = key === undefined ? `bucket '${bucket}'` : `s3://${bucket}/${key}`
    let hint = ''
    if (code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'ENOTFOUND' || code === 'EHOSTUNREACH') {
      hint = ` Nothing answers at ${endpoint}: is the storage server running, and is the endpoint right?`
    } else if (code === 'InvalidAccessKeyId' || code === 'SignatureDoesNotMatch' || code === 'AccessDenied') {
      hint = ' Check the storage credentials (access key and secret) and their permissions on this bucket.'
    } else if (code === 'NoSuchBucket') {
      hint = ` The bucket does not exist; it is created by the storage setup (ensureBucket).`
    } else if (code === 'BucketAlreadyExists') {
      hint = ' S3 bucket names are global: another account owns this one. Choose another bucket name.'
    }
    return new ProviderError(
      provider,
      'STORAGE_FAILED',
      `S3 ${op} of ${target} at ${endpoint} failed: ${errorMessage(err)}${code ? ` (${code})` : ''}.${hint}`,
      { cause: err },
    )
  }

  const listObjects = async (bucket: string, prefix: string): Promise<StoredObject[]> => {
    const out: StoredObject[] = []
    const stream = client.listObjectsV2(bucket, prefix, true)
    for await (const item of stream as AsyncIterable<Minio.BucketItem>) {
      if (item.name !== undefined) out.push({ key: item.name, size: item.size, etag: item.etag })
    }
    return out
  }

  return {
    connection,

    async ensureBucket(bucket) {
      try {
        if (await client.bucketExists(bucket)) return
        await client.makeBucket(bucket, region)
      } catch (err) {
        // Another process created it between the check and the create.
        if (errorCode(err) === 'BucketAlreadyOwnedByYou') return
        throw fail('create', bucket, undefined, err)
      }
    },

    async upload(bucket, key, filePath) {
      try {
        await client.fPutObject(bucket, key, filePath)
      } catch (err) {
        throw fail(`upload (from ${filePath})`, bucket, key, err)
      }
    },

    async uploadBuffer(bucket, key, data) {
      try {
        await client.putObject(bucket, key, data, data.length)
      } catch (err) {
        throw fail('upload', bucket, key, err)
      }
    },

    async download(bucket, key) {
      try {
        return await readAll(await client.getObject(bucket, key))
      } catch (err) {
        throw fail('download', bucket, key, err)
      }
    },

    async stat(bucket, key) {
      try {
        const s = await client.statObject(bucket, key)
        return { key, size: s.size, etag: s.etag }
      } catch (err) {
        if (isNotFound(err)) return undefined
        throw fail('stat', bucket, key, err)
      }
    },

    async list(bucket, prefix) {
      try {
        return await listObjects(bucket, prefix)
      } catch (err) {
        throw fail(`list (prefix '${prefix}')`, bucket, undefined, err)
      }
    },

    async removePrefix(bucket, prefix) {
      let keys: string[]
      try {
        keys = (await listObjects(bucket, prefix)).map((o) => o.key)
      } catch (err) {
        if (errorCode(err) === 'NoSuchBucket') return 0
        throw fail(`list (prefix '${prefix}')`, bucket, undefined, err)
      }
      if (keys.length === 0) return 0
      let results: Awaited<ReturnType<typeof client.removeObjects>>
      try {
        results = await client.removeObjects(bucket, keys)
      } catch (err) {
        throw fail(`remove (prefix '${prefix}', ${keys.length} objects)`, bucket, undefined, err)
      }
      const failed = results.filter((r) => r && r.Error)
      if (failed.length > 0) {
        const first = failed[0]!.Error!
        throw new ProviderError(
          provider,
          'STORAGE_FAILED',
          `S3 remove of ${failed.length} of ${keys.length} objects under s3://${bucket}/${prefix} at ${endpoint} failed; first: ${first.Key}: ${first.Message ?? first.Code}.`,
        )
      }
      return keys.length
    },

    async close() {
      agent.destroy()
    },
  }
}
