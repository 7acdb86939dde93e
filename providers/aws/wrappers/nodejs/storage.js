'use strict'
/**
 * Object storage for benchmark functions on AWS Lambda (SeBS's Node API:
 * `storage.storage.get_instance()`, `upload()` → [key, promise],
 * `uploadStream()` → [writeStream, promise, key], `downloadStream()` →
 * Promise<Readable>). Copied into `function/` as `storage.js`.
 *
 * Uses `@aws-sdk/client-s3`, which the Lambda Node.js runtimes (18.x and
 * later) ship, so the package carries no SDK of its own (SeBS's AWS wrapper
 * uses it too). Same API and key naming as the shared minio-based module of
 * the other providers (providers/storage/wrappers/s3/nodejs/storage.js). With no SEBS_STORAGE_*
 * variables it talks to S3 in the function's region with the execution
 * role's credentials (AWS_* variables Lambda sets); SEBS_STORAGE_ENDPOINT
 * (+ _REGION, _ACCESS_KEY, _SECRET_KEY) point it at an S3-compatible store
 * (LocalStack, MinIO, the tests' s3rver).
 */
const fs = require('fs')
const path = require('path')
const crypto = require('crypto')
const { PassThrough } = require('stream')
const { pipeline } = require('stream/promises')
const { S3Client, GetObjectCommand, PutObjectCommand, ListObjectsV2Command } = require('@aws-sdk/client-s3')

/** SeBS's key naming: `dir/name.<8 hex>.ext` (the path is kept, the random part goes before the last extension). */
function unique_name(name) {
  const ext = path.posix.extname(name)
  const base = ext ? name.slice(0, name.length - ext.length) : name
  return `${base}.${crypto.randomUUID().split('-')[0]}${ext}`
}

function clientConfig() {
  const env = process.env
  const config = {}
  const region = env.SEBS_STORAGE_REGION || env.AWS_REGION
  if (region) config.region = region
  if (env.SEBS_STORAGE_ENDPOINT) {
    config.endpoint = env.SEBS_STORAGE_ENDPOINT
    // S3-compatible stores on an IP or localhost serve buckets by path.
    config.forcePathStyle = true
  }
  if (env.SEBS_STORAGE_ACCESS_KEY && env.SEBS_STORAGE_SECRET_KEY) {
    config.credentials = { accessKeyId: env.SEBS_STORAGE_ACCESS_KEY, secretAccessKey: env.SEBS_STORAGE_SECRET_KEY }
  }
  return config
}

class storage {
  constructor() {
    this.client = new S3Client(clientConfig())
  }

  unique_name(name) {
    return unique_name(name)
  }

  static unique_name(name) {
    return unique_name(name)
  }

  upload(bucket, key, filepath) {
    const uniqueKey = unique_name(key)
    const promise = fs.promises.readFile(filepath).then((body) =>
      this.client.send(new PutObjectCommand({ Bucket: bucket, Key: uniqueKey, Body: body })),
    )
    return [uniqueKey, promise]
  }

  async download(bucket, key, filepath) {
    const res = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }))
    await fs.promises.mkdir(path.dirname(filepath), { recursive: true })
    await pipeline(res.Body, fs.createWriteStream(filepath))
  }

  /**
   * Downloads every object below `prefix` into `dir`, each at `dir/<whole key>`
   * (`prefix/a/b.txt` → `dir/prefix/a/b.txt`), as SeBS's download_directory and
   * the shared S3 module do. Resolves to the local file paths.
   */
  async downloadDirectory(bucket, prefix, dir) {
    const root = path.resolve(dir)
    const files = []
    let token
    do {
      const res = await this.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }))
      for (const obj of res.Contents || []) {
        const key = obj.Key
        if (!key || key.endsWith('/')) continue
        // SeBS's semantics, as in every storage module of this suite: the whole key below the target path.
        const dest = path.resolve(root, ...key.split('/'))
        // A key with `..` segments must not write outside the target directory.
        if (dest !== root && !dest.startsWith(root + path.sep)) {
          throw new Error(`storage.downloadDirectory: key '${key}' would be written outside ${root}`)
        }
        await this.download(bucket, key, dest)
        files.push(dest)
      }
      token = res.IsTruncated ? res.NextContinuationToken : undefined
    } while (token)
    return files
  }

  /**
   * A stream to write an object of unknown length to. It is buffered and sent
   * in one PutObject when the stream ends: PutObject needs the length up
   * front, and benchmark outputs are small.
   */
  uploadStream(bucket, key) {
    const uniqueKey = unique_name(key)
    const writeStream = new PassThrough()
    const chunks = []
    const promise = (async () => {
      for await (const chunk of writeStream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk))
      await this.client.send(new PutObjectCommand({ Bucket: bucket, Key: uniqueKey, Body: Buffer.concat(chunks) }))
    })()
    return [writeStream, promise, uniqueKey]
  }

  async downloadStream(bucket, key) {
    const res = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }))
    return res.Body
  }

  static get_instance() {
    if (!storage.instance) storage.instance = new storage()
    return storage.instance
  }
}
storage.instance = null

module.exports.storage = storage
module.exports.unique_name = unique_name
