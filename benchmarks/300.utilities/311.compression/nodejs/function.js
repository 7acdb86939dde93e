'use strict'
/**
 * 311.compression: downloads a directory tree from storage, zips it with
 * archiver (deflate, zlib level 6: the level Python's zipfile uses, so both
 * languages do the same work) and uploads <name>.zip.
 */
const crypto = require('crypto')
const fs = require('fs')
const os = require('os')
const path = require('path')
const archiver = require('archiver')
const storage = require('./storage')

const client = storage.storage.get_instance()

function elapsedUs(begin, end) {
  return Number((end - begin) / 1000n)
}

async function treeSize(directory) {
  let total = 0
  for (const entry of await fs.promises.readdir(directory, { withFileTypes: true })) {
    const full = path.join(directory, entry.name)
    if (entry.isDirectory()) total += await treeSize(full)
    else if (entry.isFile()) total += (await fs.promises.stat(full)).size
  }
  return total
}

/** Zips `sourceDir` into `archivePath` with entries named `<rootName>/<path>`. */
function zipDirectory(sourceDir, rootName, archivePath) {
  return new Promise((resolve, reject) => {
    const output = fs.createWriteStream(archivePath)
    const archive = archiver('zip', { zlib: { level: 6 } })
    output.on('close', resolve)
    output.on('error', reject)
    archive.on('error', reject)
    // archiver reports unreadable files as warnings; a partial archive is a failure here.
    archive.on('warning', reject)
    archive.pipe(output)
    archive.directory(sourceDir, rootName)
    archive.finalize()
  })
}

exports.handler = async function (event) {
  const bucket = event.bucket.bucket
  const inputPrefix = event.bucket.input
  const outputPrefix = event.bucket.output
  const key = event.object.key

  const workDir = path.join(os.tmpdir(), `${key}-${crypto.randomUUID()}`)
  const downloadDir = path.join(workDir, 'download')
  await fs.promises.mkdir(downloadDir, { recursive: true })
  try {
    const downloadBegin = process.hrtime.bigint()
    // The storage wrapper recreates each object's full key below downloadDir.
    await client.downloadDirectory(bucket, `${path.posix.join(inputPrefix, key)}/`, downloadDir)
    const downloadEnd = process.hrtime.bigint()
    const sourceDir = path.join(downloadDir, ...inputPrefix.split('/'), key)
    if (!fs.existsSync(sourceDir)) {
      throw new Error(`nothing was downloaded from ${bucket}/${inputPrefix}/${key}/: are the inputs uploaded?`)
    }
    const downloadSize = await treeSize(sourceDir)

    const archivePath = path.join(workDir, `${key}.zip`)
    const compressBegin = process.hrtime.bigint()
    await zipDirectory(sourceDir, key, archivePath)
    const compressEnd = process.hrtime.bigint()
    const archiveSize = (await fs.promises.stat(archivePath)).size

    const uploadBegin = process.hrtime.bigint()
    const [keyName, uploaded] = client.upload(bucket, path.posix.join(outputPrefix, `${key}.zip`), archivePath)
    await uploaded
    const uploadEnd = process.hrtime.bigint()

    return {
      result: { bucket, key: keyName },
      measurement: {
        download_time: elapsedUs(downloadBegin, downloadEnd),
        download_size: downloadSize,
        upload_time: elapsedUs(uploadBegin, uploadEnd),
        upload_size: archiveSize,
        compute_time: elapsedUs(compressBegin, compressEnd),
      },
    }
  } finally {
    // A warm container keeps /tmp: leave nothing behind.
    await fs.promises.rm(workDir, { recursive: true, force: true })
  }
}
