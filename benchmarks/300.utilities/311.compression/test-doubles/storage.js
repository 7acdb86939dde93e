'use strict'
/**
 * TEST DOUBLE, not a storage backend: a filesystem-backed stand-in for the
 * storage wrapper (SeBS's Node storage API), so 311.compression's function
 * can run in tests without an S3 server. Buckets are directories under
 * $SEBS_TEST_STORAGE_DIR; object keys are paths below them. Uploads get the
 * unique `name.<8 hex>.ext` keys the real wrappers give.
 */
const crypto = require('crypto')
const fs = require('fs')
const path = require('path')

class storage {
  constructor() {
    const root = process.env.SEBS_TEST_STORAGE_DIR
    if (!root) throw new Error('SEBS_TEST_STORAGE_DIR is not set: the test storage double needs a directory')
    this.root = root
  }

  static unique_name(name) {
    const parsed = path.posix.parse(name)
    return path.posix.join(parsed.dir, `${parsed.name}.${crypto.randomBytes(4).toString('hex')}${parsed.ext}`)
  }

  path(bucket, key) {
    return path.join(this.root, bucket, ...key.split('/'))
  }

  upload(bucket, file, filepath) {
    const key = storage.unique_name(file)
    const target = this.path(bucket, key)
    const done = fs.promises.mkdir(path.dirname(target), { recursive: true }).then(() => fs.promises.copyFile(filepath, target))
    return [key, done]
  }

  async download(bucket, file, filepath) {
    await fs.promises.mkdir(path.dirname(filepath), { recursive: true })
    await fs.promises.copyFile(this.path(bucket, file), filepath)
  }

  async downloadDirectory(bucket, prefix, dir) {
    const base = path.join(this.root, bucket)
    for (const entry of await fs.promises.readdir(base, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile()) continue
      const key = path.relative(base, path.join(entry.parentPath || entry.path, entry.name)).split(path.sep).join('/')
      if (key.startsWith(prefix)) await this.download(bucket, key, path.join(dir, ...key.split('/')))
    }
  }

  uploadStream(bucket, file) {
    const key = storage.unique_name(file)
    const target = this.path(bucket, key)
    fs.mkdirSync(path.dirname(target), { recursive: true })
    const stream = fs.createWriteStream(target)
    const done = new Promise((resolve, reject) => {
      stream.on('finish', resolve)
      stream.on('error', reject)
    })
    return [stream, done, key]
  }

  downloadStream(bucket, file) {
    return Promise.resolve(fs.createReadStream(this.path(bucket, file)))
  }

  static get_instance() {
    if (!storage.instance) storage.instance = new storage()
    return storage.instance
  }
}

module.exports = { storage }
