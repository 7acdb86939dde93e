'use strict'
/**
 * The wrapper core (Node.js), shared by every provider's handler: runs the
 * benchmark's `handler(event)` once and builds the common envelope (DESIGN.md
 * "Wrapper envelope"). Runs inside the function instance; the packagers copy
 * this file beside each provider's handler at build time (the package hash
 * covers it), and the handler keeps only its platform's trigger glue.
 *
 * Plain CommonJS with no dependencies.
 *
 * Cold detection follows SeBS: the first invocation in an instance finds no
 * `cold_run` marker in the temp directory (os.tmpdir()), writes one holding a
 * fresh container id and reports `isCold: true`; later invocations read the
 * id back.
 */
const fs = require('fs')
const os = require('os')
const path = require('path')
const crypto = require('crypto')
const { performance } = require('perf_hooks')

/** Path of the cold-start marker in this instance's temp directory. */
function markerPath() {
  return path.join(os.tmpdir(), 'cold_run')
}

/** A fresh 8-hex-digit id (container and worker ids). */
function shortId() {
  return crypto.randomUUID().replace(/-/g, '').slice(0, 8)
}

function describeError(err) {
  if (err instanceof Error) return { type: err.name || 'Error', message: err.message, trace: err.stack }
  return { type: typeof err, message: String(err) }
}

/**
 * Makes the invoker of one benchmark module. Options:
 * - `load()`: requires the benchmark module (called once, inside the timed region, as SeBS does);
 * - `functionFile`: its name in the "does not export a handler" error;
 * - `clockSkewUs`: a deliberate offset of the reported clock (µs), 0 by default;
 * - `rememberContainer`: keep the container id in memory once known (one process is one instance);
 * - `coldWorker`: report `isColdWorker` (SeBS's is_cold_worker), true on this process's first invocation;
 * - `beforeTiming()`: called just before the timed region; its value is passed to `extraFields`;
 * - `extraFields({ state, usageBefore, usageAfter, importTimeUs })`: fields appended after `cpuSystemUs`.
 * Returns `invoke(event, requestId)`, which never rejects: a throwing handler
 * becomes an envelope with `error` and `result: null`.
 */
function createInvoker(options) {
  const clockSkewUs = options.clockSkewUs || 0
  let functionModule = null
  let knownContainerId = null
  let coldWorker = true

  function epochMicros() {
    return Math.round((performance.timeOrigin + performance.now()) * 1000) + clockSkewUs
  }

  function containerState() {
    if (knownContainerId !== null) return { isCold: false, containerId: knownContainerId }
    const marker = markerPath()
    let containerId = null
    let isCold = false
    try {
      containerId = fs.readFileSync(marker, 'utf8').trim() || null
    } catch (err) {
      if (err.code !== 'ENOENT') throw err
    }
    if (containerId === null) {
      containerId = shortId()
      fs.writeFileSync(marker, containerId)
      isCold = true
    }
    // A file read per invocation is a measurable share of a no-op's warm round trip.
    if (options.rememberContainer) knownContainerId = containerId
    return { isCold, containerId }
  }

  return async function invoke(event, requestId) {
    const incomeTimestamp = Date.now() / 1000 + clockSkewUs / 1e6
    // SeBS's wrappers add these two fields; 030.clock-synchronization reads them.
    if (event !== null && typeof event === 'object' && !Array.isArray(event)) {
      event['request-id'] = requestId
      event['income-timestamp'] = incomeTimestamp
    }

    const state = options.beforeTiming ? options.beforeTiming() : undefined
    const usageBefore = process.resourceUsage()
    const begin = epochMicros()
    const start = process.hrtime.bigint()
    let result = null
    let measurement
    let error
    let importTimeUs = 0
    try {
      if (functionModule === null) {
        const importStart = process.hrtime.bigint()
        functionModule = options.load()
        importTimeUs = Number((process.hrtime.bigint() - importStart) / 1000n)
      }
      if (typeof functionModule.handler !== 'function') {
        throw new TypeError(`${options.functionFile} does not export a handler(event) function`)
      }
      const ret = await functionModule.handler(event)
      // SeBS handlers return { result, measurement? }; anything else is taken as the result itself.
      if (ret !== null && typeof ret === 'object' && !Array.isArray(ret) && 'result' in ret) {
        result = ret.result === undefined ? null : ret.result
        if (ret.measurement !== null && typeof ret.measurement === 'object') measurement = ret.measurement
      } else {
        result = ret === undefined ? null : ret
      }
    } catch (err) {
      error = describeError(err)
      result = null
      measurement = undefined
    }
    const computeTimeUs = Number((process.hrtime.bigint() - start) / 1000n)
    const end = epochMicros()
    const usageAfter = process.resourceUsage()
    const { isCold, containerId } = containerState()

    const envelope = { begin, end, computeTimeUs, isCold }
    if (options.coldWorker) {
      envelope.isColdWorker = coldWorker
      coldWorker = false
    }
    Object.assign(envelope, {
      containerId,
      requestId,
      result,
      // Linux reports maxRSS in KiB.
      rssPeakKb: usageAfter.maxRSS,
      cpuUserUs: usageAfter.userCPUTime - usageBefore.userCPUTime,
      cpuSystemUs: usageAfter.systemCPUTime - usageBefore.systemCPUTime,
    })
    if (options.extraFields) Object.assign(envelope, options.extraFields({ state, usageBefore, usageAfter, importTimeUs }))
    if (measurement !== undefined) envelope.measurement = measurement
    if (error !== undefined) envelope.error = error
    return envelope
  }
}

module.exports = { createInvoker, markerPath, shortId }
