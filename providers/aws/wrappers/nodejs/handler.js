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
const path = require('path')
const crypto = require('crypto')
// The wrapper core, copied beside this file by the packager (providers/packaging/wrapper-core).
const { createInvoker } = require('./sebs-core.js')

/** Runs the benchmark once and builds the envelope. */
const run = createInvoker({
  load: () => require(path.join(__dirname, 'function', 'function.js')),
  functionFile: 'function/function.js',
})

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
