'use strict'
/*
 * 220.video-processing: run an ffmpeg operation on a video in object storage.
 *
 * Operations (as in SeBS's Python version; SeBS has no Node.js one):
 *   watermark    overlay the watermark image at the centre of the first
 *                `duration` seconds (re-encoded with ffmpeg's defaults);
 *   extract-gif  the first `duration` seconds as a looping 320 px wide GIF at
 *                10 fps, with a generated palette.
 * The result is uploaded as processed-<name> to the output prefix. Times are
 * microseconds, sizes bytes.
 *
 * The function runs a static binary at function/ffmpeg/ffmpeg when a packaging
 * step put one there (SeBS's layout), otherwise the ffmpeg found on PATH.
 */
const fs = require('fs')
const os = require('os')
const path = require('path')
const { spawn } = require('child_process')
const storage = require('./storage')

const client = storage.storage.get_instance()

const FFMPEG_MISSING =
  "ffmpeg not found: install Debian's ffmpeg (apt-get install ffmpeg), or put an ffmpeg binary on PATH or at function/ffmpeg/ffmpeg"

function findFfmpeg() {
  const bundled = path.join(__dirname, 'ffmpeg', 'ffmpeg')
  if (fs.existsSync(bundled)) {
    // Zip packaging may drop the executable bit.
    try {
      fs.accessSync(bundled, fs.constants.X_OK)
    } catch {
      fs.chmodSync(bundled, 0o755)
    }
    return bundled
  }
  const dirs = (process.env.PATH || '').split(path.delimiter).filter(Boolean)
  for (const dir of dirs) {
    const candidate = path.join(dir, 'ffmpeg')
    try {
      fs.accessSync(candidate, fs.constants.X_OK)
      return candidate
    } catch {
      // not in this directory
    }
  }
  throw new Error(FFMPEG_MISSING)
}

function callFfmpeg(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(findFfmpeg(), ['-nostdin', '-hide_banner', '-y', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    const collect = (chunk) => {
      // Keep the tail only: ffmpeg's progress lines can be long.
      output = (output + chunk.toString()).slice(-4000)
    }
    child.stdout.on('data', collect)
    child.stderr.on('data', collect)
    child.on('error', (err) => reject(err.code === 'ENOENT' ? new Error(FFMPEG_MISSING) : err))
    child.on('close', (code, signal) => {
      if (code === 0) resolve()
      else reject(new Error(`ffmpeg failed with ${signal ? `signal ${signal}` : `exit code ${code}`}: ${output}`))
    })
  })
}

async function watermark(video, duration, workdir, resources) {
  const output = path.join(workdir, `processed-${path.basename(video)}`)
  await callFfmpeg([
    '-i', video,
    '-i', resources.watermark,
    '-t', String(duration),
    '-filter_complex', 'overlay=main_w/2-overlay_w/2:main_h/2-overlay_h/2',
    output,
  ])
  return output
}

async function toGif(video, duration, workdir) {
  const output = path.join(workdir, `processed-${path.basename(video)}.gif`)
  await callFfmpeg([
    '-i', video,
    '-t', String(duration),
    '-vf', 'fps=10,scale=320:-1:flags=lanczos,split[s0][s1];[s0]palettegen[p];[s1][p]paletteuse',
    '-loop', '0',
    output,
  ])
  return output
}

const operations = { watermark, 'extract-gif': toGif }

const us = (ns) => Number(ns / 1000n)

exports.handler = async function (event) {
  const bucket = event.bucket.bucket
  const inputPrefix = event.bucket.input
  const outputPrefix = event.bucket.output
  const { key, duration, op } = event.object
  if (!Object.prototype.hasOwnProperty.call(operations, op)) {
    throw new Error(`unknown operation '${op}': choose one of ${Object.keys(operations).sort().join(', ')}`)
  }
  // Fail before downloading anything when ffmpeg is missing.
  findFfmpeg()

  const workdir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'sebs-220-'))
  try {
    const downloadPath = path.join(workdir, path.basename(key))
    const resources = {}
    const downloadBegin = process.hrtime.bigint()
    await client.download(bucket, `${inputPrefix}/${key}`, downloadPath)
    if (op === 'watermark') {
      // The watermark image is an input object (SeBS ships it in the code package).
      await fs.promises.mkdir(path.join(workdir, 'resources'))
      resources.watermark = path.join(workdir, 'resources', path.basename(event.object.watermark))
      await client.download(bucket, `${inputPrefix}/${event.object.watermark}`, resources.watermark)
    }
    const downloadEnd = process.hrtime.bigint()
    const downloadSize = (await fs.promises.stat(downloadPath)).size

    const processBegin = process.hrtime.bigint()
    const uploadPath = await operations[op](downloadPath, duration, workdir, resources)
    const processEnd = process.hrtime.bigint()

    const uploadBegin = process.hrtime.bigint()
    const filename = path.basename(uploadPath)
    const uploadSize = (await fs.promises.stat(uploadPath)).size
    const [uploadKey, uploaded] = client.upload(bucket, `${outputPrefix}/${filename}`, uploadPath)
    await uploaded
    const uploadEnd = process.hrtime.bigint()

    return {
      result: { bucket, key: uploadKey },
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
