'use strict'
/**
 * TEST STAND-IN, not a storage backend: a filesystem-backed replacement for
 * the Node.js storage module (providers/storage/wrappers/s3/nodejs/storage.js)
 * with the same API and the same semantics, so that a benchmark's
 * function.js runs unchanged in tests without an S3 server. runFunction()
 * copies it into the package as function/storage.js.
 *
 * Objects are files: <SEBS_TEST_STORAGE_DIR>/<bucket>/<key> (the layout of
 * createFsStorage() on the test side). Uploads get SeBS's unique keys
 * (`dir/name.<8 hex>.ext`); downloadDirectory writes the whole key below the
 * target directory and resolves to the local paths, as the real module does
 * (SeBS's semantics, as in its Python module).
 */
const crypto = require('crypto')
const fs = require('fs')
const path = require('path')
const stream = require('stream')

/** SeBS's key naming: `dir/name.<8 hex>.ext` (`out/a.tar.gz` → `out/a.tar.1f2e3d4c.gz`). */
function unique_name(name) {
  const ext = path.posix.extname(name)
  const base = ext ? name.slice(0, name.length - ext.length) : name
  return `${base}.${crypto.randomUUID().split('-')[0]}${ext}`
}

function noSuchKey(bucket, key) {
  const err = new Error(`The specified key does not exist. (${bucket}/${key})`)
  err.code = 'NoSuchKey'
  return err
}

class storage {
  constructor() {
    const root = process.env.SEBS_TEST_STORAGE_DIR
    if (!root) throw new Error('storage stand-in: set SEBS_TEST_STORAGE_DIR to the directory that holds the buckets')
    this.root = path.resolve(root)
  }

  unique_name(name) {
    return unique_name(name)
  }

  static unique_name(name) {
    return unique_name(name)
  }

  /** <root>/<bucket>/<key>; a key that escapes its bucket is refused. */
  objectPath(bucket, key) {
    const bucketDir = path.resolve(this.root, bucket)
    const file = path.resolve(bucketDir, ...key.split('/'))
    if (!file.startsWith(bucketDir + path.sep)) throw new Error(`storage stand-in: invalid key '${key}'`)
    return file
  }

  /** Uploads a local file under a unique key. Returns `[uniqueKey, promise]`. */
  upload(bucket, key, filepath) {
    const uniqueKey = unique_name(key)
    const dest = this.objectPath(bucket, uniqueKey)
    const promise = fs.promises.mkdir(path.dirname(dest), { recursive: true }).then(() => fs.promises.copyFile(filepath, dest))
    return [uniqueKey, promise]
  }

  /** Downloads an object to a local file (its directory is created). */
  async download(bucket, key, filepath) {
    const src = this.objectPath(bucket, key)
    if (!fs.existsSync(src)) throw noSuchKey(bucket, key)
    await fs.promises.mkdir(path.dirname(path.resolve(filepath)), { recursive: true })
    await fs.promises.copyFile(src, filepath)
  }

  /** Every object whose key starts with `prefix` (a string prefix, as in S3), sorted. */
  async listKeys(bucket, prefix) {
    const bucketDir = path.resolve(this.root, bucket)
    if (!fs.existsSync(bucketDir)) return []
    const keys = []
    for (const entry of await fs.promises.readdir(bucketDir, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile()) continue
      const key = path.relative(bucketDir, path.join(entry.parentPath ?? entry.path, entry.name)).split(path.sep).join('/')
      if (key.startsWith(prefix)) keys.push(key)
    }
    return keys.sort()
  }

  /**
   * Downloads every object below `prefix` into `dir`, each at its whole key
   * (`prefix/a/b.txt` → `dir/prefix/a/b.txt`). Resolves to the local file paths.
   */
  async downloadDirectory(bucket, prefix, dir) {
    const root = path.resolve(dir)
    const files = []
    for (const key of await this.listKeys(bucket, prefix)) {
      const dest = path.resolve(root, ...key.split('/'))
      if (dest !== root && !dest.startsWith(root + path.sep)) {
        throw new Error(`storage.downloadDirectory: key '${key}' would be written outside ${root}`)
      }
      await this.download(bucket, key, dest)
      files.push(dest)
    }
    return files
  }

  /** A writable stream stored under a unique key once it ends. Returns `[writeStream, promise, uniqueKey]`. */
  uploadStream(bucket, key) {
    const uniqueKey = unique_name(key)
    const dest = this.objectPath(bucket, uniqueKey)
    const writeStream = new stream.PassThrough()
    const promise = fs.promises
      .mkdir(path.dirname(dest), { recursive: true })
      .then(() => stream.promises.pipeline(writeStream, fs.createWriteStream(dest)))
    return [writeStream, promise, uniqueKey]
  }

  /** Resolves to a readable stream of the object's data; rejects for a missing object. */
  async downloadStream(bucket, key) {
    const file = this.objectPath(bucket, key)
    if (!fs.existsSync(file)) throw noSuchKey(bucket, key)
    return fs.createReadStream(file)
  }

  static get_instance() {
    if (!storage.instance) storage.instance = new storage()
    return storage.instance
  }
}
storage.instance = undefined

exports.storage = storage
exports.unique_name = unique_name
