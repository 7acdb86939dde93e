'use strict'
/*
 * 504.dna-visualisation: the "squiggle" DNA visualisation of a FASTA file.
 *
 * Downloads the FASTA file, turns its whole text (header and newlines
 * included, as SeBS does) into the squiggle curve and uploads it as JSON
 * [x, y], with the same numbers as the Python version.
 */
const fs = require('fs')
const os = require('os')
const path = require('path')
const { once } = require('events')
const storage = require('./storage')

const client = storage.storage.get_instance()

/**
 * x = linspace(0, n, 2n+1); y starts at 0 and each character adds two points
 * around a running value r: A (r+0.5, r), C (r-0.5, r), T (r-0.5, r-1) then
 * r -= 1, G (r+0.5, r+1) then r += 1, anything else (header, newline, N) (r, r).
 * Typed arrays: several million points would be slow as boxed JS arrays.
 */
function transform(text) {
  const n = text.length
  const x = new Float64Array(2 * n + 1)
  for (let k = 0; k < x.length; k++) x[k] = k * 0.5
  const y = new Float64Array(2 * n + 1)
  let r = 0
  let j = 1
  for (let i = 0; i < n; i++) {
    switch (text.charCodeAt(i)) {
      case 65: // A
        y[j++] = r + 0.5
        y[j++] = r
        break
      case 67: // C
        y[j++] = r - 0.5
        y[j++] = r
        break
      case 84: // T
        y[j++] = r - 0.5
        y[j++] = r - 1
        r -= 1
        break
      case 71: // G
        y[j++] = r + 0.5
        y[j++] = r + 1
        r += 1
        break
      default:
        y[j++] = r
        y[j++] = r
    }
  }
  return [x, y]
}

const CHUNK = 1 << 16

/** Writes `[[x...],[y...]]` in chunks: the whole text can exceed 100 MB. Returns bytes written. */
async function writeJson(stream, arrays) {
  let bytes = 0
  const write = async (text) => {
    bytes += Buffer.byteLength(text)
    if (!stream.write(text)) await once(stream, 'drain')
  }
  await write('[')
  for (let a = 0; a < arrays.length; a++) {
    const values = arrays[a]
    await write(a === 0 ? '[' : ',[')
    for (let start = 0; start < values.length; start += CHUNK) {
      const part = values.subarray(start, start + CHUNK).join(',')
      await write(start === 0 ? part : ',' + part)
    }
    await write(']')
  }
  await write(']')
  stream.end()
  return bytes
}

const us = (ns) => Number(ns / 1000n)

exports.handler = async function (event) {
  const bucket = event.bucket.bucket
  const inputPrefix = event.bucket.input
  const outputPrefix = event.bucket.output
  const key = event.object.key

  const workdir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'sebs-504-'))
  try {
    const downloadPath = path.join(workdir, path.basename(key))
    const downloadBegin = process.hrtime.bigint()
    await client.download(bucket, `${inputPrefix}/${key}`, downloadPath)
    const downloadEnd = process.hrtime.bigint()
    const downloadSize = (await fs.promises.stat(downloadPath)).size

    const data = await fs.promises.readFile(downloadPath, 'utf8')

    const processBegin = process.hrtime.bigint()
    const result = transform(data)
    const processEnd = process.hrtime.bigint()

    // Serialising is part of the upload, as in SeBS.
    const uploadBegin = process.hrtime.bigint()
    const outKey = `${outputPrefix}/${key.replace(/\.[^./]*$/, '')}.json`
    const [writeStream, uploaded, keyName] = client.uploadStream(bucket, outKey)
    // Both at once, so that a failing upload rejects here instead of going unhandled while we write.
    const [uploadSize] = await Promise.all([writeJson(writeStream, result), uploaded])
    const uploadEnd = process.hrtime.bigint()

    return {
      result: { bucket, key: keyName },
      measurement: {
        download_time: us(downloadEnd - downloadBegin),
        download_size: downloadSize,
        compute_time: us(processEnd - processBegin),
        upload_time: us(uploadEnd - uploadBegin),
        upload_size: uploadSize,
      },
    }
  } finally {
    await fs.promises.rm(workdir, { recursive: true, force: true })
  }
}
