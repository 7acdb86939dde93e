'use strict'
/*
 * 210.thumbnailer: make a thumbnail of an image in object storage.
 *
 * Downloads the image into memory, shrinks it with sharp to fit inside
 * width x height keeping the aspect ratio (fit "inside", never enlarging),
 * encodes it as JPEG and uploads it to the output prefix under the input's
 * name: the same output as the Python version's Pillow thumbnail. (SeBS's
 * Node version cropped to exactly 200x200 PNG with fit "cover", so the two
 * languages did different work.) Times are microseconds, sizes bytes.
 */
const sharp = require('sharp')
const storage = require('./storage')

const client = storage.storage.get_instance()

async function readAll(stream) {
  const chunks = []
  for await (const chunk of stream) chunks.push(chunk)
  return Buffer.concat(chunks)
}

function resizeImage(imageBytes, width, height) {
  return sharp(imageBytes).resize({ width, height, fit: 'inside', withoutEnlargement: true }).jpeg().toBuffer()
}

const us = (ns) => Number(ns / 1000n)

exports.handler = async function (event) {
  const bucket = event.bucket.bucket
  const inputPrefix = event.bucket.input
  const outputPrefix = event.bucket.output
  // Keys arrive URL-encoded from storage triggers; decoded as Python's unquote_plus does.
  const key = decodeURIComponent(event.object.key.replace(/\+/g, ' '))
  const width = Number(event.object.width)
  const height = Number(event.object.height)

  const downloadBegin = process.hrtime.bigint()
  const img = await readAll(await client.downloadStream(bucket, `${inputPrefix}/${key}`))
  const downloadEnd = process.hrtime.bigint()

  const processBegin = process.hrtime.bigint()
  const resized = await resizeImage(img, width, height)
  const processEnd = process.hrtime.bigint()

  const uploadBegin = process.hrtime.bigint()
  const [writeStream, uploaded, keyName] = client.uploadStream(bucket, `${outputPrefix}/${key}`)
  writeStream.end(resized)
  await uploaded
  const uploadEnd = process.hrtime.bigint()

  return {
    result: { bucket, key: keyName },
    measurement: {
      download_time: us(downloadEnd - downloadBegin),
      download_size: img.length,
      compute_time: us(processEnd - processBegin),
      upload_time: us(uploadEnd - uploadBegin),
      upload_size: resized.length,
    },
  }
}
