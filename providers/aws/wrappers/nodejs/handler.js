'use strict'
/**
 * AWS Lambda wrapper (Node.js), Lambda handler `handler.handler`: runs the
 * benchmark's `handler(event)` and returns the common envelope (DESIGN.md
 * "Wrapper envelope").
 *
 * Plain CommonJS with no dependencies: it sits at the zip root beside the
 * benchmark's `function/` directory and runs inside the Lambda sandbox.
 *
 * - SDK invocations (`InvokeCommand`) get the envelope itself; Function URL
 *   and API Gateway events (which carry the request in `body`) get
 *   `{ statusCode: 200, headers, body: JSON }`, as SeBS's AWS wrapper does.
 * - Cold detection follows SeBS: the first invocation in an execution
 *   environment finds no `cold_run` marker in /tmp (os.tmpdir()), writes one
 *   holding a fresh container id and reports `isCold: true`; later
 *   invocations of the same environment read the id back.
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
  if (err instanceof Error) return { type: err.name || 'Error', message: err.message, trace: err.stack }
  return { type: typeof err, message: String(err) }
}

/** Function URL (payload 2.0) and API Gateway events carry the request in `body`. */
function isHttpEvent(event) {
  return (
    event !== null &&
    typeof event === 'object' &&
    !Array.isArray(event) &&
    (typeof event.body === 'string' || (event.requestContext && typeof event.requestContext === 'object' && 'http' in event.requestContext))
  )
}

function httpPayload(event) {
  if (typeof event.body !== 'string' || event.body === '') return {}
  const text = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body
  return JSON.parse(text)
}

async function run(event, requestId) {
  const incomeTimestamp = Date.now() / 1000
  // SeBS's wrappers add these two fields; 030.clock-synchronization reads them.
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
    if (functionModule === null) functionModule = require(path.join(__dirname, 'function', 'function.js'))
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

/** The Lambda entry point. Never rejects for a failing benchmark: the envelope carries `error`. */
async function handler(event, context) {
  const requestId = (context && context.awsRequestId) || crypto.randomUUID()
  if (!isHttpEvent(event)) return run(event, requestId)
  let payload
  try {
    payload = httpPayload(event)
  } catch (err) {
    return {
      statusCode: 400,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ error: { type: 'BadRequest', message: `request body is not JSON: ${err.message}` } }),
    }
  }
  const envelope = await run(payload, requestId)
  return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(envelope) }
}

module.exports = { handler }
