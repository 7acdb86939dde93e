'use strict'
/**
 * SeBS's function-side storage API on Azure Blob Storage (Azure, Azurite).
 * Runs inside function instances as function/storage.js; benchmark code uses
 * it as `const storage = require('./storage'); let client =
 * storage.storage.get_instance()`. A "bucket" is a blob container; key
 * prefixes are virtual directories.
 *
 * Configuration: the app setting STORAGE_CONNECTION_STRING (SeBS's name).
 */
const crypto = require('crypto')
const fs = require('fs')
const path = require('path')
const stream = require('stream')
const { BlobServiceClient } = require('@azure/storage-blob')

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

class storage {
  constructor(connectionString) {
    const cs = connectionString || process.env.STORAGE_CONNECTION_STRING
    if (!cs) {
      throw new Error('storage: STORAGE_CONNECTION_STRING is not set (the harness sets it when the benchmark declares the storage module)')
    }
    this.client = BlobServiceClient.fromConnectionString(cs)
  }

  unique_name(name) {
    return unique_name(name)
  }

  static unique_name(name) {
    return unique_name(name)
  }

  _blob(container, key) {
    return this.client.getContainerClient(container).getBlockBlobClient(key)
  }

  /** Uploads a local file under a unique key. Returns `[uniqueKey, promise]`. */
  upload(container, key, filepath) {
    const uniqueKey = unique_name(key)
    return [uniqueKey, this._blob(container, uniqueKey).uploadFile(filepath)]
  }

  /** Downloads a blob to a local file (its directory is created). */
  async download(container, key, filepath) {
    await fs.promises.mkdir(path.dirname(path.resolve(filepath)), { recursive: true })
    await this._blob(container, key).downloadToFile(filepath)
  }

  /**
   * Downloads every blob below `prefix` into `dir`, each at `dir/<whole key>`
   * (`prefix/a/b.txt` → `dir/prefix/a/b.txt`), as SeBS's download_directory and
   * every storage module of this suite do. Resolves to the local file paths.
   */
  async downloadDirectory(container, prefix, dir) {
    const keys = []
    for await (const item of this.client.getContainerClient(container).listBlobsFlat({ prefix })) {
      if (!item.name.endsWith('/')) keys.push(item.name)
    }
    const root = path.resolve(dir)
    const files = []
    for (const key of keys) {
      // SeBS's semantics, as in every storage module of this suite: the whole key below the target path.
      const dest = path.resolve(root, ...key.split('/'))
      // A key with `..` segments must not write outside the target directory.
      if (dest !== root && !dest.startsWith(root + path.sep)) {
        throw new Error(`storage.downloadDirectory: key '${key}' would be written outside ${root}`)
      }
      await this.download(container, key, dest)
      files.push(dest)
    }
    return files
  }

  /**
   * A writable stream whose data is uploaded under a unique key (in 4 MiB
   * blocks, as it arrives). Returns `[writeStream, promise, uniqueKey]`.
   */
  uploadStream(container, key) {
    const writeStream = new stream.PassThrough()
    const uniqueKey = unique_name(key)
    const promise = this._blob(container, uniqueKey).uploadStream(writeStream, 4 * 1024 * 1024, 4)
    return [writeStream, promise, uniqueKey]
  }

  /** Resolves to a readable stream of the blob's data. */
  async downloadStream(container, key) {
    const response = await this._blob(container, key).download()
    return response.readableStreamBody
  }

  static get_instance(connectionString) {
    if (!storage.instance) storage.instance = new storage(connectionString)
    return storage.instance
  }
}
storage.instance = undefined

exports.storage = storage
exports.unique_name = unique_name
