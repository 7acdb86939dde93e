'use strict'
/*
 * 120.uploader: download a file over HTTP(S) and store it in object storage.
 *
 * The file is streamed to a temporary file (the large input is about 100 MB)
 * with the built-in fetch (Node >= 18; SeBS's `request` package is
 * deprecated), uploaded to the output prefix under its own name (the storage
 * wrapper makes the key unique) and removed. Times are microseconds, sizes bytes.
 */
const fs = require('fs')
const os = require('os')
const path = require('path')
const { Readable } = require('stream')
const { pipeline } = require('stream/promises')
const storage = require('./storage')

const client = storage.storage.get_instance()

// Some servers (Wikimedia among them) refuse requests without a descriptive User-Agent.
const SEBS_USER_AGENT = 'SeBS/1.2 (serverless-benchmarks)'

const us = (ns) => Number(ns / 1000n)

exports.handler = async function (event) {
  const bucket = event.bucket.bucket
  const outputPrefix = event.bucket.output
  const url = event.object.url
  const name = path.posix.basename(decodeURIComponent(new URL(url).pathname)) || 'download'

  const workdir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'sebs-120-'))
  try {
    const downloadPath = path.join(workdir, name)
    const downloadBegin = process.hrtime.bigint()
    const response = await fetch(url, { headers: { 'User-Agent': SEBS_USER_AGENT }, redirect: 'follow' })
    if (!response.ok || !response.body) {
      throw new Error(`download of ${url} failed: HTTP ${response.status} ${response.statusText}`)
    }
    await pipeline(Readable.fromWeb(response.body), fs.createWriteStream(downloadPath))
    const downloadEnd = process.hrtime.bigint()
    const size = (await fs.promises.stat(downloadPath)).size

    const uploadBegin = process.hrtime.bigint()
    const [keyName, uploaded] = client.upload(bucket, `${outputPrefix}/${name}`, downloadPath)
    await uploaded
    const uploadEnd = process.hrtime.bigint()

    return {
      result: { bucket, url, key: keyName },
      measurement: {
        download_time: us(downloadEnd - downloadBegin),
        download_size: size,
        upload_time: us(uploadEnd - uploadBegin),
        upload_size: size,
      },
    }
  } finally {
    await fs.promises.rm(workdir, { recursive: true, force: true })
  }
}
