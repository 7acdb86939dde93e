'use strict'
/**
 * Local provider wrapper (Node.js): runs the benchmark's `handler(event)` and
 * returns the common envelope (DESIGN.md "Wrapper envelope").
 *
 * Plain CommonJS with no dependencies: it is copied to the package root and
 * runs inside the function instance, not under the harness's TypeScript.
 *
 * Cold detection follows SeBS: the first invocation in an instance finds no
 * `cold_run` marker in the instance's temp directory, creates one holding a
 * fresh container id, and reports `isCold: true`; later invocations read the
 * id back. The provider gives every instance its own TMPDIR.
 */
const fs = require('fs')
const os = require('os')
const path = require('path')
const crypto = require('crypto')
const { performance } = require('perf_hooks')

/** The benchmark module, required lazily inside the timed region (as SeBS does). */
let functionModule = null

function epochMicros() {
  return Math.round((performance.timeOrigin + performance.now()) * 1000)
}

function containerState() {
  const marker = path.join(os.tmpdir(), 'cold_run')
  try {
    const id = fs.readFileSync(marker, 'utf8').trim()
    if (id) return { isCold: false, containerId: id }
  } catch (err) {
    if (err.code !== 'ENOENT') throw err
  }
  const id = crypto.randomUUID().replace(/-/g, '').slice(0, 8)
  fs.writeFileSync(marker, id)
  return { isCold: true, containerId: id }
}

function describeError(err) {
  if (err instanceof Error) {
    return { type: err.name || 'Error', message: err.message, trace: err.stack }
  }
  return { type: typeof err, message: String(err) }
}

/**
 * Invokes the benchmark once. Never rejects: a throwing handler becomes an
 * envelope with `error` and `result: null`.
 */
async function handle(event, requestId) {
  const incomeTimestamp = Date.now() / 1000
  // SeBS's Python wrappers add these two fields; 030.clock-synchronization reads them.
  if (event !== null && typeof event === 'object' && !Array.isArray(event)) {
    event['request-id'] = requestId
    event['income-timestamp'] = incomeTimestamp
  }

  const usageBefore = process.resourceUsage()
  const begin = epochMicros()
  const start = process.hrtime.bigint()
  let result = null
  let measurement
  let error
  try {
    if (functionModule === null) {
      functionModule = require(path.join(__dirname, 'function', 'function.js'))
    }
    if (typeof functionModule.handler !== 'function') {
      throw new TypeError('function/function.js does not export a handler(event) function')
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

  const envelope = {
    begin,
    end,
    computeTimeUs,
    isCold,
    containerId,
    requestId,
    result,
    rssPeakKb: usageAfter.maxRSS,
    cpuUserUs: usageAfter.userCPUTime - usageBefore.userCPUTime,
    cpuSystemUs: usageAfter.systemCPUTime - usageBefore.systemCPUTime,
  }
  if (measurement !== undefined) envelope.measurement = measurement
  if (error !== undefined) envelope.error = error
  return envelope
}

module.exports = { handle }
