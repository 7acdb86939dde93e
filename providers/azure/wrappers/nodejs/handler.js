'use strict'
/**
 * Azure Functions wrapper (Node.js, v3 programming model with function.json):
 * `module.exports = async function (context, req)` runs the benchmark's
 * `handler(event)` and returns the common envelope (DESIGN.md "Wrapper
 * envelope") through the `$return` HTTP output binding.
 *
 * Why the v3 model, not v4's `app.http()`: both languages then share one
 * package layout (host.json + a `function/` folder with function.json, as
 * SeBS deploys), and no `@azure/functions` dependency has to be bundled into
 * every package. v3 runs on Functions runtime 4 for Node 18/20; moving to v4
 * means registering the handler with `app.http` and dropping function.json.
 *
 * It sits in the function's folder next to the benchmark's `function.js`
 * (`scriptFile: handler.js`). Plain CommonJS, no dependencies.
 *
 * - The request body is the event (JSON). `requestId` is the invocation id,
 *   which Application Insights records as `customDimensions.InvocationId`.
 * - Cold detection follows SeBS: the first invocation in an instance finds no
 *   `cold_run` marker in /tmp (os.tmpdir()), writes one holding a fresh
 *   container id and reports `isCold: true`; later invocations read the id
 *   back. `isColdWorker` is true on the first invocation in this worker process.
 * - A failing benchmark is reported in the envelope's `error` with HTTP 200;
 *   non-200 answers therefore come from the platform (timeouts, crashes).
 * - A request with the `x-sebs-probe` header is answered without running the
 *   benchmark or touching the marker (see forceColdStart in the harness).
 */
const fs = require('fs')
const path = require('path')
const crypto = require('crypto')
// The wrapper core, copied beside this file by the packager (providers/packaging/wrapper-core).
const { createInvoker, markerPath, shortId } = require('./sebs-core.js')

const workerId = shortId()

/** Runs the benchmark once and builds the envelope. */
const run = createInvoker({
  load: () => require(path.join(__dirname, 'function.js')),
  functionFile: 'function.js',
  coldWorker: true,
  // SeBS's environ_container_id: the platform's name for the instance, when it sets one.
  extraFields: () => {
    const platformId = process.env.CONTAINER_NAME || process.env.WEBSITE_INSTANCE_ID
    return platformId ? { environContainerId: platformId } : {}
  },
})

function jsonResponse(body, status = 200) {
  return { status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }
}

/** The event from the request: v3 parses JSON bodies into `body` and keeps the text in `rawBody`. */
function eventOf(req) {
  if (typeof req.rawBody === 'string') return req.rawBody.trim() === '' ? {} : JSON.parse(req.rawBody)
  if (Buffer.isBuffer(req.rawBody)) return req.rawBody.length === 0 ? {} : JSON.parse(req.rawBody.toString('utf8'))
  if (req.body !== null && typeof req.body === 'object' && !Buffer.isBuffer(req.body)) return req.body
  if (typeof req.body === 'string') return req.body.trim() === '' ? {} : JSON.parse(req.body)
  return {}
}

function header(req, name) {
  const headers = req.headers || {}
  return headers[name] !== undefined ? headers[name] : headers[name.toLowerCase()]
}

/** The Azure Functions entry point. Never rejects for a failing benchmark: the envelope carries `error`. */
module.exports = async function (context, req) {
  if (header(req, 'x-sebs-probe')) {
    return jsonResponse({
      probe: true,
      coldStartCounter: process.env.SEBS_COLD_START === undefined ? null : process.env.SEBS_COLD_START,
      workerId,
      markerExists: fs.existsSync(markerPath()),
    })
  }
  const requestId = (context && (context.invocationId || (context.executionContext && context.executionContext.invocationId))) || crypto.randomUUID()
  let event
  try {
    event = eventOf(req || {})
  } catch (err) {
    return jsonResponse({ error: { type: 'BadRequest', message: `request body is not JSON: ${err.message}` } }, 400)
  }
  return jsonResponse(await run(event, requestId))
}
