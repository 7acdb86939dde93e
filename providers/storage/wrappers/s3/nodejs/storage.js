'use strict'
/**
 * SeBS's function-side storage API for S3-compatible endpoints (s3rver, MinIO,
 * AWS S3). Runs inside function instances as function/storage.js; benchmark
 * code uses it as `const storage = require('./storage'); let client =
 * storage.storage.get_instance()`.
 *
 * Configuration, from the environment:
 *   SEBS_STORAGE_ENDPOINT    e.g. http://127.0.0.1:9000; unset = AWS S3 in AWS_REGION
 *   SEBS_STORAGE_ACCESS_KEY / SEBS_STORAGE_SECRET_KEY
 *                            fallback: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN
 *   SEBS_STORAGE_REGION      default us-east-1 (AWS_REGION when no endpoint is set)
 *   SEBS_STORAGE_PART_SIZE   optional, bytes (see partSize below)
 */
const crypto = require('crypto')
const fs = require('fs')
const path = require('path')
const stream = require('stream')
const minio = require('minio')

/** S3's single-PUT maximum. */
const SINGLE_PUT_MAX = 5 * 1024 * 1024 * 1024

/**
 * SeBS's key naming: `dir/name.<8 hex>.ext`. The path is kept, the random
 * part goes before the last extension, so `out/a.tar.gz` → `out/a.tar.1f2e3d4c.gz`.
 */
function unique_name(name) {
  const ext = path.posix.extname(name)
  const base = ext ? name.slice(0, name.length - ext.length) : name
  const random = crypto.randomUUID().split('-')[0]
  return `${base}.${random}${ext}`
}

function clientOptions(env) {
  const endpoint = env.SEBS_STORAGE_ENDPOINT
  const options = {}
  if (endpoint) {
    const url = new URL(endpoint.includes('://') ? endpoint : `http://${endpoint}`)
    options.useSSL = url.protocol === 'https:'
    options.endPoint = url.hostname.replace(/^\[(.*)\]$/, '$1')
    options.port = url.port ? Number(url.port) : options.useSSL ? 443 : 80
    options.pathStyle = true
    options.region = env.SEBS_STORAGE_REGION || 'us-east-1'
    // Emulators such as s3rver do not implement the multipart listing minio
    // starts every multipart upload with, so files go up in a single PUT.
    options.partSize = SINGLE_PUT_MAX
  } else {
    // minio picks the regional AWS endpoint from the region.
    options.endPoint = 's3.amazonaws.com'
    options.useSSL = true
    options.region = env.SEBS_STORAGE_REGION || env.AWS_REGION || 'us-east-1'
  }
  if (env.SEBS_STORAGE_PART_SIZE) options.partSize = Number(env.SEBS_STORAGE_PART_SIZE)
  if (env.SEBS_STORAGE_ACCESS_KEY) {
    options.accessKey = env.SEBS_STORAGE_ACCESS_KEY
    options.secretKey = env.SEBS_STORAGE_SECRET_KEY
  } else if (env.AWS_ACCESS_KEY_ID) {
    options.accessKey = env.AWS_ACCESS_KEY_ID
    options.secretKey = env.AWS_SECRET_ACCESS_KEY
    if (env.AWS_SESSION_TOKEN) options.sessionToken = env.AWS_SESSION_TOKEN
  }
  return options
}

async function readAll(readable) {
  const chunks = []
  for await (const chunk of readable) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk))
  return Buffer.concat(chunks)
}

class storage {
  constructor() {
    this.client = new minio.Client(clientOptions(process.env))
  }

  unique_name(name) {
    return unique_name(name)
  }

  static unique_name(name) {
    return unique_name(name)
  }

  /** Uploads a local file under a unique key. Returns `[uniqueKey, promise]`. */
  upload(bucket, key, filepath) {
    const uniqueKey = unique_name(key)
    return [uniqueKey, this.client.fPutObject(bucket, uniqueKey, filepath)]
  }

  /** Downloads an object to a local file (its directory is created). */
  download(bucket, key, filepath) {
    return this.client.fGetObject(bucket, key, filepath)
  }

  /**
   * Downloads every object below `prefix` into `dir`, each at `dir/<whole key>`
   * (`prefix/a/b.txt` → `dir/prefix/a/b.txt`), as SeBS's download_directory
   * does. Resolves to the local file paths.
   */
  async downloadDirectory(bucket, prefix, dir) {
    const keys = []
    for await (const item of this.client.listObjectsV2(bucket, prefix, true)) {
      if (item.name !== undefined && !item.name.endsWith('/')) keys.push(item.name)
    }
    const root = path.resolve(dir)
    const files = []
    for (const key of keys) {
      // SeBS's semantics (as in its Python module): the whole key below the target path.
      const dest = path.resolve(root, ...key.split('/'))
      // A key with `..` segments must not write outside the target directory.
      if (dest !== root && !dest.startsWith(root + path.sep)) {
        throw new Error(`storage.downloadDirectory: key '${key}' would be written outside ${root}`)
      }
      await fs.promises.mkdir(path.dirname(dest), { recursive: true })
      await this.client.fGetObject(bucket, key, dest)
      files.push(dest)
    }
    return files
  }

  /**
   * A writable stream whose data is uploaded under a unique key once it ends.
   * Returns `[writeStream, promise, uniqueKey]`.
   *
   * The data is collected and sent in one PUT: with an unknown length minio
   * would start a multipart upload, which emulators like s3rver do not support.
   */
  uploadStream(bucket, key) {
    const writeStream = new stream.PassThrough()
    const uniqueKey = unique_name(key)
    const promise = readAll(writeStream).then((data) => this.client.putObject(bucket, uniqueKey, data, data.length))
    return [writeStream, promise, uniqueKey]
  }

  /** Resolves to a readable stream of the object's data. */
  downloadStream(bucket, key) {
    return this.client.getObject(bucket, key)
  }

  static get_instance() {
    if (!storage.instance) storage.instance = new storage()
    return storage.instance
  }
}
storage.instance = undefined

exports.storage = storage
exports.unique_name = unique_name
