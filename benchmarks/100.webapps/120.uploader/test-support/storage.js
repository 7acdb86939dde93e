'use strict'
/*
 * TEST DOUBLE of the Node.js storage wrapper (the real ones live with the
 * providers and talk to S3/Blob). It keeps SeBS's API and key naming but
 * stores objects as files: <SEBS_TEST_STORAGE_DIR>/<bucket>/<key>. Tests copy
 * it next to a benchmark's function.js so that the function runs unchanged.
 */
const fs = require('fs')
const path = require('path')
const crypto = require('crypto')
const { PassThrough } = require('stream')
const { pipeline } = require('stream/promises')

class storage {
  constructor() {
    const root = process.env.SEBS_TEST_STORAGE_DIR
    if (!root) throw new Error('storage test double: set SEBS_TEST_STORAGE_DIR to the directory that holds the buckets')
    this.root = root
  }

  /** SeBS's naming: `dir/name.ext` -> `dir/name.<uuid8>.ext`. */
  static unique_name(name) {
    const ext = path.posix.extname(name)
    const stem = name.slice(0, name.length - ext.length)
    return `${stem}.${crypto.randomUUID().slice(0, 8)}${ext}`
  }

  objectPath(bucket, key) {
    const bucketDir = path.resolve(this.root, bucket)
    const file = path.resolve(bucketDir, key)
    // Keys are paths inside the bucket; refuse anything that escapes it.
    if (!file.startsWith(bucketDir + path.sep)) throw new Error(`storage test double: invalid key '${key}'`)
    return file
  }

  upload(bucket, key, filepath) {
    const uniqueKey = storage.unique_name(key)
    const dest = this.objectPath(bucket, uniqueKey)
    const promise = fs.promises.mkdir(path.dirname(dest), { recursive: true }).then(() => fs.promises.copyFile(filepath, dest))
    return [uniqueKey, promise]
  }

  async download(bucket, key, filepath) {
    await fs.promises.mkdir(path.dirname(filepath), { recursive: true })
    await fs.promises.copyFile(this.objectPath(bucket, key), filepath)
  }

  async downloadDirectory(bucket, prefix, dir) {
    const base = this.objectPath(bucket, prefix)
    const walk = async (current) => {
      for (const entry of await fs.promises.readdir(current, { withFileTypes: true })) {
        const full = path.join(current, entry.name)
        if (entry.isDirectory()) await walk(full)
        else {
          // Like SeBS: the local path keeps the whole object key.
          const key = path.relative(path.resolve(this.root, bucket), full).split(path.sep).join('/')
          await this.download(bucket, key, path.join(dir, key))
        }
      }
    }
    await walk(base)
  }

  uploadStream(bucket, key) {
    const uniqueKey = storage.unique_name(key)
    const dest = this.objectPath(bucket, uniqueKey)
    const writeStream = new PassThrough()
    const promise = fs.promises
      .mkdir(path.dirname(dest), { recursive: true })
      .then(() => pipeline(writeStream, fs.createWriteStream(dest)))
    return [writeStream, promise, uniqueKey]
  }

  async downloadStream(bucket, key) {
    const file = this.objectPath(bucket, key)
    // Fail on a missing object here, as the real wrappers do, not later as a stream error.
    await fs.promises.access(file, fs.constants.R_OK)
    return fs.createReadStream(file)
  }

  static get_instance() {
    if (!storage.instance) storage.instance = new storage()
    return storage.instance
  }
}
storage.instance = null

module.exports.storage = storage
